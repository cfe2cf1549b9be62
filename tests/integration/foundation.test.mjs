// The foundation end to end, over real HTTP against the real binary: sign-up, verification from
// the outbox, login, chat (JSON and SSE), usage, sessions, restart durability, and drain on SIGTERM.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startGatehouse, api, signUp, parseSse, uniqueEmail, strongPassword } from '../lib/gatehouse.mjs';

const fast = { GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0', GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096' };

async function chatSse(gh, token, body) {
  const res = await fetch(`${gh.url}/api/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
  });
  return { res, events: parseSse(await res.text()) };
}

describe('the chat flow on the embedded default', () => {
  let gh;
  before(async () => { gh = await startGatehouse({ env: fast }); });
  after(async () => { await gh.stop(); });

  test('register, verify from the outbox, log in, chat (JSON and SSE), and see usage', async () => {
    const email = uniqueEmail('flow');
    const reg = await api(gh.url, 'POST', '/api/auth/register', {
      body: { email, password: strongPassword, tenant_name: 'Flow Works', subscription_tier: 'advanced' } });
    assert.equal(reg.status, 201);
    assert.equal(reg.body.tenant_id, 'flow-works');
    assert.equal(reg.body.role, 'admin');
    assert.equal(reg.body.verification_required, true);

    const early = await api(gh.url, 'POST', '/api/auth/login', { body: { email, password: strongPassword } });
    assert.equal(early.status, 403);
    assert.equal(early.body.error.code, 'email_not_verified');

    const mail = gh.outbox().filter((m) => m.text.includes(`To: ${email}`)).pop();
    assert.match(mail.text, /^Subject: Your Gatehouse verification code\r$/m);
    const code = gh.verificationCode(email);
    assert.equal((await api(gh.url, 'POST', '/api/auth/verify', { body: { email, code } })).status, 200);

    const login = await api(gh.url, 'POST', '/api/auth/login', { body: { email, password: strongPassword } });
    assert.equal(login.status, 200);
    assert.equal(login.body.token_type, 'Bearer');
    assert.ok(login.body.expires_in > 0);
    const token = login.body.access_token;

    const me = await api(gh.url, 'GET', '/api/me', { token });
    assert.equal(me.body.tenant_id, 'flow-works');
    assert.equal(me.body.subscription_tier, 'advanced');
    assert.deepEqual(me.body.groups, ['flow-works-admins']);

    const json = await api(gh.url, 'POST', '/api/chat', { token, body: { message: "What's the weather in Paris?" } });
    assert.equal(json.status, 200);
    assert.match(json.body.response, /Paris/);
    assert.equal(json.body.tool_calls.length, 1);
    assert.equal(json.body.tool_calls[0].name, 'get_current_weather');
    assert.equal(json.body.tool_calls[0].arguments.location, 'Paris');
    assert.ok(json.body.usage.input_tokens > 0 && json.body.usage.output_tokens > 0);
    assert.match(json.body.trace_id, /^[0-9a-f]{32}$/);
    assert.equal(json.headers.get('x-quota-remaining-messages-day'), '199');
    assert.equal(json.headers.get('x-quota-remaining-messages-month'), '4999');

    const { res, events } = await chatSse(gh, token, { message: 'Is it going to rain in Oslo?', session_id: json.body.session_id });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/event-stream/);
    const kinds = events.map((e) => e.event);
    assert.equal(kinds[0], 'start');
    assert.equal(kinds.at(-1), 'done');
    assert.ok(kinds.includes('tool_call') && kinds.includes('tool_result'));
    assert.ok(kinds.indexOf('tool_result') < kinds.indexOf('delta'), 'the answer follows the tool result');
    const done = events.at(-1).data;
    const streamed = events.filter((e) => e.event === 'delta').map((e) => e.data.text).join('');
    assert.equal(streamed, done.response);
    assert.equal(done.session_id, json.body.session_id);
    assert.ok(done.usage.input_tokens > 0);

    const usage = await api(gh.url, 'GET', '/api/tenants/flow-works/usage', { token });
    assert.equal(usage.status, 200);
    assert.equal(usage.body.day.messages, 2);
    assert.equal(usage.body.day.limit, 200);
    assert.equal(usage.body.day.remaining, 198);
    assert.equal(usage.body.month.messages, 2);
    assert.equal(usage.body.day.input_tokens, json.body.usage.input_tokens + done.usage.input_tokens);
    assert.equal(usage.body.history.at(-1).messages, 2);

    const sessions = await api(gh.url, 'GET', '/api/tenants/flow-works/sessions', { token });
    assert.equal(sessions.body.sessions.length, 1);
    assert.equal(sessions.body.sessions[0].message_count, 8, 'per turn: the question, the tool call, its result, the answer');
    const history = await api(gh.url, 'GET', `/api/sessions/${json.body.session_id}/messages`, { token });
    assert.deepEqual(history.body.messages.map((m) => m.role),
      ['user', 'assistant', 'tool', 'assistant', 'user', 'assistant', 'tool', 'assistant']);
    assert.equal(history.body.messages[1].tool_calls[0].name, 'get_current_weather');

    const sub = await api(gh.url, 'GET', '/api/tenants/flow-works/subscription', { token });
    assert.equal(sub.body.plan.messages_per_day, 200);
    assert.equal(sub.body.plan.max_concurrent_sessions, 3);
    assert.deepEqual(sub.body.plan.tools, ['get_current_weather']);
  });

  test('the basic plan has no weather tool: the model is not offered it and says so', async () => {
    const u = await signUp(gh, { tier: 'basic' });
    const r = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: "What's the weather in Paris?" } });
    assert.equal(r.status, 200);
    assert.equal(r.body.tool_calls.length, 0);
    assert.match(r.body.response, /plan does not include the weather tool/);
  });

  test('anything else gets the offline model\'s honest answer', async () => {
    const u = await signUp(gh, { tier: 'premium' });
    const r = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'Write me a poem' } });
    assert.match(r.body.response, /offline model/);
    assert.match(r.body.response, /OPENAI_BASE_URL/);
  });

  test('refresh rotates, reuse revokes the family, logout revokes', async () => {
    const u = await signUp(gh);
    const r1 = await api(gh.url, 'POST', '/api/auth/refresh', { body: { refresh_token: u.refresh_token } });
    assert.equal(r1.status, 200);
    assert.notEqual(r1.body.refresh_token, u.refresh_token);
    const reuse = await api(gh.url, 'POST', '/api/auth/refresh', { body: { refresh_token: u.refresh_token } });
    assert.equal(reuse.status, 401);
    assert.equal(reuse.body.error.code, 'invalid_grant');
    const after = await api(gh.url, 'POST', '/api/auth/refresh', { body: { refresh_token: r1.body.refresh_token } });
    assert.equal(after.status, 401, 'the whole family is revoked');
    const login = await api(gh.url, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password } });
    assert.equal((await api(gh.url, 'POST', '/api/auth/logout', { body: { refresh_token: login.body.refresh_token } })).status, 200);
    assert.equal((await api(gh.url, 'POST', '/api/auth/refresh', { body: { refresh_token: login.body.refresh_token } })).status, 401);
  });

  test('the issuer publishes discovery and a JWKS that verifies its access tokens', async () => {
    const disc = await api(gh.url, 'GET', '/.well-known/openid-configuration');
    assert.equal(disc.body.issuer, gh.url);
    assert.deepEqual(disc.body.id_token_signing_alg_values_supported, ['ES256']);
    const jwks = await api(gh.url, 'GET', disc.body.jwks_uri.replace(gh.url, ''));
    const u = await signUp(gh);
    const [h, p, s] = u.access_token.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url'));
    const payload = JSON.parse(Buffer.from(p, 'base64url'));
    assert.equal(header.alg, 'ES256');
    assert.equal(header.typ, 'at+jwt');
    for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'email', 'tenant_id', 'subscription_tier', 'groups'])
      assert.ok(claim in payload, `claim ${claim}`);
    const jwk = jwks.body.keys.find((k) => k.kid === header.kid);
    const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    assert.ok(crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url')));
    // The same token with alg "none" and no signature is refused.
    const none = `${Buffer.from(JSON.stringify({ ...header, alg: 'none' })).toString('base64url')}.${p}.`;
    const r = await api(gh.url, 'GET', '/api/me', { token: none });
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'invalid_token');
  });

  test('health and readiness; the start-up line names the allocator (jemalloc)', async () => {
    assert.deepEqual((await api(gh.url, 'GET', '/healthz')).body, { status: 'ok' });
    assert.deepEqual((await api(gh.url, 'GET', '/readyz')).body, { status: 'ready' });
    const listening = gh.lines.map((l) => { try { return JSON.parse(l); } catch { return {}; } })
      .find((l) => l.msg === 'listening');
    // (`asan` in a sanitizer build: AddressSanitizer's allocator.)
    assert.match(listening.allocator, /^jemalloc \d+\.\d+|^asan$/);
  });

  test('invitations join the inviting tenant as a user; users see their own sessions, admins all', async () => {
    const admin = await signUp(gh, { tenantName: 'Invite Co', tier: 'advanced' });
    const inv = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token });
    assert.equal(inv.status, 201);
    const user = await signUp(gh, { inviteCode: inv.body.invite_code });
    assert.equal(user.tenant_id, admin.tenant_id);
    assert.equal(user.role, 'user');
    await api(gh.url, 'POST', '/api/chat', { token: admin.token, body: { message: 'hello' } });
    await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'hello' } });
    const mine = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/sessions`, { token: user.token });
    assert.equal(mine.body.sessions.length, 1);
    assert.equal(mine.body.sessions[0].user_id, user.user_id);
    const all = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/sessions`, { token: admin.token });
    assert.equal(all.body.sessions.length, 2);
    const denied = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: user.token });
    assert.equal(denied.status, 403);
    const reuse = await api(gh.url, 'POST', '/api/auth/register',
      { body: { email: uniqueEmail(), password: strongPassword, invite_code: inv.body.invite_code } });
    assert.equal(reuse.status, 422);
    assert.equal(reuse.body.error.code, 'invalid_invitation');
    const promoted = await api(gh.url, 'POST', '/api/admin/add-to-group',
      { token: admin.token, body: { email: user.email, group: `${admin.tenant_id}-admins` } });
    assert.equal(promoted.status, 200);
    assert.ok(promoted.body.groups.includes(`${admin.tenant_id}-admins`));
  });
});

describe('durability and lifecycle', () => {
  test('a restart keeps users, sessions and usage', async () => {
    // A fixed issuer: the port (part of the default issuer) changes between the two starts.
    const env = { ...fast, GATEHOUSE_ISSUER: 'http://gatehouse.test' };
    let gh = await startGatehouse({ env });
    const dataDir = gh.dataDir;
    const u = await signUp(gh, { tier: 'premium' });
    const chat = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'Weather in Rome?' } });
    assert.equal(chat.status, 200);
    const before = (await api(gh.url, 'GET', `/api/tenants/${u.tenant_id}/usage`, { token: u.token })).body;
    const stopped = await gh.stop({ keepData: true });
    assert.equal(stopped.code, 0);

    gh = await startGatehouse({ env, dataDir });
    try {
      const login = await api(gh.url, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password } });
      assert.equal(login.status, 200, 'the user and the signing key survived');
      const token = login.body.access_token;
      assert.equal((await api(gh.url, 'GET', '/api/me', { token: u.token })).status, 200, 'old tokens still verify');
      const after = (await api(gh.url, 'GET', `/api/tenants/${u.tenant_id}/usage`, { token })).body;
      assert.deepEqual(after.day, { ...before.day, resets_in_seconds: after.day.resets_in_seconds });
      const sessions = (await api(gh.url, 'GET', `/api/tenants/${u.tenant_id}/sessions`, { token })).body.sessions;
      assert.equal(sessions.length, 1);
      assert.equal(sessions[0].session_id, chat.body.session_id);
      const again = await api(gh.url, 'POST', '/api/chat', { token, body: { message: 'And in Milan?', session_id: chat.body.session_id } });
      assert.equal(again.status, 200);
    } finally {
      await gh.stop();
    }
  });

  test('SIGTERM lets an in-flight stream finish, then exits 0', async () => {
    const gh = await startGatehouse({ env: { ...fast, GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '60' } });
    const u = await signUp(gh, { tier: 'premium' });
    const res = await fetch(`${gh.url}/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: 'What is the weather in Lisbon?' }),
    });
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('event: delta')) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'stream ended before any delta');
      text += decoder.decode(value, { stream: true });
    }
    gh.child.kill('SIGTERM');
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const events = parseSse(text);
    assert.equal(events.at(-1).event, 'done', 'the stream completed after SIGTERM');
    const { code } = await gh.exited;
    assert.equal(code, 0);
    await gh.stop();
  });

  test('a bad configuration stops start-up with exit code 2 naming the key', async () => {
    const { spawnSync } = await import('node:child_process');
    const { binary } = await import('../lib/gatehouse.mjs');
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/gh-cfg-`);
    writeFileSync(`${dir}/bad.yaml`, 'server:\n  max_body_bytes: lots\n');
    const r1 = spawnSync(binary, ['serve', '--config', `${dir}/bad.yaml`, '--data-dir', dir], { encoding: 'utf8' });
    assert.equal(r1.status, 2);
    assert.match(r1.stderr, /server\.max_body_bytes/);
    const r2 = spawnSync(binary, ['serve', '--listen', 'nowhere', '--data-dir', dir], { encoding: 'utf8' });
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /'listen'/);
    const r3 = spawnSync(binary, ['serve', '--data-dir', dir], { encoding: 'utf8', env: { ...process.env, GATEHOUSE_MAIL_KIND: 'pigeon' } });
    assert.equal(r3.status, 2);
    assert.match(r3.stderr, /mail\.kind/);
  });
});
