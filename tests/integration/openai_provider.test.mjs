// The OpenAI-compatible provider against a fake server that speaks the real SSE wire format:
// streaming, a tool-call round trip, usage, upstream errors, and the API key never leaking.
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGatehouse, api, signUp, parseSse } from '../lib/gatehouse.mjs';
import { startFakeOpenAI } from '../fakes/openai.mjs';

describe('OpenAI-compatible model provider', () => {
  let fake;
  let gh;
  let user;
  // Each test scripts the fake upstream's turns and starts Gatehouse pointed at it.
  async function setUp(turns, env = {}) {
    fake = await startFakeOpenAI(turns);
    gh = await startGatehouse({ env: {
      OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test-very-secret', OPENAI_MODEL: 'fake-gpt',
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096', ...env,
    } });
    user = await signUp(gh, { tier: 'advanced' });
  }
  afterEach(async () => { await gh.stop(); await fake.close(); });

  test('streams text and runs a tool-call round trip', async () => {
    await setUp([
      { tool_calls: [{ id: 'call_abc', name: 'get_current_weather', arguments: '{"location":"Paris"}' }],
        usage: { prompt_tokens: 30, completion_tokens: 9 } },
      { text: 'It is mild in Paris today.', usage: { prompt_tokens: 60, completion_tokens: 8 } },
    ]);
    const res = await fetch(`${gh.url}/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: 'How is the weather in Paris?' }),
    });
    const events = parseSse(await res.text());
    const kinds = events.map((e) => e.event);
    assert.deepEqual(kinds.filter((k) => k !== 'delta'), ['start', 'tool_call', 'tool_result', 'done']);
    assert.equal(events.find((e) => e.event === 'tool_call').data.arguments.location, 'Paris');
    const done = events.at(-1).data;
    assert.equal(done.response, 'It is mild in Paris today.');
    assert.equal(events.filter((e) => e.event === 'delta').map((e) => e.data.text).join(''), done.response);
    assert.deepEqual(done.usage, { input_tokens: 90, output_tokens: 17 });
    assert.equal(done.model, 'fake-gpt');

    assert.equal(fake.requests.length, 2);
    const [first, second] = fake.requests;
    assert.equal(first.headers.authorization, 'Bearer sk-test-very-secret');
    assert.equal(first.body.model, 'fake-gpt');
    assert.equal(first.body.stream, true);
    assert.deepEqual(first.body.stream_options, { include_usage: true });
    assert.equal(first.body.messages[0].role, 'system');
    assert.match(first.body.messages[0].content, new RegExp(user.tenant_id));
    assert.equal(first.body.messages.at(-1).content, 'How is the weather in Paris?');
    assert.deepEqual(first.body.tools.map((t) => t.function.name), ['get_current_weather'], 'the plan\'s tools only');
    assert.equal(first.body.user, `${user.tenant_id}/${user.user_id}`, 'the tenant context travels with the call');
    const toolMsg = second.body.messages.at(-1);
    assert.equal(toolMsg.role, 'tool');
    assert.equal(toolMsg.tool_call_id, 'call_abc');
    assert.equal(JSON.parse(toolMsg.content).location, 'Paris');
    assert.equal(second.body.messages.at(-2).tool_calls[0].function.name, 'get_current_weather');

    const usage = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/usage`, { token: user.token });
    assert.equal(usage.body.day.input_tokens, 90);
    assert.equal(usage.body.day.output_tokens, 17);
  });

  test('upstream failures are retried or become clear errors; the key never appears in logs or answers', async () => {
    await setUp([
      { status: 500, error: 'boom' },
      { text: 'Recovered.' },
      { status: 401, error: 'Incorrect API key provided: sk-test-very-secret' },
    ]);
    const r = await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'hello' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.response, 'Recovered.');
    assert.equal(fake.requests.length, 2, 'the 500 was retried once');
    const sse = await fetch(`${gh.url}/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: 'hello again', session_id: r.body.session_id }),
    });
    const text = await sse.text();
    const events = parseSse(text);
    assert.equal(events.at(-1).event, 'error');
    assert.equal(events.at(-1).data.code, 'upstream_auth_failed');
    assert.equal(fake.requests.length, 3, 'a refused key is not retried');
    const usage = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/usage`, { token: user.token });
    assert.equal(usage.body.day.messages, 1, 'the failed turn that consumed nothing is released');
    assert.ok(!gh.lines.join('\n').includes('sk-test-very-secret'), 'the API key is not logged');
    assert.ok(!text.includes('sk-test-very-secret'), 'nor sent to the client, though the upstream quoted it');
    assert.ok(text.includes('[redacted]'), text);
  });

  test('a 429 is waited out for as long as its Retry-After says, then answered', async () => {
    await setUp([{ status: 429, error: 'slow down', headers: { 'retry-after': '1' } }, { text: 'Now then.' }]);
    const r = await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'hello' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.response, 'Now then.');
    assert.equal(fake.requests.length, 2);
    assert.ok(fake.requests[1].at - fake.requests[0].at >= 950,
      `the retry came ${fake.requests[1].at - fake.requests[0].at} ms after the 429, not after its Retry-After`);
  });

  async function waitFor(cond, what) {
    const until = Date.now() + 10000;
    while (!cond()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('a client that disconnects mid-stream cancels the upstream call, and what was consumed is settled', async () => {
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    await setUp([{ text: long, chunkDelayMs: 100, usage: { prompt_tokens: 40, completion_tokens: 60 } }]);
    const abort = new AbortController();
    const res = await fetch(`${gh.url}/api/chat`, {
      method: 'POST', signal: abort.signal,
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: 'Tell me a long story' }),
    });
    const reader = res.body.getReader();
    let text = '';
    while (!text.includes('event: delta')) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    await waitFor(() => fake.requests[0]?.aborted, 'the upstream connection to be closed');
    let usage;
    for (let i = 0; i < 100; i += 1) {
      usage = (await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/usage`, { token: user.token })).body;
      if (usage.day.output_tokens > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(usage.day.messages, 1, 'the interrupted turn consumed tokens, so it counts');
    assert.ok(usage.day.output_tokens > 0, 'the streamed part is settled');
    assert.ok(usage.day.output_tokens < 60, `only what was streamed is settled (${usage.day.output_tokens})`);
  });

  test('a client that leaves before the first token is noticed by the keep-alive and the upstream is cancelled', async () => {
    await setUp([{ text: 'too late', firstChunkDelayMs: 60000 }], { GATEHOUSE_SERVER_SSE_KEEPALIVE_MS: '100' });
    const abort = new AbortController();
    const res = await fetch(`${gh.url}/api/chat`, {
      method: 'POST', signal: abort.signal,
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: 'hello?' }),
    });
    const reader = res.body.getReader();
    let text = '';
    while (!text.includes(': keepalive')) text += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    await waitFor(() => fake.requests[0]?.aborted, 'the upstream connection to be closed');
    // The reservation is released once the cancelled turn has been recorded.
    let usage;
    for (let i = 0; i < 100; i += 1) {
      usage = (await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/usage`, { token: user.token })).body;
      if (usage.day.messages === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(usage.day.messages, 0, 'nothing was consumed, so the message is released');
    assert.equal(usage.day.output_tokens, 0);
  });

  // Nothing is written to a non-streaming client until its answer is ready, so no failed write
  // can tell Gatehouse it left: the server watches the connection, and a client that closes it
  // cancels the upstream call; the turn consumed nothing, so its reservation is released.
  for (const [name, send] of [
    ['a non-streaming /v1/chat/completions', (signal) => fetch(`${gh.url}/v1/chat/completions`, {
      method: 'POST', signal,
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-gpt', messages: [{ role: 'user', content: 'take your time' }] }),
    })],
    ['an /api/chat turn answered as JSON', (signal) => fetch(`${gh.url}/api/chat`, {
      method: 'POST', signal,
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'take your time' }),
    })],
  ]) {
    test(`a client that leaves ${name} before its answer cancels the upstream call`, async () => {
      await setUp([{ text: 'too late', firstChunkDelayMs: 60000, usage: { prompt_tokens: 5, completion_tokens: 2 } }]);
      const abort = new AbortController();
      const pending = send(abort.signal).catch((e) => e);
      await waitFor(() => fake.requests.length === 1, 'the upstream call to start');
      abort.abort();
      assert.equal((await pending).name, 'AbortError');
      await waitFor(() => fake.requests[0].aborted, 'the upstream call to be cancelled');
      // The request is over (logged as 499, the client closed it) once the turn is recorded.
      await waitFor(() => gh.lines.some((l) => l.includes('"msg":"access"') && l.includes('"status":499')),
        'the access log line');
      const usage = (await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/usage`, { token: user.token })).body;
      assert.equal(usage.day.messages, 0, 'nothing was consumed, so the message is released');
      assert.equal(usage.day.output_tokens, 0);
    });
  }

  async function chatEvents(message) {
    const res = await fetch(`${gh.url}/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message }),
    });
    assert.equal(res.status, 200);
    return parseSse(await res.text());
  }

  test('a model that never stops calling tools ends at the plan\'s step limit with a clear event', async () => {
    const call = { id: 'call_again', name: 'get_current_weather', arguments: '{"location":"Paris"}' };
    await setUp([{ tool_calls: [call] }], { GATEHOUSE_PLANS_ADVANCED_MAX_AGENT_STEPS: '3' });
    const events = await chatEvents('Weather, forever');
    const kinds = events.map((e) => e.event).filter((k) => k !== 'delta');
    assert.deepEqual(kinds, ['start', 'tool_call', 'tool_result', 'tool_call', 'tool_result', 'tool_call', 'tool_result', 'error']);
    assert.equal(events.at(-1).data.code, 'agent_step_limit');
    assert.match(events.at(-1).data.message, /3 steps/);
    assert.equal(fake.requests.length, 3, 'three model calls, no fourth');
  });

  test('a whole answer slower than the headers timeout is waited for, asked once, and has no first-token time', async () => {
    fake = await startFakeOpenAI([{ text: 'Worth the wait.', firstChunkDelayMs: 1500 }]);
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-whole-'));
    const file = path.join(dir, 'gatehouse.yaml');
    writeFileSync(file, `models:\n  default: slow-gpt\n  catalog:\n    slow-gpt:\n      provider: openai\n`
      + `      base_url: ${fake.url}\n      model: fake-gpt\n      timeout_ms: 1000\n      retry_max_attempts: 3\n`
      + '      retry_initial_backoff_ms: 1\n      retry_max_backoff_ms: 2\n');
    gh = await startGatehouse({ args: ['--config', file], env: { GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096' } });
    user = await signUp(gh, { tier: 'advanced' });
    const r = await api(gh.url, 'POST', '/v1/chat/completions', {
      token: user.token, body: { model: 'slow-gpt', messages: [{ role: 'user', content: 'Take your time' }] },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.choices[0].message.content, 'Worth the wait.');
    assert.equal(fake.requests.length, 1, 'asked once: a whole answer\'s headers come after it is generated');
    assert.equal(fake.requests[0].body.stream, undefined);
    const traces = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces`, { token: user.token });
    const trace = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces/${traces.body.traces[0].trace_id}`, { token: user.token });
    const call = trace.body.spans.find((s) => s.name === 'model_call');
    assert.ok(call.attributes['latency_ms'] >= 1000, JSON.stringify(call.attributes));
    assert.equal(call.attributes['time_to_first_token_ms'], undefined, 'no first token in a whole answer');
  });

  test('a model call still running at the plan\'s time limit is cancelled upstream and ends with a clear event', async () => {
    await setUp([{ text: 'too late', firstChunkDelayMs: 30000 }], { GATEHOUSE_PLANS_ADVANCED_MAX_AGENT_SECONDS: '1' });
    const events = await chatEvents('Take your time');
    assert.equal(events.at(-1).event, 'error');
    assert.equal(events.at(-1).data.code, 'agent_time_limit');
    await waitFor(() => fake.requests[0]?.aborted, 'the upstream call to be cancelled');
    assert.ok(!events.some((e) => e.event === 'done'));
  });
});
