// Starts a private, throwaway PostgreSQL server for a test file: initdb into a fresh directory,
// listening only on a Unix socket there. As root, the server runs as the `postgres` system user
// (initdb refuses root). Fails loudly when PostgreSQL cannot be started: CI must run these tests.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, existsSync, rmSync, chownSync, readFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';

function pgBin() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  if (!versions.length) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/install-deps.sh');
  versions.sort((a, b) => Number(b) - Number(a));
  return path.join(root, versions[0], 'bin');
}

export async function startPostgres() {
  const bin = pgBin();
  const base = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'gh-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid && process.getuid() === 0;
  // setpriv execs the program itself (no intermediate process), so signals reach the server.
  const wrap = (cmd, args) => (asRoot
    ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]]
    : [cmd, args]);
  if (asRoot) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('running as root needs the postgres system user (apt-get install postgresql)');
    chownSync(dir, Number(id.stdout), Number(gid.stdout));
  }
  const [icmd, iargs] = wrap(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const init = spawnSync(icmd, iargs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  const [pcmd, pargs] = wrap(path.join(bin, 'postgres'), ['-D', data, '-k', dir, '-c', "listen_addresses=", '-c', 'fsync=off',
    '-c', 'max_connections=200']);
  const server = spawn(pcmd, pargs, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout.on('data', (d) => { log += d; });
  server.stderr.on('data', (d) => { log += d; });
  const socket = path.join(dir, '.s.PGSQL.5432');
  const deadline = Date.now() + 30000;
  while (!(existsSync(socket) && log.includes('ready to accept connections'))) {
    if (server.exitCode !== null) throw new Error(`postgres exited: ${log}`);
    if (Date.now() > deadline) { server.kill('SIGKILL'); throw new Error(`postgres did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `postgresql://postgres@/postgres?host=${encodeURIComponent(dir)}`,
    dir,
    async stop() {
      if (server.exitCode === null) {
        server.kill('SIGINT');
        await new Promise((r) => server.on('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
    log: () => log,
  };
}
