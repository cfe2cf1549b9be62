// The token vault against a real third-party OAuth server (oidc-provider): a tenant admin
// configures a connection (discovered from the issuer, or from a preset), a user connects their
// account with the authorization code flow (PKCE, single-use state bound to the browser that
// started it), sees it, and disconnects it (revoked upstream). Tokens never appear in answers,
// logs, or the database file; another tenant sees none of it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { api, signUp } from '../lib/gatehouse.mjs';
import {
  startVaultStack, tenantWithUsers, createConnection, connectAccount, completeCallback, createClient, exchange,
} from '../lib/vault.mjs';

describe('token vault: connections and connected accounts', () => {
  let gh;
  let fake;
  let admin;
  let member;
  let other;  // another tenant's admin

  before(async () => {
    ({ gh, fake } = await startVaultStack());
    ({ admin, members: [member] } = await tenantWithUsers(gh, { users: 1 }));
    other = await signUp(gh, { tier: 'advanced' });
  });
  after(async () => { await gh.stop(); await fake.close(); });

  test('a tenant admin configures a connection from the issuer; the secret is never shown', async () => {
    const conn = await createConnection(gh, admin, fake);
    assert.equal(conn.authorization_endpoint, `${fake.issuer}/auth`, 'discovered');
    assert.equal(conn.token_endpoint, `${fake.issuer}/token`);
    assert.equal(conn.revocation_endpoint, `${fake.issuer}/token/revocation`);
    assert.equal(conn.redirect_uri, `${gh.url}/oauth/callback`);
    assert.equal(conn.client_secret_set, true);
    assert.ok(!JSON.stringify(conn).includes(fake.clientSecret), 'no secret in the answer');
    const list = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/connections`, { token: admin.token });
    assert.deepEqual(list.body.connections.map((c) => c.id), ['fake']);
    assert.ok(!JSON.stringify(list.body).includes(fake.clientSecret));
  });

  test('presets fill in the endpoints of common providers; bad input is refused', async () => {
    const google = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/connections`, {
      token: admin.token, body: { preset: 'google', client_id: 'cid.apps.googleusercontent.com', client_secret: 's3cret' },
    });
    assert.equal(google.status, 201);
    assert.equal(google.body.id, 'google');
    assert.equal(google.body.token_endpoint, 'https://oauth2.googleapis.com/token');
    assert.equal(google.body.authorization_params.access_type, 'offline');
    const presets = await api(gh.url, 'GET', '/api/connection-presets', { token: member.token });
    assert.deepEqual(presets.body.presets.map((p) => p.name).sort(),
      ['atlassian', 'github', 'google', 'microsoft', 'salesforce', 'slack']);
    const dup = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/connections`, {
      token: admin.token, body: { preset: 'google', client_id: 'x', client_secret: 'y' },
    });
    assert.equal(dup.status, 409);
    const noSecret = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/connections`, {
      token: admin.token, body: { id: 'nosecret', preset: 'github', client_id: 'x' },
    });
    assert.equal(noSecret.status, 422);
    const badUrl = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/connections`, {
      token: admin.token,
      body: { id: 'bad', authorization_endpoint: 'javascript:alert(1)', token_endpoint: 'https://x.test/t', client_id: 'x', client_secret: 'y' },
    });
    assert.equal(badUrl.status, 422);
    const updated = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/connections/google`, {
      token: admin.token, body: { display_name: 'Google Workspace' },
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.display_name, 'Google Workspace');
    assert.equal(updated.body.token_endpoint, 'https://oauth2.googleapis.com/token', 'the same preset keeps its endpoints');
    // The presets say everything a preset fills in.
    const googlePreset = presets.body.presets.find((p) => p.name === 'google');
    assert.equal(googlePreset.authorization_params.access_type, 'offline');
    assert.match(googlePreset.token_endpoint_auth_method, /^client_secret_(basic|post)$/);
    assert.equal(presets.body.presets.find((p) => p.name === 'github').token_endpoint_auth_method, 'client_secret_post');
    // Another provider's preset on an update takes that provider's endpoints and defaults (the
    // label never disagrees with the endpoints); the client id and secret stay.
    const moved = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/connections/google`, {
      token: admin.token, body: { preset: 'github' },
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.preset, 'github');
    assert.equal(moved.body.authorization_endpoint, 'https://github.com/login/oauth/authorize');
    assert.equal(moved.body.token_endpoint, 'https://github.com/login/oauth/access_token');
    assert.equal(moved.body.revocation_endpoint, null, 'GitHub has no revocation endpoint');
    assert.equal(moved.body.scopes, 'read:user');
    assert.equal(moved.body.token_endpoint_auth_method, 'client_secret_post');
    assert.deepEqual(moved.body.authorization_params, {});
    assert.equal(moved.body.client_id, 'cid.apps.googleusercontent.com');
    assert.equal(moved.body.client_secret_set, true);
    assert.equal(moved.body.issuer, null, 'no issuer left from the previous provider');
    assert.equal((await api(gh.url, 'DELETE', `/api/tenants/${admin.tenant_id}/connections/google`, { token: admin.token })).status, 200);
  });

  test('an edit that sends the same issuer back keeps the endpoints set by hand; a new issuer is discovered', async () => {
    const base = `/api/tenants/${admin.tenant_id}/connections`;
    const conn = await createConnection(gh, admin, fake, { id: 'fake-edit' });
    assert.equal(conn.token_endpoint, `${fake.issuer}/token`, 'discovered');
    const own = await api(gh.url, 'PUT', `${base}/fake-edit`, { token: admin.token, body: { token_endpoint: 'https://tokens.example.test/token' } });
    assert.equal(own.status, 200, JSON.stringify(own.body));
    assert.equal(own.body.token_endpoint, 'https://tokens.example.test/token');
    const resent = await api(gh.url, 'PUT', `${base}/fake-edit`, {
      token: admin.token, body: { issuer: fake.issuer, display_name: 'Renamed' },
    });
    assert.equal(resent.status, 200, JSON.stringify(resent.body));
    assert.equal(resent.body.display_name, 'Renamed');
    assert.equal(resent.body.token_endpoint, 'https://tokens.example.test/token', 'not replaced by discovery');
    assert.equal(resent.body.authorization_endpoint, `${fake.issuer}/auth`);
    // A changed issuer is discovered (here one that does not answer: the edit is refused, nothing changes).
    const moved = await api(gh.url, 'PUT', `${base}/fake-edit`, { token: admin.token, body: { issuer: 'http://127.0.0.1:9/nowhere' } });
    assert.ok(moved.status >= 400, JSON.stringify(moved.body));
    const kept = await api(gh.url, 'GET', `${base}/fake-edit`, { token: admin.token });
    assert.equal(kept.body.issuer, fake.issuer);
    assert.equal(kept.body.token_endpoint, 'https://tokens.example.test/token');
    assert.equal((await api(gh.url, 'DELETE', `${base}/fake-edit`, { token: admin.token })).status, 200);
  });

  test('only the tenant\'s admins manage connections, and only their own tenant\'s', async () => {
    const base = `/api/tenants/${admin.tenant_id}/connections`;
    assert.equal((await api(gh.url, 'GET', base, { token: member.token })).status, 403, 'a member');
    assert.equal((await api(gh.url, 'GET', base, { token: other.token })).status, 403, 'another tenant');
    assert.equal((await api(gh.url, 'POST', base, { token: other.token, body: { preset: 'github', client_id: 'x', client_secret: 'y' } })).status, 403);
    assert.equal((await api(gh.url, 'PUT', `${base}/fake`, { token: other.token, body: { display_name: 'x' } })).status, 403);
    assert.equal((await api(gh.url, 'DELETE', `${base}/fake`, { token: other.token })).status, 403);
    const own = await api(gh.url, 'GET', `/api/tenants/${other.tenant_id}/connections`, { token: other.token });
    assert.deepEqual(own.body.connections, [], 'another tenant sees none of ours');
    const connect = await api(gh.url, 'POST', '/api/me/connected-accounts/fake/connect', { token: other.token, body: {} });
    assert.equal(connect.status, 404, 'nor can its users connect to it');
  });

  test('a user connects an account: PKCE and state, tokens stored, the account listed without tokens', async () => {
    const res = await connectAccount(gh, member);
    assert.equal(res.status, 302);
    assert.equal(res.location, '/connected-accounts?connected=fake');
    const url = new URL(res.authorizationUrl);
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.match(url.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    assert.ok(url.searchParams.get('state').length >= 43);
    assert.match(res.cookie, /^gh_oauth_binding=/);
    const mine = await api(gh.url, 'GET', '/api/me/connected-accounts', { token: member.token });
    assert.equal(mine.body.accounts.length, 1);
    const acct = mine.body.accounts[0];
    assert.equal(acct.connection_id, 'fake');
    assert.equal(acct.status, 'connected');
    assert.equal(acct.refreshable, true);
    assert.equal(acct.scope, 'calendar.read mail.send');
    for (const t of fake.liveTokens()) assert.ok(!JSON.stringify(mine.body).includes(t), 'no token in the answer');
    const theirs = await api(gh.url, 'GET', '/api/me/connected-accounts', { token: admin.token });
    assert.deepEqual(theirs.body.accounts, [], 'accounts are per user');
    assert.equal(theirs.body.connections[0].status, 'not_connected');
    // With an account connected, the connection cannot become another provider (the user's
    // refresh token would go to that provider's token endpoint); a rename still works.
    const base = `/api/tenants/${admin.tenant_id}/connections/fake`;
    const before = await api(gh.url, 'GET', base, { token: admin.token });
    const moved = await api(gh.url, 'PUT', base, { token: admin.token, body: { preset: 'github' } });
    assert.equal(moved.status, 409, JSON.stringify(moved.body));
    assert.equal(moved.body.error.code, 'connection_in_use');
    assert.deepEqual((await api(gh.url, 'GET', base, { token: admin.token })).body, before.body, 'nothing changed');
    const renamed = await api(gh.url, 'PUT', base, { token: admin.token, body: { display_name: 'Fake Provider' } });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
  });

  test('a link started by one user cannot be completed by another', async () => {
    // The member starts; the provider's redirect is opened in the admin's browser (other cookie).
    const started = await connectAccount(gh, member, 'fake', { complete: false });
    const stranger = await connectAccount(gh, admin, 'fake', { complete: false });
    const hijack = await completeCallback(started.callbackUrl, stranger.cookie);
    assert.equal(hijack.status, 302);
    assert.match(hijack.location, /error=state_binding_mismatch/);
    const none = await completeCallback(started.callbackUrl, undefined);
    assert.match(none.location, /error=state_binding_mismatch/, 'no cookie at all');
    // The member's own browser still completes it, once.
    const own = await completeCallback(started.callbackUrl, started.cookie);
    assert.equal(own.location, '/connected-accounts?connected=fake');
    const replay = await completeCallback(started.callbackUrl, started.cookie);
    assert.match(replay.location, /error=invalid_state/, 'single use');
    const adminAccounts = await api(gh.url, 'GET', '/api/me/connected-accounts', { token: admin.token });
    assert.deepEqual(adminAccounts.body.accounts, [], 'the admin got nothing from the member\'s link');
  });

  test('a refusal at the provider comes back as a clear error', async () => {
    fake.refuseNext = true;
    const res = await connectAccount(gh, admin);
    assert.match(res.location, /^\/connected-accounts\?error=connect_refused/);
    const forged = await completeCallback(`${gh.url}/oauth/callback?code=abc&state=forged`, res.cookie);
    assert.match(forged.location, /error=invalid_state/);
  });

  test('no token appears in the database file, the logs or any answer', async () => {
    const client = await createClient(gh, admin, ['token_exchange']);
    const x = await exchange(gh, client, member.token);
    assert.equal(x.status, 200);
    const live = fake.liveTokens();
    assert.ok(live.includes(x.body.access_token));
    const files = readdirSync(gh.dataDir).filter((f) => f.startsWith('gatehouse.db'));
    const raw = files.map((f) => readFileSync(path.join(gh.dataDir, f)).toString('latin1')).join('\n');
    assert.ok(raw.includes('vault_accounts'), 'the database was read');
    for (const t of live) assert.ok(!raw.includes(t), `token ${t.slice(0, 6)}… is not stored in plaintext`);
    assert.ok(!raw.includes(fake.clientSecret), 'nor is the client secret');
    const logs = gh.lines.join('\n');
    for (const t of live) assert.ok(!logs.includes(t), 'no token in the logs');
    assert.ok(!logs.includes(fake.clientSecret), 'no client secret in the logs');
    assert.ok(!logs.includes(client.client_secret), 'no backend client secret in the logs');
  });

  test('disconnecting revokes the grant upstream and forgets the account', async () => {
    const client = await createClient(gh, admin, ['token_exchange']);
    const x = await exchange(gh, client, member.token);
    const before = fake.revocations;
    assert.equal((await fetch(`${fake.issuer}/api/whoami`, { headers: { authorization: `Bearer ${x.body.access_token}` } })).status, 200);
    const other = await api(gh.url, 'DELETE', '/api/me/connected-accounts/fake', { token: admin.token });
    assert.equal(other.status, 404, 'nothing to disconnect for a user without an account');
    const res = await api(gh.url, 'DELETE', '/api/me/connected-accounts/fake', { token: member.token });
    assert.equal(res.status, 200);
    assert.equal(res.body.revoked, true);
    assert.equal(fake.revocations, before + 1);
    const after = await fetch(`${fake.issuer}/api/whoami`, { headers: { authorization: `Bearer ${x.body.access_token}` } });
    assert.equal(after.status, 401, 'the provider no longer accepts the token');
    const mine = await api(gh.url, 'GET', '/api/me/connected-accounts', { token: member.token });
    assert.deepEqual(mine.body.accounts, []);
    const again = await exchange(gh, client, member.token);
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_target');
  });
});
