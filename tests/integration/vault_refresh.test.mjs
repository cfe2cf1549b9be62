// Access tokens refresh before they expire, once even when many requests need the token at the
// same moment; a refresh the provider rejects marks the account for re-consent and tells the user.
// The provider is oidc-provider; its access-token lifetime is set per test (Gatehouse refreshes
// tokens that expire within 60 seconds).
import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { api } from '../lib/gatehouse.mjs';
import {
  startVaultStack, tenantWithUsers, createConnection, connectAccount, createClient, exchange, openFeed,
} from '../lib/vault.mjs';

describe('token vault: refresh', () => {
  let gh;
  let fake;
  let admin;
  let user;
  let client;

  beforeEach(async () => {
    ({ gh, fake } = await startVaultStack());
    ({ admin, members: [user] } = await tenantWithUsers(gh, { users: 1 }));
    await createConnection(gh, admin, fake);
    client = await createClient(gh, admin, ['token_exchange']);
  });
  afterEach(async () => { await gh.stop(); await fake.close(); });

  test('a token about to expire is refreshed before it is used', async () => {
    fake.accessTokenTtl = 5;  // within the refresh window from the start
    await connectAccount(gh, user);
    fake.accessTokenTtl = 3600;
    const first = await exchange(gh, client, user.token);
    assert.equal(first.status, 200);
    assert.equal(fake.refreshCount(), 1, 'refreshed once');
    assert.ok(first.body.expires_in > 3000, 'the fresh token is handed out');
    const second = await exchange(gh, client, user.token);
    assert.equal(second.body.access_token, first.body.access_token, 'no refresh while it is fresh');
    assert.equal(fake.refreshCount(), 1);
    const ok = await fetch(`${fake.issuer}/api/whoami`, { headers: { authorization: `Bearer ${second.body.access_token}` } });
    assert.equal(ok.status, 200);
    const acct = (await api(gh.url, 'GET', '/api/me/connected-accounts', { token: user.token })).body.accounts[0];
    assert.ok(acct.refreshed_at, 'the account shows when it was refreshed');
  });

  test('many requests needing a refresh at once make one upstream call', async () => {
    fake.accessTokenTtl = 5;
    await connectAccount(gh, user);
    fake.accessTokenTtl = 3600;
    fake.tokenDelayMs = 400;  // the refresh is slow: every request arrives while it is in flight
    const results = await Promise.all(Array.from({ length: 12 }, () => exchange(gh, client, user.token)));
    assert.deepEqual(results.map((r) => r.status), Array(12).fill(200));
    assert.equal(fake.refreshCount(), 1, 'exactly one refresh_token grant reached the provider');
    assert.equal(new Set(results.map((r) => r.body.access_token)).size, 1, 'everyone got the same new token');
  });

  test('a refresh the provider rejects asks the user to connect again, and reconnecting fixes it', async () => {
    fake.accessTokenTtl = 5;
    await connectAccount(gh, user);
    const feed = openFeed(gh, user.token);
    await feed.waitFor((e) => e.event === 'ready');
    fake.revokeAll();  // the user withdrew consent at the provider
    const res = await exchange(gh, client, user.token);
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_target');
    assert.match(res.body.error_description, /reconsent_required/);
    assert.equal(fake.tokenRequests.filter((t) => t.grant_type === 'refresh_token' && t.status === 400).length, 1);
    const told = await feed.waitFor((e) => e.event === 'connected_account');
    assert.deepEqual(told.data, { connection_id: 'fake', status: 'reconsent_required' });
    const acct = (await api(gh.url, 'GET', '/api/me/connected-accounts', { token: user.token })).body.accounts[0];
    assert.equal(acct.status, 'reconsent_required');
    assert.match(acct.last_error, /invalid_grant/);
    const again = await exchange(gh, client, user.token);
    assert.equal(again.status, 400, 'no second upstream attempt');
    assert.equal(fake.refreshCount(), 1);
    fake.accessTokenTtl = 3600;
    await connectAccount(gh, user);
    const fixed = await exchange(gh, client, user.token);
    assert.equal(fixed.status, 200);
    assert.equal((await api(gh.url, 'GET', '/api/me/connected-accounts', { token: user.token })).body.accounts[0].status, 'connected');
    await feed.close();
  });
});
