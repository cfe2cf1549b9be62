// Scale-out: several stateless replicas on one PostgreSQL server behave as one Gatehouse — a token
// from one works on another, and limits stay exact across them.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startGatehouse, api, signUp } from '../lib/gatehouse.mjs';
import { startPostgres } from '../lib/postgres.mjs';

describe('replicas on PostgreSQL', () => {
  let pg;
  let replicas;
  before(async () => {
    pg = await startPostgres();
    const env = {
      GATEHOUSE_DATABASE_URL: pg.url,
      GATEHOUSE_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
      GATEHOUSE_ISSUER: 'http://gatehouse.test',
      GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0',
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
      GATEHOUSE_PLANS_BASIC_CONCURRENT_SESSIONS: '1000',
    };
    replicas = [await startGatehouse({ env })];
    replicas.push(await startGatehouse({ env }));
  });
  after(async () => {
    for (const r of replicas || []) await r.stop();
    if (pg) await pg.stop();
  });

  test('a user registered on one replica chats through the other', async () => {
    const [a, b] = replicas;
    const u = await signUp(a, { tier: 'advanced' });
    const r = await api(b.url, 'POST', '/api/chat', { token: u.token, body: { message: "What's the weather in Paris?" } });
    assert.equal(r.status, 200);
    assert.equal(r.body.tool_calls[0].name, 'get_current_weather');
    const history = await api(a.url, 'GET', `/api/sessions/${r.body.session_id}/messages`, { token: u.token });
    assert.equal(history.body.messages.length, 4);
    const usage = await api(a.url, 'GET', `/api/tenants/${u.tenant_id}/usage`, { token: u.token });
    assert.equal(usage.body.day.messages, 1);
  });

  test('200 concurrent chats across two replicas against a 50-per-day plan: exactly 50 succeed', async () => {
    const u = await signUp(replicas[0], { tier: 'basic' });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      api(replicas[i % 2].url, 'POST', '/api/chat', { token: u.token, body: { message: `hi ${i}` } })
        .then((res) => ({ ...res, replica: i % 2 }))));
    const unexpected = results.filter((r) => r.status !== 200 && r.status !== 429);
    assert.deepEqual(unexpected.map((r) => r.body), []);
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 50);
    assert.equal(results.filter((r) => r.status === 429 && r.body.error.code === 'quota_exceeded').length, 150);
    assert.ok(ok.some((r) => r.replica === 0) && ok.some((r) => r.replica === 1), 'both replicas admitted chats');
    const usage = await api(replicas[1].url, 'GET', `/api/tenants/${u.tenant_id}/usage`, { token: u.token });
    assert.equal(usage.body.day.messages, 50);
  });

  test('200 concurrent completions across two replicas against a 50-per-day plan: exactly 50 succeed', async () => {
    // /v1/chat/completions takes the message in one transaction with the model call's reservation.
    const u = await signUp(replicas[1], { tier: 'basic' });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      api(replicas[i % 2].url, 'POST', '/v1/chat/completions',
        { token: u.token, body: { model: 'offline', messages: [{ role: 'user', content: `hi ${i}` }] } })
        .then((res) => ({ ...res, replica: i % 2 }))));
    const unexpected = results.filter((r) => r.status !== 200 && r.status !== 429);
    assert.deepEqual(unexpected.map((r) => r.body), []);
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 50);
    assert.equal(results.filter((r) => r.status === 429 && r.body.error.code === 'quota_exceeded').length, 150);
    assert.ok(ok.some((r) => r.replica === 0) && ok.some((r) => r.replica === 1), 'both replicas admitted completions');
    const usage = await api(replicas[0].url, 'GET', `/api/tenants/${u.tenant_id}/usage`, { token: u.token });
    assert.equal(usage.body.day.messages, 50);
  });
});
