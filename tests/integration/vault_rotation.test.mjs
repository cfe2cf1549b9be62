// Master-key rotation from the operator CLI: `gatehouse admin keys rotate-master` re-wraps the
// tenant data keys (and the token signing keys) under a new master key, without touching a sealed
// token; the restarted server still hands out the user's provider token and still accepts logins,
// and a server given the old key back does not serve secrets with it.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, binary, startGatehouse, strongPassword } from '../lib/gatehouse.mjs';
import { startFakeProvider } from '../fakes/oauth_provider.mjs';
import { connectAccount, createClient, createConnection, exchange, sqlite, tenantWithUsers, vaultEnv } from '../lib/vault.mjs';

function logIn(gh, who) {
  return api(gh.url, 'POST', '/api/auth/login', { body: { email: who.email, password: strongPassword } });
}

describe('master-key rotation', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-rotate-'));
  let gh;
  let fake;
  after(async () => {
    await gh?.stop();
    await fake?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('rotate-master re-wraps the keys; tokens and logins work after a restart; the old key does not', async () => {
    gh = await startGatehouse({ env: vaultEnv, dataDir });
    fake = await startFakeProvider({ redirectUri: `${gh.url}/oauth/callback` });
    const { admin, members: [user] } = await tenantWithUsers(gh, { users: 1 });
    await createConnection(gh, admin, fake);
    assert.equal((await connectAccount(gh, user)).status, 302);
    const client = await createClient(gh, admin, ['token_exchange']);
    const before = await exchange(gh, client, user.token);
    assert.equal(before.status, 200, JSON.stringify(before.body));
    const providerToken = before.body.access_token;

    const sealedBefore = sqlite(dataDir, "SELECT access_token_sealed || '|' || refresh_token_sealed FROM vault_accounts");
    const wrappedBefore = sqlite(dataDir, 'SELECT wrapped_key FROM vault_data_keys ORDER BY tenant_id');
    const oldKey = readFileSync(path.join(dataDir, 'master.key'), 'utf8');
    assert.equal((await gh.stop()).code, 0);

    const run = spawnSync(binary, ['admin', 'keys', 'rotate-master', '--data-dir', dataDir], { encoding: 'utf8' });
    assert.equal(run.status, 0, `rotate-master failed: ${run.stdout}${run.stderr}`);
    const newKey = readFileSync(path.join(dataDir, 'master.key'), 'utf8');
    assert.notEqual(newKey, oldKey, 'master.key holds the new key');
    assert.ok(!existsSync(path.join(dataDir, 'master.key.next')), 'the pending key file is gone once committed');
    assert.equal(sqlite(dataDir, "SELECT access_token_sealed || '|' || refresh_token_sealed FROM vault_accounts"), sealedBefore,
      'sealed tokens are not touched');
    assert.notEqual(sqlite(dataDir, 'SELECT wrapped_key FROM vault_data_keys ORDER BY tenant_id'), wrappedBefore,
      'the data keys are wrapped anew');
    assert.ok(!`${run.stdout}${run.stderr}`.includes(providerToken), 'the CLI prints no token');

    gh = await startGatehouse({ env: vaultEnv, dataDir });
    const login = await logIn(gh, user);
    assert.equal(login.status, 200, 'logins work: the signing keys opened with the new master key');
    const after = await exchange(gh, client, login.body.access_token);
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(after.body.access_token, providerToken, 'the same provider token, read through the new key');
    assert.equal((await gh.stop()).code, 0);

    // The old key put back: the server does not come up with keys it cannot open.
    writeFileSync(path.join(dataDir, 'master.key'), oldKey, { mode: 0o600 });
    const stale = spawnSync(binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir],
      { encoding: 'utf8', env: { ...process.env, ...vaultEnv }, timeout: 20_000 });
    assert.notEqual(stale.status, 0, `a server on the old master key must not start: ${stale.stdout}${stale.stderr}`);
    assert.match(`${stale.stdout}${stale.stderr}`, /master key/i, 'and it says the master key is the problem');
    gh = undefined;
  });
});
