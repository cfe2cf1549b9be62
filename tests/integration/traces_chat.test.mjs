// Every chat is a trace: the request's span (under the caller's traceparent), its filters'
// spans, the turn, each model call (model, tokens, latency, time to first token) and each tool
// call (arguments size, result status), in order, each with the cost it incurred. The trace id
// travels upstream in a traceparent naming the turn's span.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGatehouse, api, signUp, parseSse } from '../lib/gatehouse.mjs';
import { startFakeOpenAI } from '../fakes/openai.mjs';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('traces', () => {
  let fake; let gh; let user; let other;
  before(async () => {
    fake = await startFakeOpenAI([
      { tool_calls: [{ id: 'call_w', name: 'get_current_weather', arguments: '{"location":"Paris"}' }],
        usage: { prompt_tokens: 300, completion_tokens: 20 } },
      { text: 'It is mild in Paris today.', chunkDelayMs: 5,
        usage: { prompt_tokens: 420, completion_tokens: 35, prompt_tokens_details: { cached_tokens: 256 } } },
      { text: 'Plain answer.', usage: { prompt_tokens: 50, completion_tokens: 5 } },
    ]);
    gh = await startGatehouse({ env: {
      OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'fake-gpt',
      GATEHOUSE_PRICES_INVOCATION_MICROS: '1000', GATEHOUSE_PRICES_TOOL_CALL_MICROS: '500',
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
      GATEHOUSE_PLANS_ADVANCED_MESSAGES_PER_DAY: '3',
    } });
    user = await signUp(gh, { tier: 'advanced' });
    other = await signUp(gh, { tier: 'advanced' });
  });
  after(async () => { await gh.stop(); await fake.close(); });

  test('the trace of a chat with a tool call shows all its spans, in order, with costs attached', async () => {
    const res = await fetch(`${gh.url}/api/chat`, { method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', accept: 'text/event-stream',
        traceparent: `00-${TRACE}-${CALLER_SPAN}-01` },
      body: JSON.stringify({ message: 'How is the weather in Paris?' }) });
    const events = parseSse(await res.text());
    const done = events.find((e) => e.event === 'done').data;
    assert.equal(done.trace_id, TRACE, 'the caller\'s trace id is the chat\'s');

    const r = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces/${TRACE}`, { token: user.token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const t = r.body;
    assert.equal(t.user_id, user.user_id);
    assert.equal(t.session_id, done.session_id);
    assert.equal(t.model, 'fake-gpt');
    assert.equal(t.status, 'ok');
    const names = t.spans.map((s) => s.name);
    assert.deepEqual(names, ['POST /api/chat', 'authenticate', 'tenant', 'limits', 'chat', 'model_call', 'tool_call', 'model_call']);
    const by = Object.fromEntries(t.spans.map((s) => [s.name, s]));
    const server = t.spans[0];
    assert.equal(server.parent_span_id, CALLER_SPAN, 'under the caller\'s span');
    assert.equal(server.kind, 'server');
    assert.equal(server.attributes['http.response.status_code'], 200);
    for (const n of ['authenticate', 'tenant', 'limits', 'chat']) assert.equal(by[n].parent_span_id, server.span_id, n);
    const chat = by.chat;
    for (const s of t.spans.filter((x) => x.name === 'model_call' || x.name === 'tool_call')) assert.equal(s.parent_span_id, chat.span_id);
    for (let i = 1; i < t.spans.length; i += 1) assert.ok(t.spans[i - 1].start_time_unix_us <= t.spans[i].start_time_unix_us, 'in order');
    for (const s of t.spans) assert.ok(s.start_time_unix_us >= server.start_time_unix_us && s.end_time_unix_us <= server.end_time_unix_us);

    const [m1, , m2] = t.spans.slice(5);
    assert.equal(m1.attributes['gen_ai.request.model'], 'fake-gpt');
    assert.equal(m1.attributes['gen_ai.usage.input_tokens'], 300);
    assert.equal(m1.attributes['gen_ai.usage.output_tokens'], 20);
    assert.equal(m2.attributes['gen_ai.usage.input_tokens'], 420 - 256);
    assert.equal(m2.attributes['gen_ai.usage.cache_read_tokens'], 256);
    assert.ok(m2.attributes.latency_ms >= 0);
    assert.ok('time_to_first_token_ms' in m2.attributes, 'a streamed answer has a time to first token');
    const tool = by.tool_call;
    assert.equal(tool.attributes['tool.name'], 'get_current_weather');
    assert.equal(tool.attributes['tool.arguments_bytes'], '{"location":"Paris"}'.length);
    assert.equal(tool.attributes['tool.result_status'], 'ok');
    assert.equal(tool.cost_micros, 500);
    assert.equal(chat.cost_micros, 1000, 'the turn\'s own cost: the orchestration fee');
    // No model price is configured for fake-gpt: model calls cost 0 but are recorded.
    assert.equal(m1.cost_micros, 0);
    const spanCosts = t.spans.reduce((s, x) => s + x.cost_micros, 0);
    assert.equal(t.cost_micros, spanCosts, 'span costs add up to the trace\'s cost');
    const costs = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/costs`, { token: user.token });
    assert.equal(costs.body.total.cost_micros, t.cost_micros, 'and to the cost report');

    // Upstream, the model calls carried the trace, naming the turn's span.
    for (const req of fake.requests.slice(0, 2)) assert.equal(req.headers.traceparent, `00-${TRACE}-${chat.span_id}-01`);
  });

  test('traces are listed with filters; a limit refusal is a trace too', async () => {
    const plain = await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'hello' } });
    assert.equal(plain.status, 200);
    assert.match(plain.body.trace_id, /^[0-9a-f]{32}$/, 'without a traceparent a new trace id');
    await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'third' } });
    const refused = await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'one too many' } });
    assert.equal(refused.status, 429);

    const all = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces`, { token: user.token });
    assert.equal(all.status, 200);
    assert.equal(all.body.traces.length, 4);
    const errors = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces?status=error`, { token: user.token });
    assert.equal(errors.body.traces.length, 1);
    const refusal = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces/${errors.body.traces[0].trace_id}`, { token: user.token });
    assert.deepEqual(refusal.body.spans.map((s) => s.name), ['POST /api/chat', 'authenticate', 'tenant', 'limits']);
    const limits = refusal.body.spans.at(-1);
    assert.equal(limits.status, 'error');
    assert.equal(limits.status_message, 'quota_exceeded');
    assert.equal(limits.attributes.limit, 'messages_per_day');

    const costly = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces?min_cost_micros=1200`, { token: user.token });
    assert.deepEqual(costly.body.traces.map((x) => x.trace_id), [TRACE], 'only the chat with a tool call cost that much');
    const bySession = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces?session_id=${plain.body.session_id}`, { token: user.token });
    assert.deepEqual(bySession.body.traces.map((x) => x.trace_id), [plain.body.trace_id]);
    const page = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces?limit=2`, { token: user.token });
    assert.equal(page.body.traces.length, 2);
    const rest = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces?limit=2&before=${encodeURIComponent(page.body.next_before)}`, { token: user.token });
    assert.ok(rest.body.traces.length >= 1);
    const future = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces?from=2261-01-01`, { token: user.token });
    assert.equal(future.body.traces.length, 0);
    const beyond = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces?from=2999-01-01`, { token: user.token });
    assert.equal(beyond.status, 400, 'a time a timestamp cannot hold is refused, not wrapped around');
    assert.equal(beyond.body.error.code, 'invalid_date');

    const theirs = await api(gh.url, 'GET', `/api/tenants/${other.tenant_id}/traces`, { token: other.token });
    assert.equal(theirs.body.traces.length, 0);
    const peek = await api(gh.url, 'GET', `/api/tenants/${other.tenant_id}/traces/${TRACE}`, { token: other.token });
    assert.equal(peek.status, 404);
  });
});
