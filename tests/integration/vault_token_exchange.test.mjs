// Token exchange (RFC 8693) at /oauth/token: a tenant's trusted backend client trades a user's
// Gatehouse access token for that user's access token at one of the tenant's connections. The
// happy path with both client authentication methods, and each error the RFCs define.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, signUp } from '../lib/gatehouse.mjs';
import {
  startVaultStack, tenantWithUsers, createConnection, connectAccount, createClient, exchange, postForm,
  TOKEN_EXCHANGE, ACCESS_TOKEN_TYPE,
} from '../lib/vault.mjs';

describe('token exchange for trusted backend clients', () => {
  let gh;
  let fake;
  let admin;
  let user;        // connected
  let stranger;    // same tenant, not connected
  let client;
  let otherAdmin;  // another tenant
  let otherClient;

  before(async () => {
    ({ gh, fake } = await startVaultStack());
    ({ admin, members: [user, stranger] } = await tenantWithUsers(gh, { users: 2 }));
    await createConnection(gh, admin, fake);
    await connectAccount(gh, user);
    client = await createClient(gh, admin, ['token_exchange']);
    otherAdmin = await signUp(gh, { tier: 'advanced' });
    otherClient = await createClient(gh, otherAdmin, ['token_exchange', 'ciba']);
  });
  after(async () => { await gh.stop(); await fake.close(); });

  test('a client exchanges a user\'s access token for their token at a connection', async () => {
    const res = await exchange(gh, client, user.token);
    assert.equal(res.status, 200);
    assert.equal(res.body.issued_token_type, ACCESS_TOKEN_TYPE);
    assert.equal(res.body.token_type, 'Bearer');
    assert.ok(res.body.expires_in > 0);
    assert.equal(res.body.scope, 'calendar.read mail.send');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const who = await fetch(`${fake.issuer}/api/whoami`, { headers: { authorization: `Bearer ${res.body.access_token}` } });
    assert.equal(who.status, 200, 'the provider accepts it');
    // client_secret_post works the same; "resource" may name the connection instead of "audience".
    const post = await postForm(gh.url, '/oauth/token', {
      grant_type: TOKEN_EXCHANGE, subject_token: user.token, subject_token_type: ACCESS_TOKEN_TYPE,
      resource: 'urn:gatehouse:connection:fake', requested_token_type: ACCESS_TOKEN_TYPE, scope: 'calendar.read',
      client_id: client.client_id, client_secret: client.client_secret,
    });
    assert.equal(post.status, 200);
    assert.equal(post.body.access_token, res.body.access_token);
  });

  test('invalid_client: unknown, wrong, missing, revoked; both methods at once is invalid_request', async () => {
    const fields = { grant_type: TOKEN_EXCHANGE, subject_token: user.token, subject_token_type: ACCESS_TOKEN_TYPE, audience: 'fake' };
    const wrong = await postForm(gh.url, '/oauth/token', fields, { basic: [client.client_id, 'nope'] });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    assert.match(wrong.headers.get('www-authenticate'), /^Basic/);
    const unknown = await postForm(gh.url, '/oauth/token', fields, { basic: ['ghc_unknown', 'x'] });
    assert.equal(unknown.body.error, 'invalid_client');
    const missing = await postForm(gh.url, '/oauth/token', fields);
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error, 'invalid_client');
    const both = await postForm(gh.url, '/oauth/token', { ...fields, client_id: client.client_id, client_secret: client.client_secret },
      { basic: [client.client_id, client.client_secret] });
    assert.equal(both.status, 400);
    assert.equal(both.body.error, 'invalid_request');
    const doomed = await createClient(gh, admin, ['token_exchange'], 'Doomed');
    assert.equal((await exchange(gh, doomed, user.token)).status, 200);
    assert.equal((await api(gh.url, 'DELETE', `/api/tenants/${admin.tenant_id}/clients/${doomed.client_id}`, { token: admin.token })).status, 200);
    const revoked = await exchange(gh, doomed, user.token);
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error, 'invalid_client');
  });

  test('unauthorized_client: a client not allowed to exchange', async () => {
    const cibaOnly = await createClient(gh, admin, ['ciba'], 'CIBA only');
    const res = await exchange(gh, cibaOnly, user.token);
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'unauthorized_client');
  });

  test('invalid_request: missing or unsupported parameters, repeated ones, a JSON body', async () => {
    const cases = [
      [{ subject_token: '' }, 'a missing subject_token'],
      [{ subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }, 'an unsupported subject_token_type'],
      [{ requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }, 'an unsupported requested_token_type'],
      [{ audience: '' }, 'no audience'],
      [{ actor_token: 'x', actor_token_type: ACCESS_TOKEN_TYPE }, 'delegation (actor tokens)'],
    ];
    for (const [fields, what] of cases) {
      const res = await exchange(gh, client, user.token, fields);
      assert.equal(res.status, 400, what);
      assert.equal(res.body.error, 'invalid_request', what);
      assert.ok(res.body.error_description, what);
    }
    const repeated = `grant_type=${encodeURIComponent(TOKEN_EXCHANGE)}&subject_token=${user.token}&subject_token=${user.token}` +
      `&subject_token_type=${encodeURIComponent(ACCESS_TOKEN_TYPE)}&audience=fake`;
    const rep = await postForm(gh.url, '/oauth/token', repeated, { basic: [client.client_id, client.client_secret] });
    assert.equal(rep.body.error, 'invalid_request', 'a repeated parameter');
    const json = await fetch(`${gh.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(json.status, 400);
    assert.equal((await json.json()).error, 'invalid_request');
    const unsupported = await postForm(gh.url, '/oauth/token', { grant_type: 'client_credentials' }, { basic: [client.client_id, client.client_secret] });
    assert.equal(unsupported.body.error, 'unsupported_grant_type');
  });

  test('invalid_grant: a subject token that is not valid here', async () => {
    const garbage = await exchange(gh, client, 'not-a-token');
    assert.equal(garbage.status, 400);
    assert.equal(garbage.body.error, 'invalid_grant');
    const [h, p] = user.token.split('.');
    const forged = await exchange(gh, client, `${h}.${p}.${Buffer.from('sig').toString('base64url')}`);
    assert.equal(forged.body.error, 'invalid_grant', 'a bad signature');
    const crossTenant = await exchange(gh, otherClient, user.token);
    assert.equal(crossTenant.status, 400);
    assert.equal(crossTenant.body.error, 'invalid_grant', 'another tenant\'s client cannot use our user\'s token');
    assert.ok(!JSON.stringify(crossTenant.body).includes('access_token'));
  });

  test('invalid_target: no such connection, or no account there', async () => {
    const unknown = await exchange(gh, client, user.token, { audience: 'nope' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'invalid_target');
    const notConnected = await exchange(gh, client, stranger.token);
    assert.equal(notConnected.body.error, 'invalid_target');
    assert.match(notConnected.body.error_description, /account_not_connected/);
    const otherTenantsOwn = await exchange(gh, otherClient, otherAdmin.token);
    assert.equal(otherTenantsOwn.body.error, 'invalid_target', 'our connection does not exist in their tenant');
  });

  test('invalid_scope: more than the account holds', async () => {
    const res = await exchange(gh, client, user.token, { scope: 'calendar.read admin.everything' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_scope');
  });

  test('clients are managed by the tenant\'s admins only', async () => {
    const base = `/api/tenants/${admin.tenant_id}/clients`;
    assert.equal((await api(gh.url, 'GET', base, { token: user.token })).status, 403);
    assert.equal((await api(gh.url, 'POST', base, { token: otherAdmin.token, body: { name: 'x', grant_types: ['ciba'] } })).status, 403);
    assert.equal((await api(gh.url, 'DELETE', `${base}/${client.client_id}`, { token: otherAdmin.token })).status, 403);
    assert.equal((await api(gh.url, 'DELETE', `/api/tenants/${otherAdmin.tenant_id}/clients/${client.client_id}`, { token: otherAdmin.token })).status, 404,
      'another tenant cannot revoke our client through its own path');
    const list = await api(gh.url, 'GET', base, { token: admin.token });
    assert.ok(list.body.clients.some((c) => c.client_id === client.client_id));
    assert.ok(!JSON.stringify(list.body).includes(client.client_secret), 'the secret is shown only once');
    const bad = await api(gh.url, 'POST', base, { token: admin.token, body: { name: 'x', grant_types: ['password'] } });
    assert.equal(bad.status, 422);
  });
});
