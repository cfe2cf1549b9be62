// Tenants never see each other: every tenant-scoped endpoint called with another tenant's token
// (user and admin) answers 403/404 and returns none of the other tenant's data.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGatehouse, api, signUp, parseSse } from '../lib/gatehouse.mjs';

describe('tenant isolation', () => {
  let gh;
  let a;
  let aUser;
  let b;
  let bUser;
  let aSession;
  before(async () => {
    gh = await startGatehouse({ env: { GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0', GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096' } });
    a = await signUp(gh, { tenantName: 'Tenant Alpha', tier: 'premium' });
    b = await signUp(gh, { tenantName: 'Tenant Beta', tier: 'premium' });
    const invA = await api(gh.url, 'POST', `/api/tenants/${a.tenant_id}/invitations`, { token: a.token });
    aUser = await signUp(gh, { inviteCode: invA.body.invite_code });
    const invB = await api(gh.url, 'POST', `/api/tenants/${b.tenant_id}/invitations`, { token: b.token });
    bUser = await signUp(gh, { inviteCode: invB.body.invite_code });
    const chat = await api(gh.url, 'POST', '/api/chat', { token: aUser.token, body: { message: 'Secret plans of Alpha: weather in Zurich?' } });
    aSession = chat.body.session_id;
  });
  after(async () => { await gh.stop(); });

  function assertNoLeak(r) {
    const text = JSON.stringify(r.body);
    for (const secret of [a.email, aUser.email, aUser.user_id, a.user_id, aSession, 'Zurich', 'Alpha'])
      assert.ok(!text.includes(secret), `response leaks ${secret}: ${text}`);
  }

  const tenantPaths = (t) => [
    ['GET', `/api/tenants/${t}/usage`],
    ['GET', `/api/tenants/${t}/subscription`],
    ['GET', `/api/tenants/${t}/sessions`],
    ['POST', `/api/tenants/${t}/invitations`],
  ];

  test('every /api/tenants/{id}/ endpoint refuses another tenant\'s admin and user', async () => {
    for (const who of [b, bUser]) {
      for (const [method, path] of tenantPaths(a.tenant_id)) {
        const r = await api(gh.url, method, path, { token: who.token, body: method === 'POST' ? {} : undefined });
        assert.ok(r.status === 403 || r.status === 404, `${method} ${path} gave ${r.status}`);
        assert.ok(r.body.error, `${method} ${path} answers an error`);
        assertNoLeak(r);
      }
    }
  });

  test('the same endpoints answer their own tenant', async () => {
    for (const [method, path] of tenantPaths(a.tenant_id)) {
      const r = await api(gh.url, method, path, { token: a.token, body: method === 'POST' ? {} : undefined });
      assert.ok(r.status === 200 || r.status === 201, `${method} ${path} gave ${r.status}`);
    }
  });

  test('another tenant\'s session cannot be read, continued or ended', async () => {
    for (const who of [b, bUser]) {
      const read = await api(gh.url, 'GET', `/api/sessions/${aSession}/messages`, { token: who.token });
      assert.equal(read.status, 404);
      assertNoLeak(read);
      const cont = await api(gh.url, 'POST', '/api/chat', { token: who.token, body: { message: 'continue', session_id: aSession } });
      assert.equal(cont.status, 404);
      assertNoLeak(cont);
      const end = await api(gh.url, 'DELETE', `/api/sessions/${aSession}`, { token: who.token });
      assert.equal(end.status, 404);
    }
    const still = await api(gh.url, 'GET', `/api/sessions/${aSession}/messages`, { token: aUser.token });
    assert.equal(still.status, 200);
    assert.equal(still.body.messages[0].content, 'Secret plans of Alpha: weather in Zurich?');
  });

  test('within a tenant, a user cannot read a colleague\'s session; the admin can', async () => {
    const other = await api(gh.url, 'GET', `/api/sessions/${aSession}/messages`, { token: a.token });
    assert.equal(other.status, 200, 'the tenant admin reads the tenant\'s sessions');
    const chat = await api(gh.url, 'POST', '/api/chat', { token: a.token, body: { message: 'admin only' } });
    const denied = await api(gh.url, 'GET', `/api/sessions/${chat.body.session_id}/messages`, { token: aUser.token });
    assert.equal(denied.status, 404);
  });

  test('group membership only within the admin\'s own tenant', async () => {
    const foreign = await api(gh.url, 'POST', '/api/admin/add-to-group', { token: b.token, body: { email: aUser.email, group: `${a.tenant_id}-admins` } });
    assert.equal(foreign.status, 403);
    const foreignUser = await api(gh.url, 'POST', '/api/admin/add-to-group', { token: b.token, body: { email: aUser.email, group: `${b.tenant_id}-admins` } });
    assert.equal(foreignUser.status, 404);
    assertNoLeak(foreignUser);
    const byUser = await api(gh.url, 'POST', '/api/admin/add-to-group', { token: bUser.token, body: { email: bUser.email, group: `${b.tenant_id}-admins` } });
    assert.equal(byUser.status, 403, 'a user cannot make themself an admin');
  });

  test('a tampered tenant claim does not open another tenant', async () => {
    const [h, p, s] = b.token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    claims.tenant_id = a.tenant_id;
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    const r = await api(gh.url, 'GET', `/api/tenants/${a.tenant_id}/usage`, { token: forged });
    assert.equal(r.status, 401);
  });
});

describe('sessions', () => {
  let gh;
  before(async () => {
    gh = await startGatehouse({ env: { GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '40', GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096' } });
  });
  after(async () => { await gh.stop(); });

  test('a second message while the session is answering gets 409 session_busy', async () => {
    const u = await signUp(gh, { tier: 'premium' });
    const s = await api(gh.url, 'POST', '/api/sessions', { token: u.token });
    assert.equal(s.status, 201);
    const sid = s.body.session_id;
    const slow = fetch(`${gh.url}/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: 'Tell me about the weather in Vienna', session_id: sid }),
    });
    const first = await slow;
    const reader = first.body.getReader();
    await reader.read();  // the stream has started: the turn holds the session
    const busy = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'me too', session_id: sid } });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'session_busy');
    let text = '';
    for (;;) { const { value, done } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); }
    assert.ok(parseSse(text).some((e) => e.event === 'done'));
    const after = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'now me', session_id: sid } });
    assert.equal(after.status, 200);
    const usage = await api(gh.url, 'GET', `/api/tenants/${u.tenant_id}/usage`, { token: u.token });
    assert.equal(usage.body.day.messages, 2, 'the refused turn did not count');
  });

  test('the plan caps concurrent sessions; ending one frees a place', async () => {
    const u = await signUp(gh, { tier: 'basic' });
    const s1 = await api(gh.url, 'POST', '/api/sessions', { token: u.token });
    assert.equal(s1.status, 201);
    const s2 = await api(gh.url, 'POST', '/api/sessions', { token: u.token });
    assert.equal(s2.status, 429);
    assert.equal(s2.body.error.code, 'too_many_sessions');
    assert.equal((await api(gh.url, 'DELETE', `/api/sessions/${s1.body.session_id}`, { token: u.token })).status, 204);
    assert.equal((await api(gh.url, 'POST', '/api/sessions', { token: u.token })).status, 201);
    const ended = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'hi', session_id: s1.body.session_id } });
    assert.equal(ended.status, 409);
    assert.equal(ended.body.error.code, 'session_ended');
  });
});
