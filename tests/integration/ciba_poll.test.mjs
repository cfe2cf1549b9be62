// OpenID CIBA (poll mode) with `openid-client` as the real client: a tenant's trusted backend
// client asks for a user's approval at /bc-authorize; the user sees it at once (live feed and
// API) and approves or denies it; the client polls the token endpoint until approved (tokens),
// denied (access_denied) or expired (expired_token). A client polling too fast gets slow_down.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startGatehouse, api, signUp } from '../lib/gatehouse.mjs';
import { tenantWithUsers, createClient, postForm, openFeed, sleep, vaultEnv, CIBA_GRANT } from '../lib/vault.mjs';

describe('CIBA: backchannel authentication in poll mode', () => {
  let gh;
  let admin;
  let user;
  let colleague;
  let outsider;  // another tenant
  let client;
  let config;    // openid-client's view of Gatehouse for `client`

  before(async () => {
    gh = await startGatehouse({ env: { ...vaultEnv, GATEHOUSE_APPROVALS_CIBA_INTERVAL_SECONDS: '1' } });
    ({ admin, members: [user, colleague] } = await tenantWithUsers(gh, { users: 2 }));
    outsider = await signUp(gh, { tier: 'basic' });
    client = await createClient(gh, admin, ['ciba']);
    config = await oidc.discovery(new URL(gh.url), client.client_id, client.client_secret, undefined,
      { execute: [oidc.allowInsecureRequests] });
  });
  after(async () => { await gh.stop(); });

  // Waits until the user has a pending request whose binding message is `message`.
  async function pendingFor(who, message) {
    for (let i = 0; i < 100; i += 1) {
      const list = await api(gh.url, 'GET', '/api/me/approvals', { token: who.token });
      const hit = list.body.approvals.find((a) => a.binding_message === message && a.status === 'pending');
      if (hit) return hit;
      await sleep(50);
    }
    throw new Error('no pending request');
  }

  test('discovery advertises the backchannel endpoint and the grants', () => {
    const meta = config.serverMetadata();
    assert.equal(meta.backchannel_authentication_endpoint, `${gh.url}/bc-authorize`);
    assert.ok(meta.grant_types_supported.includes(CIBA_GRANT));
    assert.ok(meta.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:token-exchange'));
    assert.deepEqual(meta.backchannel_token_delivery_modes_supported, ['poll']);
    assert.equal(meta.token_endpoint, `${gh.url}/oauth/token`);
  });

  test('the user approves: the polling client gets tokens for that user', async () => {
    const feed = openFeed(gh, user.token);
    const strangerFeed = openFeed(gh, colleague.token);
    await feed.waitFor((e) => e.event === 'ready');
    const details = [{ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '123.50' }, creditorName: 'Merchant A' }];
    const started = await oidc.initiateBackchannelAuthentication(config, {
      scope: 'openid email', login_hint: user.email, binding_message: 'Pay Merchant A 123.50 EUR',
      authorization_details: JSON.stringify(details),
    });
    assert.match(started.auth_req_id, /^[A-Za-z0-9_-]{43,}$/, 'at least 256 bits, URL-safe');
    assert.equal(started.interval, 1);
    assert.ok(started.expires_in > 0);
    const pushed = await feed.waitFor((e) => e.event === 'approval_requested');
    assert.equal(pushed.data.approval.binding_message, 'Pay Merchant A 123.50 EUR');
    assert.deepEqual(pushed.data.approval.authorization_details, details);
    assert.equal(pushed.data.approval.kind, 'ciba');
    assert.equal(pushed.data.approval.client_id, client.client_id);
    assert.equal(pushed.data.approval.client_name, client.name, 'the user is told which application asks, by name');
    assert.ok(!JSON.stringify(pushed.data).includes(started.auth_req_id), 'the auth_req_id is not shown to the user');

    const polling = oidc.pollBackchannelAuthenticationGrant(config, started);
    const pending = await pendingFor(user, 'Pay Merchant A 123.50 EUR');
    await sleep(1200);  // let the client poll at least once while pending
    const approve = await api(gh.url, 'POST', `/api/me/approvals/${pending.id}/approve`, { token: user.token, body: {} });
    assert.equal(approve.status, 200);
    assert.equal(approve.body.status, 'approved');
    const tokens = await polling;
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.claims().sub, user.user_id);
    assert.equal(tokens.claims().aud, client.client_id);
    assert.deepEqual(tokens.authorization_details, details);
    const me = await api(gh.url, 'GET', '/api/me', { token: tokens.access_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.email, user.email, 'the access token acts for the user who approved');
    const again = await postForm(gh.url, '/oauth/token', { grant_type: CIBA_GRANT, auth_req_id: started.auth_req_id },
      { basic: [client.client_id, client.client_secret] });
    assert.equal(again.status, 400);
    assert.equal(again.body.error, 'invalid_grant', 'an auth_req_id is single use');
    assert.ok(!strangerFeed.events.some((e) => e.event === 'approval_requested'), 'nobody else was told');
    await feed.close();
    await strangerFeed.close();
  });

  test('the user denies: the client gets access_denied', async () => {
    const started = await oidc.initiateBackchannelAuthentication(config, {
      scope: 'openid', login_hint: user.email, binding_message: 'Delete the backups',
    });
    const polling = oidc.pollBackchannelAuthenticationGrant(config, started).then(() => null, (e) => e);
    const pending = await pendingFor(user, 'Delete the backups');
    const deny = await api(gh.url, 'POST', `/api/me/approvals/${pending.id}/deny`, { token: user.token });
    assert.equal(deny.status, 200);
    assert.equal(deny.body.status, 'denied');
    const err = await polling;
    assert.ok(err, 'polling failed');
    assert.equal(err.error, 'access_denied');
    const twice = await api(gh.url, 'POST', `/api/me/approvals/${pending.id}/approve`, { token: user.token });
    assert.equal(twice.status, 409, 'a decision is final');
    assert.equal(twice.body.error.code, 'approval_already_decided');
  });

  test('nobody decides: the request expires and the client gets expired_token', async () => {
    const started = await oidc.initiateBackchannelAuthentication(config, {
      scope: 'openid', login_hint: user.email, binding_message: 'Expire me', requested_expiry: '2',
    });
    assert.equal(started.expires_in, 2);
    const err = await oidc.pollBackchannelAuthenticationGrant(config, started, undefined,
      { signal: AbortSignal.timeout(15000) }).then(() => null, (e) => e);
    assert.equal(err?.error, 'expired_token');
    const list = await api(gh.url, 'GET', '/api/me/approvals', { token: user.token });
    const rec = list.body.approvals.find((a) => a.binding_message === 'Expire me');
    assert.equal(rec.status, 'expired');
    const late = await api(gh.url, 'POST', `/api/me/approvals/${rec.id}/approve`, { token: user.token });
    assert.equal(late.status, 409, 'too late to approve');
  });

  test('a client polling faster than the interval gets slow_down, with a longer interval', async () => {
    const started = await postForm(gh.url, '/bc-authorize', { scope: 'openid', login_hint: user.email, binding_message: 'Slow down' },
      { basic: [client.client_id, client.client_secret] });
    assert.equal(started.status, 200);
    const poll = () => postForm(gh.url, '/oauth/token', { grant_type: CIBA_GRANT, auth_req_id: started.body.auth_req_id },
      { basic: [client.client_id, client.client_secret] });
    const first = await poll();
    assert.equal(first.status, 400);
    assert.equal(first.body.error, 'slow_down', 'polled before the first interval passed');
    await sleep(1100);
    const second = await poll();
    assert.equal(second.body.error, 'slow_down', 'the interval grew by 5 seconds');
    assert.match(second.body.error_description, /11 seconds/);
    const pending = await pendingFor(user, 'Slow down');
    await api(gh.url, 'POST', `/api/me/approvals/${pending.id}/approve`, { token: user.token });
    const granted = await poll();
    assert.equal(granted.status, 200, 'an approved request is granted whatever the pace');
    assert.ok(granted.body.access_token);
  });

  test('a patient poller sees authorization_pending', async () => {
    const started = await postForm(gh.url, '/bc-authorize', { scope: 'openid', login_hint: user.email, binding_message: 'Pending' },
      { basic: [client.client_id, client.client_secret] });
    await sleep(1100);
    const res = await postForm(gh.url, '/oauth/token', { grant_type: CIBA_GRANT, auth_req_id: started.body.auth_req_id },
      { basic: [client.client_id, client.client_secret] });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'authorization_pending');
  });

  test('only the named user, logged in, can see and decide a request', async () => {
    await postForm(gh.url, '/bc-authorize', { scope: 'openid', login_hint: user.email, binding_message: 'Mine only' },
      { basic: [client.client_id, client.client_secret] });
    const pending = await pendingFor(user, 'Mine only');
    for (const [who, what] of [[colleague, 'a colleague'], [admin, 'the tenant admin'], [outsider, 'another tenant']]) {
      const list = await api(gh.url, 'GET', '/api/me/approvals', { token: who.token });
      assert.ok(!list.body.approvals.some((a) => a.id === pending.id), `${what} does not see it`);
      assert.equal((await api(gh.url, 'GET', `/api/me/approvals/${pending.id}`, { token: who.token })).status, 404, what);
      assert.equal((await api(gh.url, 'POST', `/api/me/approvals/${pending.id}/approve`, { token: who.token })).status, 404, what);
      assert.equal((await api(gh.url, 'POST', `/api/me/approvals/${pending.id}/deny`, { token: who.token })).status, 404, what);
    }
    assert.equal((await api(gh.url, 'POST', `/api/me/approvals/${pending.id}/approve`)).status, 401, 'not logged in');
    const still = await api(gh.url, 'GET', `/api/me/approvals/${pending.id}`, { token: user.token });
    assert.equal(still.body.status, 'pending');
  });

  test('backchannel requests are checked: user, scope, details, client and grant', async () => {
    const send = (fields, creds = [client.client_id, client.client_secret]) => postForm(gh.url, '/bc-authorize', fields, { basic: creds });
    const unknown = await send({ scope: 'openid', login_hint: 'nobody@example.com' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error, 'unknown_user_id');
    const foreign = await send({ scope: 'openid', login_hint: outsider.email });
    assert.equal(foreign.body.error, 'unknown_user_id', 'a user of another tenant is unknown to this client');
    assert.equal((await send({ scope: 'email', login_hint: user.email })).body.error, 'invalid_scope');
    assert.equal((await send({ login_hint: user.email })).body.error, 'invalid_scope');
    assert.equal((await send({ scope: 'openid' })).body.error, 'invalid_request');
    assert.equal((await send({ scope: 'openid', login_hint: user.email, authorization_details: '{"type":"x"}' })).body.error,
      'invalid_authorization_details');
    assert.equal((await send({ scope: 'openid', login_hint: user.email, authorization_details: '[{"amount":1}]' })).body.error,
      'invalid_authorization_details');
    assert.equal((await send({ scope: 'openid', login_hint: user.email, binding_message: 'x'.repeat(300) })).body.error,
      'invalid_binding_message');
    assert.equal((await send({ scope: 'openid', login_hint: user.email, requested_expiry: '-5' })).body.error, 'invalid_request');
    const badSecret = await send({ scope: 'openid', login_hint: user.email }, [client.client_id, 'wrong']);
    assert.equal(badSecret.status, 401);
    assert.equal(badSecret.body.error, 'invalid_client');
    const exchanger = await createClient(gh, admin, ['token_exchange'], 'Exchange only');
    assert.equal((await send({ scope: 'openid', login_hint: user.email }, [exchanger.client_id, exchanger.client_secret])).body.error,
      'unauthorized_client');
    // Another client cannot collect this client's request.
    const mine = await send({ scope: 'openid', login_hint: user.email, binding_message: 'For client one' });
    const thief = await createClient(gh, admin, ['ciba'], 'Another client');
    await sleep(1100);
    const stolen = await postForm(gh.url, '/oauth/token', { grant_type: CIBA_GRANT, auth_req_id: mine.body.auth_req_id },
      { basic: [thief.client_id, thief.client_secret] });
    assert.equal(stolen.body.error, 'invalid_grant');
    const outsiderClient = await createClient(gh, outsider, ['ciba'], 'Outsider');
    const cross = await postForm(gh.url, '/oauth/token', { grant_type: CIBA_GRANT, auth_req_id: mine.body.auth_req_id },
      { basic: [outsiderClient.client_id, outsiderClient.client_secret] });
    assert.equal(cross.body.error, 'invalid_grant', 'nor can another tenant\'s client');
  });
});
