// Cost attribution end to end: chats through an OpenAI-compatible fake whose usage includes cached
// prompt tokens, priced by a price file with known prices, the seed's agent runtime fees and a
// 12.5 % markup. Every report must equal the sum of the costs computed here from the fake's usage,
// to the micro-dollar, per tenant, per user and per service — and be durable before `done`.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGatehouse, api, signUp, parseSse } from '../lib/gatehouse.mjs';
import { startFakeOpenAI } from '../fakes/openai.mjs';

const PRICE_FILE = `
version: "test-prices-1"
currency: USD
agent_runtime:
  - from: 2020-01-01
    orchestration_usd_per_invocation: 0.001
    tool_execution_usd_per_action: 0.0005
markup:
  default_percent: 12.5
models:
  fake-gpt:
    prices:
      - from: 2020-01-01
        input_usd_per_mtok: 2.50
        output_usd_per_mtok: 10.00
        cache_read_usd_per_mtok: 1.25
`;

const ceilDiv = (a, b) => Math.floor((a + b - 1) / b);
const charge = (list) => ceilDiv(list * 11250, 10000);  // 12.5 % markup, rounded up
// OpenAI's prompt_tokens includes the cached tokens, which are billed at the cache price.
function modelCost(u) {
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  return charge(ceilDiv((u.prompt_tokens - cached) * 2_500_000, 1e6) + ceilDiv(u.completion_tokens * 10_000_000, 1e6)
    + ceilDiv(cached * 1_250_000, 1e6));
}
const ORCHESTRATION = charge(1000);
const TOOL = charge(500);

const weather = (id, city) => ({ id, name: 'get_current_weather', arguments: JSON.stringify({ location: city }) });
// The chats, in order: who asks, and the fake's turns for them.
const CHATS = [
  { who: 'admin', turns: [{ text: 'Hello there.', usage: { prompt_tokens: 1234, completion_tokens: 77, prompt_tokens_details: { cached_tokens: 1000 } } }] },
  { who: 'u1', turns: [
    { tool_calls: [weather('call_1', 'Paris')], usage: { prompt_tokens: 300, completion_tokens: 20 } },
    { text: 'Mild in Paris.', usage: { prompt_tokens: 420, completion_tokens: 35, prompt_tokens_details: { cached_tokens: 256 } } }] },
  { who: 'u1', turns: [{ text: 'Sure.', usage: { prompt_tokens: 99, completion_tokens: 5 } }] },
  { who: 'u2', sse: true, turns: [
    { tool_calls: [weather('call_a', 'Oslo'), weather('call_b', 'Rome')], usage: { prompt_tokens: 500, completion_tokens: 40, prompt_tokens_details: { cached_tokens: 128 } } },
    { text: 'Cold in Oslo, warm in Rome.', usage: { prompt_tokens: 800, completion_tokens: 60, prompt_tokens_details: { cached_tokens: 512 } } }] },
];
const costOf = (chat) => {
  const byService = { agent_runtime: ORCHESTRATION, model: 0, tool: 0 };
  for (const t of chat.turns) {
    byService.model += modelCost(t.usage);
    byService.tool += (t.tool_calls?.length ?? 0) * TOOL;
  }
  return { ...byService, total: byService.agent_runtime + byService.model + byService.tool };
};

describe('cost reports', () => {
  let fake; let gh; let admin; let u1; let u2;
  const users = {};
  const expected = { total: 0, users: {}, services: { agent_runtime: 0, model: 0, tool: 0 }, traces: [] };

  before(async () => {
    fake = await startFakeOpenAI(CHATS.flatMap((c) => c.turns));
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-prices-'));
    writeFileSync(path.join(dir, 'prices.yaml'), PRICE_FILE);
    gh = await startGatehouse({ env: {
      OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'fake-gpt',
      GATEHOUSE_PRICES_FILE: path.join(dir, 'prices.yaml'),
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
      // Spans and trace summaries linger far longer than any of these tests: a report listing top
      // traces must still show every one (it flushes what this process recorded first).
      GATEHOUSE_METERING_TRACE_LINGER_MS: '10000',
    } });
    admin = await signUp(gh, { tier: 'premium' });
    for (const name of ['u1', 'u2']) {
      const inv = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token, body: {} });
      users[name] = await signUp(gh, { inviteCode: inv.body.invite_code });
    }
    users.admin = admin;
    ({ u1, u2 } = users);
    for (const chat of CHATS) {
      const who = users[chat.who];
      const c = costOf(chat);
      let traceId;
      if (chat.sse) {
        const res = await fetch(`${gh.url}/api/chat`, { method: 'POST',
          headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ message: `question from ${chat.who}` }) });
        const reader = res.body.getReader();
        let text = '';
        // Read up to `done`, then ask for the costs before the stream has even ended.
        while (!parseSse(text).some((e) => e.event === 'done')) {
          const { value, done } = await reader.read();
          if (done) break;
          text += new TextDecoder().decode(value);
        }
        traceId = parseSse(text).find((e) => e.event === 'done').data.trace_id;
        const mine = await api(gh.url, 'GET', `/api/tenants/${who.tenant_id}/costs`, { token: who.token });
        assert.equal(mine.body.total.cost_micros, c.total, 'the turn\'s costs are committed before its done event');
        while (!(await reader.read()).done) { /* drain */ }
      } else {
        const r = await api(gh.url, 'POST', '/api/chat', { token: who.token, body: { message: `question from ${chat.who}` } });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        traceId = r.body.trace_id;
      }
      expected.total += c.total;
      expected.users[who.user_id] = (expected.users[who.user_id] ?? 0) + c.total;
      for (const s of ['agent_runtime', 'model', 'tool']) expected.services[s] += c[s];
      expected.traces.push({ trace_id: traceId, cost: c.total });
    }
  });
  after(async () => { await gh.stop(); await fake.close(); });

  const serviceCost = (report, service) => report.services.find((s) => s.service === service)?.cost_micros ?? 0;

  test('the tenant total and its service breakdown equal the sum of the events', async () => {
    const r = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/overall-cost`, { token: admin.token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.total.cost_micros, expected.total);
    assert.equal(r.body.currency, 'USD');
    for (const s of ['agent_runtime', 'model', 'tool']) assert.equal(serviceCost(r.body, s), expected.services[s], s);
    const model = r.body.services.find((s) => s.service === 'model');
    assert.equal(model.resources[0].resource, 'fake-gpt');
    assert.equal(model.cache_read_tokens, 1000 + 256 + 128 + 512, 'cached tokens are counted apart');
    assert.equal(model.input_tokens, (1234 - 1000) + 300 + (420 - 256) + 99 + (500 - 128) + (800 - 512));
    assert.equal(r.body.services.find((s) => s.service === 'tool').quantity, 3);
    assert.equal(r.body.services.find((s) => s.service === 'agent_runtime').quantity, 4);
    assert.equal(r.body.total.cost_usd, (expected.total / 1e6).toFixed(6));
  });

  test('per user and per service, every report agrees to the micro-dollar', async () => {
    const per = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/per-user-cost`, { token: admin.token });
    assert.equal(per.status, 200);
    assert.equal(per.body.total.cost_micros, expected.total);
    for (const [id, cost] of Object.entries(expected.users)) {
      const line = per.body.users.find((u) => u.user_id === id);
      assert.equal(line.cost_micros, cost, id);
      assert.ok(line.email.includes('@'));
      const own = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/costs`,
        { token: Object.values(users).find((u) => u.user_id === id).token });
      assert.equal(own.body.total.cost_micros, cost, 'a user\'s own costs');
      const svc = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/users/${id}/service-cost`, { token: admin.token });
      assert.equal(svc.body.total.cost_micros, cost);
      assert.equal(svc.body.services.reduce((s, x) => s + x.cost_micros, 0), cost);
    }
    const u1Costs = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/users/${u1.user_id}/costs`, { token: u1.token });
    assert.equal(serviceCost(u1Costs.body, 'tool'), TOOL);
    assert.equal(serviceCost(u1Costs.body, 'agent_runtime'), 2 * ORCHESTRATION);

    const wise = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/service-wise-cost`, { token: admin.token });
    assert.equal(wise.body.total.cost_micros, expected.total);
    assert.equal(wise.body.daily.reduce((s, d) => s + d.cost_micros, 0), expected.total, 'the daily trend adds up');
    assert.ok(wise.body.daily.length >= 1);

    const all = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/comprehensive-report`, { token: admin.token });
    assert.equal(all.status, 200);
    assert.equal(all.body.total.cost_micros, expected.total);
    assert.equal(all.body.users.reduce((s, u) => s + u.cost_micros, 0), expected.total);
    const top = all.body.top_traces;
    assert.equal(top.length, expected.traces.length);
    for (let i = 1; i < top.length; i += 1) assert.ok(top[i - 1].cost_micros >= top[i].cost_micros, 'most expensive first');
    for (const t of expected.traces) assert.equal(top.find((x) => x.trace_id === t.trace_id).cost_micros, t.cost);

    // The quota's spend counter settled the same figures.
    const usage = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/usage`, { token: admin.token });
    assert.equal(usage.status, 200);
    assert.equal(usage.body.month.spend_micros, expected.total);
    assert.equal(usage.body.day.messages, CHATS.length, 'the usage endpoint still reads the quota counters');
  });

  test('reports come as CSV too, with the same figures', async () => {
    const res = await fetch(`${gh.url}/api/admin/tenants/${admin.tenant_id}/per-user-cost?format=csv`,
      { headers: { authorization: `Bearer ${admin.token}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/csv/);
    assert.match(res.headers.get('content-disposition'), /attachment; filename="per-user-cost-/);
    const rows = (await res.text()).trim().split('\r\n').map((l) => l.split(','));
    const header = rows[0];
    const col = (name) => header.indexOf(name);
    assert.equal(header[0], 'section');
    const total = rows.find((r) => r[0] === 'total');
    assert.equal(Number(total[col('cost_micros')]), expected.total);
    const userRows = rows.filter((r) => r[0] === 'user');
    assert.equal(userRows.reduce((s, r) => s + Number(r[col('cost_micros')]), 0), expected.total);
  });

  test('date ranges are checked and bound the report', async () => {
    const bad = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/overall-cost?from=2026-13-01`, { token: admin.token });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_date');
    const reversed = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/overall-cost?from=2026-02-01&to=2026-01-01`, { token: admin.token });
    assert.equal(reversed.status, 400);
    const past = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/overall-cost?from=2001-01-01&to=2001-01-31`, { token: admin.token });
    assert.equal(past.status, 200);
    assert.equal(past.body.total.cost_micros, 0);
    const today = new Date().toISOString().slice(0, 10);
    const now = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/overall-cost?from=${today}&to=${today}`, { token: admin.token });
    assert.equal(now.body.total.cost_micros, expected.total);
  });
});
