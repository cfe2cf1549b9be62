// Scale-out: several stateless replicas on one PostgreSQL server behave as one Gatehouse — a token
// from one works on another, and limits stay exact across them.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { startGatehouse, api, signUp, binary } from '../lib/gatehouse.mjs';
import { startPostgres } from '../lib/postgres.mjs';

describe('replicas on PostgreSQL', () => {
  let pg;
  let replicas;
  let replicaEnv;
  before(async () => {
    pg = await startPostgres();
    const env = {
      GATEHOUSE_DATABASE_URL: pg.url,
      GATEHOUSE_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
      GATEHOUSE_ISSUER: 'http://gatehouse.test',
      GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0',
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
      GATEHOUSE_PLANS_BASIC_CONCURRENT_SESSIONS: '1000',
      // Cached tenant rows, caps and keys live 10 minutes here: what one replica changes, the
      // others must hear of (a NOTIFY), not wait out.
      GATEHOUSE_SERVER_CACHE_TTL_MS: '600000',
    };
    replicaEnv = env;
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

  // Polls `probe` until it returns `want` (at most 5 s; the caches' TTL is 10 minutes).
  async function eventually(probe, want) {
    let got;
    for (let i = 0; i < 100; i += 1) {
      got = await probe();
      if (got === want) return got;
      await new Promise((r) => setTimeout(r, 50));
    }
    return got;
  }

  test('what one replica changes, the others stop serving from their caches at once', async () => {
    const [a, b] = replicas;
    const admin = await signUp(a, { tier: 'advanced' });
    const inv = await api(a.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token });
    const member = await signUp(a, { inviteCode: inv.body.invite_code });
    const adminKey = (await api(a.url, 'POST', '/api/keys', { token: admin.token, body: { name: 'sdk' } })).body;
    const memberKey = (await api(a.url, 'POST', '/api/keys', { token: member.token, body: { name: 'sdk' } })).body;
    const modelsOnB = async (key) => (await fetch(`${b.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).status;
    const zoneOnB = async () => (await api(b.url, 'GET', `/api/tenants/${admin.tenant_id}/usage`, { token: admin.token })).body.timezone;
    // B resolves both keys and reads the tenant's row: all cached there now.
    assert.equal(await modelsOnB(adminKey.key), 200);
    assert.equal(await modelsOnB(memberKey.key), 200);
    assert.equal(await zoneOnB(), 'UTC');

    assert.equal((await api(a.url, 'DELETE', `/api/keys/${adminKey.id}`, { token: admin.token })).status, 204);
    assert.equal(await eventually(() => modelsOnB(adminKey.key), 401), 401, 'a key revoked on A is refused on B');

    const tz = await api(a.url, 'PATCH', `/api/tenants/${admin.tenant_id}`, { token: admin.token, body: { timezone: 'Asia/Tokyo' } });
    assert.equal(tz.status, 200);
    assert.equal(await eventually(zoneOnB, 'Asia/Tokyo'), 'Asia/Tokyo', 'a tenant changed on A is read afresh on B');

    assert.equal((await api(a.url, 'DELETE', `/api/tenants/${admin.tenant_id}/users/${member.user_id}`, { token: admin.token })).status, 204);
    assert.equal(await eventually(() => modelsOnB(memberKey.key), 401), 401, 'a user removed on A loses their key on B');
  });

  test('a tenant suspended with gatehouse admin is refused by the running replicas at once', async () => {
    const [a, b] = replicas;
    const u = await signUp(a, { tier: 'advanced' });
    const chatOn = async (r) => (await api(r.url, 'POST', '/api/chat', { token: u.token, body: { message: 'hi' } })).status;
    assert.equal(await chatOn(a), 200);  // both replicas have the tenant's row cached now
    assert.equal(await chatOn(b), 200);
    const run = spawnSync(binary, ['admin', 'tenants', 'suspend', u.tenant_id],
      { encoding: 'utf8', env: { ...process.env, ...replicaEnv } });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(await eventually(() => chatOn(a), 403), 403);
    assert.equal(await eventually(() => chatOn(b), 403), 403);
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
