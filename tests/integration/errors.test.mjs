// Every failure answers with the right status and the stable JSON error shape, and loses nothing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGatehouse, api, signUp, uniqueEmail, strongPassword } from '../lib/gatehouse.mjs';

function assertError(r, status, code) {
  assert.equal(r.status, status, `status for ${code}: ${JSON.stringify(r.body)}`);
  assert.equal(typeof r.body, 'object');
  assert.equal(r.body.error.code, code);
  assert.equal(typeof r.body.error.message, 'string');
  assert.ok(r.body.error.message.length > 0);
  assert.ok(r.headers.get('x-request-id'), 'every answer carries X-Request-Id');
  assert.match(r.headers.get('content-type'), /^application\/json/);
}

function rawRequest(port, text) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => { out += d; });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('errors', () => {
  let gh;
  let user;
  before(async () => {
    gh = await startGatehouse({ env: {
      GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0',
      GATEHOUSE_PLANS_BASIC_MESSAGES_PER_DAY: '2',
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
    } });
    user = await signUp(gh, { tier: 'basic' });
  });
  after(async () => { await gh.stop(); });

  test('400: malformed JSON, a non-object body, a missing field, a blank message', async () => {
    assertError(await api(gh.url, 'POST', '/api/auth/login', { raw: '{"email":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    assertError(await api(gh.url, 'POST', '/api/auth/login', { raw: '[1,2]', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    const missing = await api(gh.url, 'POST', '/api/auth/register', { body: { email: uniqueEmail() } });
    assertError(missing, 400, 'missing_field');
    assert.equal(missing.body.error.field, 'password');
    assertError(await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: '   ' } }), 400, 'missing_field');
    assertError(await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 42 } }), 400, 'invalid_request');
    assertError(await api(gh.url, 'POST', '/api/auth/verify', { body: { email: user.email, code: 'abc' } }), 400, 'invalid_code');
  });

  test('401: no token, a malformed token, a token of a different scheme', async () => {
    const r = await api(gh.url, 'GET', '/api/me');
    assertError(r, 401, 'unauthenticated');
    assert.match(r.headers.get('www-authenticate'), /^Bearer/);
    assertError(await api(gh.url, 'GET', '/api/me', { token: 'not.a.jwt' }), 401, 'invalid_token');
    assertError(await api(gh.url, 'GET', '/api/me', { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401, 'unauthenticated');
    assertError(await api(gh.url, 'POST', '/api/auth/login', { body: { email: user.email, password: 'Wrong-Password-1' } }), 401, 'invalid_credentials');
  });

  test('403: an unverified login, another tenant\'s path', async () => {
    const email = uniqueEmail();
    await api(gh.url, 'POST', '/api/auth/register', { body: { email, password: strongPassword, tenant_name: 'Unverified', subscription_tier: 'basic' } });
    assertError(await api(gh.url, 'POST', '/api/auth/login', { body: { email, password: strongPassword } }), 403, 'email_not_verified');
    assertError(await api(gh.url, 'GET', '/api/tenants/someone-else/usage', { token: user.token }), 403, 'forbidden');
  });

  test('404: unknown endpoints and sessions; the UI does not swallow API paths', async () => {
    assertError(await api(gh.url, 'GET', '/api/nothing-here', { token: user.token }), 404, 'not_found');
    assertError(await api(gh.url, 'GET', '/api/sessions/00000000-0000-0000-0000-000000000000/messages', { token: user.token }), 404, 'session_not_found');
    assertError(await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'hi', session_id: 'nope' } }), 404, 'session_not_found');
    const page = await fetch(`${gh.url}/some/client/route`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assert.equal((await fetch(`${gh.url}/assets/missing.js`)).status, 404);
  });

  test('405: the wrong method names the allowed ones', async () => {
    const r = await api(gh.url, 'GET', '/api/chat', { token: user.token });
    assertError(r, 405, 'method_not_allowed');
    assert.equal(r.headers.get('allow'), 'POST');
  });

  test('409: a duplicate email; a second turn while a session is busy', async () => {
    assertError(await api(gh.url, 'POST', '/api/auth/register',
      { body: { email: user.email.toUpperCase(), password: strongPassword, tenant_name: 'Dup', subscription_tier: 'basic' } }), 409, 'email_taken');
  });

  test('413: an oversized body, before it is read', async () => {
    const big = JSON.stringify({ email: 'x@example.com', password: 'x'.repeat(1100 * 1024) });
    assertError(await api(gh.url, 'POST', '/api/auth/login', { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    const raw = await rawRequest(gh.port, 'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 413/);
  });

  test('415: a body that is not JSON', async () => {
    assertError(await api(gh.url, 'POST', '/api/auth/login', { raw: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
  });

  test('422: weak passwords, bad emails, unknown tiers', async () => {
    assertError(await api(gh.url, 'POST', '/api/auth/register', { body: { email: uniqueEmail(), password: 'password', tenant_name: 'W', subscription_tier: 'basic' } }), 422, 'weak_password');
    assertError(await api(gh.url, 'POST', '/api/auth/register', { body: { email: 'no-at-sign', password: strongPassword, tenant_name: 'W', subscription_tier: 'basic' } }), 422, 'invalid_email');
    assertError(await api(gh.url, 'POST', '/api/auth/register', { body: { email: uniqueEmail(), password: strongPassword, tenant_name: 'W', subscription_tier: 'gold' } }), 422, 'invalid_tier');
  });

  test('429: the daily message limit, with Retry-After, and nothing half-recorded', async () => {
    const u = await signUp(gh, { tier: 'basic' });
    const first = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'one' } });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-quota-remaining-messages-day'), '1');
    const sid = first.body.session_id;
    assert.equal((await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'two', session_id: sid } })).status, 200);
    const third = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'three', session_id: sid } });
    assertError(third, 429, 'quota_exceeded');
    assert.equal(third.body.error.limit, 'messages_per_day');
    const retry = Number(third.headers.get('retry-after'));
    assert.ok(retry > 0 && retry <= 86400);
    const usage = await api(gh.url, 'GET', `/api/tenants/${u.tenant_id}/usage`, { token: u.token });
    assert.equal(usage.body.day.messages, 2);
    assert.equal(usage.body.day.remaining, 0);
    const msgs = await api(gh.url, 'GET', `/api/sessions/${sid}/messages`, { token: u.token });
    assert.equal(msgs.body.messages.filter((m) => m.role === 'user').length, 2, 'the refused message was not stored');
  });

  test('429: repeated wrong passwords slow down the account, then lock it', async () => {
    const u = await signUp(gh, { tier: 'basic' });
    for (let i = 0; i < 3; i += 1)
      assertError(await api(gh.url, 'POST', '/api/auth/login', { body: { email: u.email, password: 'Wrong-Password-1' } }), 401, 'invalid_credentials');
    const locked = await api(gh.url, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password } });
    assertError(locked, 429, 'account_locked');
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
  });

  test('the server survives garbage on the wire and keeps answering', async () => {
    const raw = await rawRequest(gh.port, 'BLAH BLAH\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 400/);
    const big = await rawRequest(gh.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431/);
    assert.equal((await api(gh.url, 'GET', '/healthz')).status, 200);
  });
});
