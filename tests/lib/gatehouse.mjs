// Test harness: starts the real gatehouse binary on a free port with a fresh data directory and
// offers helpers that drive it over real HTTP. Used by integration and browser tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const binary = process.env.GATEHOUSE_BIN || path.join(repoRoot, 'build', 'gatehouse');

// Starts gatehouse. Options: demo (bool), args (extra CLI args), env (extra env), dataDir (reuse).
export async function startGatehouse(opts = {}) {
  const dataDir = opts.dataDir || mkdtempSync(path.join(tmpdir(), 'gh-test-'));
  const args = ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...(opts.args || [])];
  if (opts.demo) args.push('--demo');
  const child = spawn(binary, args, {
    env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info', ...(opts.env || {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const lines = [];
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatehouse did not start:\n${output}`)), 30000);
    const onData = (chunk) => {
      output += chunk.toString();
      let idx;
      while ((idx = output.indexOf('\n')) >= 0) {
        const line = output.slice(0, idx);
        output = output.slice(idx + 1);
        lines.push(line);
        try {
          const rec = JSON.parse(line);
          if (rec.msg === 'listening' && rec.port) {
            clearTimeout(timer);
            resolve(rec.port);
          }
        } catch { /* not JSON */ }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => { lines.push(c.toString()); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse exited with ${code} before listening:\n${lines.join('\n')}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  let stopping = false;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    // A crash must be visible in the test output, not only as a failed fetch.
    if (!stopping && (signal || code)) console.error(`gatehouse died (code ${code}, signal ${signal}); last output:\n${lines.slice(-20).join('\n')}`);
    resolve({ code, signal });
  }));
  return {
    url, port, dataDir, child, lines,
    exited,
    // Sends SIGTERM and waits for exit; returns {code, signal}.
    async stop({ keepData = false } = {}) {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const res = await exited;
      if (!keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return res;
    },
    outbox() { return readOutbox(dataDir); },
    verificationCode(email) { return latestVerificationCode(dataDir, email); },
  };
}

export function readOutbox(dataDir) {
  const dir = path.join(dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.eml')).sort()
    .map((f) => ({ file: f, text: readFileSync(path.join(dir, f), 'utf8') }));
}

export function latestVerificationCode(dataDir, email) {
  const mails = readOutbox(dataDir).filter((m) => m.text.includes(`To: ${email}`));
  if (!mails.length) throw new Error(`no mail for ${email}`);
  const m = mails[mails.length - 1].text.match(/verification code is (\d{6})/);
  if (!m) throw new Error(`no code in mail for ${email}`);
  return m[1];
}

// JSON request helper: returns {status, headers, body} where body is parsed JSON (or text).
export async function api(base, method, pathName, { token, body, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] ??= 'application/json'; }
  const res = await fetch(base + pathName, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* keep text */ }
  return { status: res.status, headers: res.headers, body: parsed };
}

let counter = 0;
export function uniqueEmail(prefix = 'user') {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now()}-${counter}@example.com`;
}

export const strongPassword = 'Sunny-Day-42!';

// Registers (new tenant or invitation), verifies through the outbox, logs in. Returns tokens + ids.
export async function signUp(gh, { email = uniqueEmail(), password = strongPassword, tenantName,
  tier = 'basic', inviteCode } = {}) {
  const body = inviteCode ? { email, password, invite_code: inviteCode }
    : { email, password, tenant_name: tenantName || `Tenant ${email}`, subscription_tier: tier };
  const reg = await api(gh.url, 'POST', '/api/auth/register', { body });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
  const code = gh.verificationCode(email);
  const ver = await api(gh.url, 'POST', '/api/auth/verify', { body: { email, code } });
  if (ver.status !== 200) throw new Error(`verify failed: ${ver.status} ${JSON.stringify(ver.body)}`);
  const login = await api(gh.url, 'POST', '/api/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { email, password, ...reg.body, ...login.body, token: login.body.access_token };
}

// Reads a text/event-stream response into [{event, data}] (data parsed as JSON when possible).
export async function readSse(res) {
  const text = await res.text();
  return parseSse(text);
}

export function parseSse(text) {
  const events = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':') || !line) continue;
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (!data.length) continue;
    const joined = data.join('\n');
    let parsed = joined;
    try { parsed = JSON.parse(joined); } catch { /* keep */ }
    events.push({ event, data: parsed });
  }
  return events;
}
