// Gatehouse as an OpenAI-compatible endpoint, driven by the official `openai` SDK: completions
// (plain, streamed, a tool-call round trip, stop sequences), per-user API keys (wrong, revoked,
// isolated between tenants), JWTs as keys, limits, models, and passthrough of a client's tools
// and sampling parameters to a real upstream.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import OpenAI, {
  AuthenticationError, BadRequestError, NotFoundError, PermissionDeniedError, RateLimitError, APIError,
} from 'openai';
import { startGatehouse, api, signUp } from '../lib/gatehouse.mjs';
import { startFakeOpenAI } from '../fakes/openai.mjs';

const base = { GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0', GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096' };

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_current_weather',
    description: 'The current weather at a location',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};
const parisWeather = {
  location: 'Paris', conditions: 'sunny', temperature_c: 21, feels_like_c: 20, humidity_pct: 40, wind_kph: 9,
};

async function createKey(gh, token, name = 'sdk') {
  const r = await api(gh.url, 'POST', '/api/keys', { token, body: { name } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function usageOf(gh, user) {
  return (await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/usage`, { token: user.token })).body;
}

describe('OpenAI-compatible API (offline model)', () => {
  let gh;
  let alice; // advanced plan, tenant A admin
  let key; // alice's API key
  const client = (apiKey) => new OpenAI({ apiKey, baseURL: `${gh.url}/v1`, maxRetries: 0 });

  before(async () => {
    gh = await startGatehouse({ env: { ...base, GATEHOUSE_PLANS_BASIC_MESSAGES_PER_DAY: '2' } });
    alice = await signUp(gh, { tier: 'advanced' });
    key = await createKey(gh, alice.token, 'laptop');
  });
  after(async () => { await gh.stop(); });

  test('an API key is shown once, listed without its secret, and stored only hashed', async () => {
    assert.match(key.key, /^gh_[A-Za-z0-9_-]{43}$/);
    assert.equal(key.name, 'laptop');
    assert.ok(key.id && key.created_at);
    const listed = await api(gh.url, 'GET', '/api/keys', { token: alice.token });
    assert.equal(listed.status, 200);
    const mine = listed.body.keys.find((k) => k.id === key.id);
    assert.equal(mine.name, 'laptop');
    assert.equal(mine.prefix, key.key.slice(0, 11));
    assert.equal(mine.revoked_at, null);
    assert.ok(!JSON.stringify(listed.body).includes(key.key), 'no secret in the list');

    await client(key.key).models.list(); // used at least once, so every write has happened
    const files = readdirSync(gh.dataDir).filter((f) => f.startsWith('gatehouse.db'));
    const stored = Buffer.concat(files.map((f) => readFileSync(path.join(gh.dataDir, f))));
    assert.equal(stored.indexOf(key.key), -1, 'the key itself is not in the database');
    assert.equal(stored.indexOf(key.key.slice(3)), -1);
    const hash = createHash('sha256').update(key.key).digest('hex');
    assert.notEqual(stored.indexOf(hash), -1, 'its SHA-256 is');
    assert.ok(!gh.lines.join('\n').includes(key.key), 'the key is never logged');
  });

  test('a plain completion', async () => {
    const before = await usageOf(gh, alice);
    const c = await client(key.key).chat.completions.create({
      model: 'offline', messages: [{ role: 'user', content: 'Hello there' }], temperature: 0.3,
    });
    assert.equal(c.object, 'chat.completion');
    assert.match(c.id, /^chatcmpl-/);
    assert.equal(c.model, 'offline');
    assert.equal(c.choices.length, 1);
    assert.equal(c.choices[0].finish_reason, 'stop');
    assert.equal(c.choices[0].message.role, 'assistant');
    assert.match(c.choices[0].message.content, /offline model/);
    assert.ok(c.usage.prompt_tokens > 0 && c.usage.completion_tokens > 0);
    assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
    const after = await usageOf(gh, alice);
    assert.equal(after.day.messages, before.day.messages + 1, 'metered like a chat turn');
    assert.equal(after.day.input_tokens, before.day.input_tokens + c.usage.prompt_tokens);
    assert.equal(after.day.output_tokens, before.day.output_tokens + c.usage.completion_tokens);
  });

  test('the model may be omitted: the plan default answers', async () => {
    const c = await client(key.key).chat.completions.create({ messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(c.model, 'offline');
  });

  test('streaming: chunks arrive, concatenate to the answer, and end with a usage chunk', async () => {
    const question = [{ role: 'user', content: 'Tell me about yourself' }];
    const plain = await client(key.key).chat.completions.create({ model: 'offline', messages: question });
    const stream = await client(key.key).chat.completions.create({
      model: 'offline', messages: question, stream: true, stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length > 5, `many chunks, got ${chunks.length}`);
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    assert.equal(text, plain.choices[0].message.content);
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    assert.deepEqual(finish.map((c) => c.choices[0].finish_reason), ['stop']);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, plain.usage);

    // Without include_usage there is no usage chunk.
    const quiet = await client(key.key).chat.completions.create({ model: 'offline', messages: question, stream: true });
    const quietChunks = [];
    for await (const chunk of quiet) quietChunks.push(chunk);
    assert.ok(quietChunks.every((c) => !c.usage));
  });

  test('a tool-call round trip: the client runs its own tool', async () => {
    const oai = client(key.key);
    const messages = [{ role: 'user', content: "What's the weather in Paris?" }];
    const first = await oai.chat.completions.create({ model: 'offline', messages, tools: [weatherTool] });
    const choice = first.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls.length, 1);
    const call = choice.message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_current_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { location: 'Paris' });

    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: JSON.stringify(parisWeather) });
    const second = await oai.chat.completions.create({ model: 'offline', messages, tools: [weatherTool] });
    assert.equal(second.choices[0].finish_reason, 'stop');
    const answer = second.choices[0].message.content;
    assert.match(answer, /Paris/);
    assert.match(answer, /sunny at 21°C/, 'the answer uses the client\'s tool result');
    assert.ok(!/simulated/.test(answer), 'Gatehouse did not run its own weather tool');

    // The same, streamed: the SDK assembles the indexed tool-call deltas.
    const runner = oai.chat.completions.stream({ model: 'offline', messages: messages.slice(0, 1), tools: [weatherTool] });
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.equal(final.choices[0].message.tool_calls[0].id, call.id);
    assert.deepEqual(JSON.parse(final.choices[0].message.tool_calls[0].function.arguments), { location: 'Paris' });
  });

  test('tool_choice "none" offers no tool; Gatehouse\'s own tools are never offered', async () => {
    const oai = client(key.key);
    const messages = [{ role: 'user', content: "What's the weather in Paris?" }];
    const none = await oai.chat.completions.create({ model: 'offline', messages, tools: [weatherTool], tool_choice: 'none' });
    assert.equal(none.choices[0].finish_reason, 'stop');
    assert.equal(none.choices[0].message.tool_calls, undefined);
    const noTools = await oai.chat.completions.create({ model: 'offline', messages });
    assert.equal(noTools.choices[0].message.tool_calls, undefined);
  });

  test('a wrong key is an AuthenticationError (401)', async () => {
    for (const wrong of [`gh_${'A'.repeat(43)}`, 'gh_short', 'sk-not-a-gatehouse-key']) {
      await assert.rejects(client(wrong).chat.completions.create({ model: 'offline', messages: [{ role: 'user', content: 'hi' }] }),
        (e) => e instanceof AuthenticationError && e.status === 401 && typeof e.code === 'string', wrong);
    }
    const err = await client(`gh_${'B'.repeat(43)}`).models.list().catch((e) => e);
    assert.ok(err instanceof AuthenticationError);
    assert.equal(err.code, 'invalid_api_key');
    assert.equal(err.type, 'authentication_error');
  });

  test('a revoked key is refused immediately after revocation', async () => {
    const temp = await createKey(gh, alice.token, 'temporary');
    const oai = client(temp.key);
    const ok = await oai.chat.completions.create({ model: 'offline', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(ok.object, 'chat.completion');
    const del = await api(gh.url, 'DELETE', `/api/keys/${temp.id}`, { token: alice.token });
    assert.equal(del.status, 204);
    const err = await oai.chat.completions.create({ model: 'offline', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    assert.ok(err instanceof AuthenticationError, String(err));
    assert.equal(err.code, 'invalid_api_key');
    const listed = await api(gh.url, 'GET', '/api/keys', { token: alice.token });
    assert.ok(listed.body.keys.find((k) => k.id === temp.id).revoked_at);
  });

  test('an access token (JWT) works as the API key too', async () => {
    const c = await client(alice.token).chat.completions.create({ model: 'offline', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(c.object, 'chat.completion');
    const again = await client(alice.token).models.list();
    assert.ok(again.data.length > 0);
  });

  test('an API key works on the rest of the API, but cannot create keys', async () => {
    const me = await api(gh.url, 'GET', '/api/me', { token: key.key });
    assert.equal(me.status, 200);
    assert.equal(me.body.user_id, alice.user_id);
    assert.equal(me.body.role, 'admin', 'the same principal a JWT gives');
    const r = await api(gh.url, 'POST', '/api/keys', { token: key.key, body: { name: 'minted' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.error.code, 'access_token_required');
  });

  test('/v1/models lists the plan\'s models; unknown models are model_not_found', async () => {
    const models = await client(key.key).models.list();
    const ids = [];
    for await (const m of models) ids.push(m.id);
    assert.deepEqual(ids, ['offline']);
    const one = await client(key.key).models.retrieve('offline');
    assert.equal(one.object, 'model');
    assert.equal(one.owned_by, 'gatehouse');
    await assert.rejects(client(key.key).models.retrieve('gpt-9'), (e) => e instanceof NotFoundError && e.code === 'model_not_found');
    await assert.rejects(client(key.key).chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'hi' }] }),
      (e) => e instanceof NotFoundError && e.code === 'model_not_found');
  });

  test('malformed requests are BadRequestErrors naming the parameter', async () => {
    const oai = client(key.key);
    const cases = [
      [{ model: 'offline', messages: [] }, 'messages'],
      [{ model: 'offline', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] },
        'messages[0].content[0].type'],
      [{ model: 'offline', messages: [{ role: 'user', content: 'hi' }], n: 3 }, 'n'],
      [{ model: 'offline', messages: [{ role: 'user', content: 'hi' }], tools: [weatherTool], tool_choice: { type: 'function', function: { name: 'other' } } },
        'tool_choice.function.name'],
      [{ model: 'offline', messages: [{ role: 'user', content: 'hi' }], temperature: 3 }, 'temperature'],
      [{ model: 'offline', messages: [{ role: 'user', content: 'hi' }], top_p: '0.5' }, 'top_p'],
      [{ model: 'offline', messages: [{ role: 'user', content: 'hi' }], seed: 1.5 }, 'seed'],
      [{ model: 'offline', messages: [{ role: 'user', content: 'hi' }], stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
      [{ model: 'offline', messages: [{ role: 'user', content: 'hi' }], stop: ['a', 7] }, 'stop[1]'],
    ];
    for (const [body, param] of cases) {
      const err = await oai.chat.completions.create(body).catch((e) => e);
      assert.ok(err instanceof BadRequestError, `${param}: ${err}`);
      assert.equal(err.status, 400);
      assert.equal(err.param, param);
      assert.equal(err.type, 'invalid_request_error');
    }
  });

  test('a temperature beyond OpenAI\'s 0 to 2 is a BadRequestError naming temperature, streamed or not', async () => {
    const before = await usageOf(gh, alice);
    for (const stream of [false, true]) {
      const err = await client(key.key).chat.completions.create({
        model: 'offline', messages: [{ role: 'user', content: 'hi' }], temperature: 3, stream,
      }).catch((e) => e);
      assert.ok(err instanceof BadRequestError, String(err));
      assert.equal(err.status, 400);
      assert.equal(err.param, 'temperature');
      assert.equal(err.code, 'invalid_value');
      assert.match(err.message, /temperature must be between 0 and 2/);
    }
    assert.equal((await usageOf(gh, alice)).day.messages, before.day.messages, 'refused before any message is counted');
  });

  test('stop: the offline model\'s answer ends before the first stop sequence, streamed or not', async () => {
    const oai = client(key.key);
    const messages = [{ role: 'user', content: 'Hello there' }];
    const whole = await oai.chat.completions.create({ model: 'offline', messages });
    assert.match(whole.choices[0].message.content, /without any network, so/);

    const cut = await oai.chat.completions.create({ model: 'offline', messages, stop: ['network', 'zebra'], temperature: 0, seed: 7 });
    assert.equal(cut.choices[0].message.content, 'I\'m Gatehouse\'s built-in offline model: I run without any ');
    assert.equal(cut.choices[0].finish_reason, 'stop', 'a stop sequence is an ordinary stop to OpenAI clients');
    assert.ok(cut.usage.completion_tokens < whole.usage.completion_tokens);

    // Streamed, the sequence spanning two pieces ("offline" and " model:"): nothing past the cut.
    const stream = await oai.chat.completions.create({ model: 'offline', messages, stop: 'offline model', stream: true });
    const pieces = [];
    let finish;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) pieces.push(chunk.choices[0].delta.content);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(pieces.join(''), 'I\'m Gatehouse\'s built-in ');
    assert.ok(pieces.every((p) => !p.includes('offline')), JSON.stringify(pieces));
    assert.equal(finish, 'stop');
  });

  test('response_format json_schema: the offline answer is JSON that conforms, whole and streamed', async () => {
    const oai = client(key.key);
    const schema = {
      type: 'object',
      properties: {
        summary: { type: 'string' },
        city: { type: 'string' },
        temp_c: { type: 'number', minimum: -30 },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'array', minItems: 2, items: { type: 'object', properties: { day: { type: 'integer' } }, required: ['day'], additionalProperties: false } },
        note: { type: ['string', 'null'] },
      },
      required: ['summary', 'city', 'temp_c', 'unit', 'days', 'note'],
      additionalProperties: false,
    };
    const response_format = { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } };
    const messages = [{ role: 'user', content: 'Hello there' }];
    const c = await oai.chat.completions.create({ model: 'offline', messages, response_format });
    assert.equal(c.choices[0].finish_reason, 'stop');
    const answer = JSON.parse(c.choices[0].message.content);
    assert.deepEqual(Object.keys(answer).sort(), [...schema.required].sort());
    assert.match(answer.summary, /offline model/, 'the answer-like property carries the usual answer');
    assert.equal(typeof answer.city, 'string');
    assert.equal(answer.temp_c, -30);
    assert.equal(answer.unit, 'celsius');
    assert.deepEqual(answer.days, [{ day: 0 }, { day: 0 }]);
    assert.equal(typeof answer.note, 'string');

    const stream = await oai.chat.completions.create({ model: 'offline', messages, response_format, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.deepEqual(JSON.parse(text), answer, 'streamed, the same JSON');

    const object = await oai.chat.completions.create({ model: 'offline', messages, response_format: { type: 'json_object' } });
    assert.match(JSON.parse(object.choices[0].message.content).answer, /offline model/);
    const plain = await oai.chat.completions.create({ model: 'offline', messages, response_format: { type: 'text' } });
    assert.match(plain.choices[0].message.content, /^I'm Gatehouse/);
  });

  test('a malformed response_format is a BadRequestError naming the parameter', async () => {
    const oai = client(key.key);
    const messages = [{ role: 'user', content: 'hi' }];
    const cases = [
      [{ type: 'xml' }, 'response_format.type'],
      [{ type: 'json_schema' }, 'response_format.json_schema'],
      [{ type: 'json_schema', json_schema: { name: 'no spaces allowed' } }, 'response_format.json_schema.name'],
      [{ type: 'json_schema', json_schema: { name: 'w', schema: 'object' } }, 'response_format.json_schema.schema'],
      [{ type: 'json_schema', json_schema: { name: 'w', strict: 'yes' } }, 'response_format.json_schema.strict'],
    ];
    for (const [response_format, param] of cases) {
      const err = await oai.chat.completions.create({ model: 'offline', messages, response_format }).catch((e) => e);
      assert.ok(err instanceof BadRequestError, `${param}: ${err}`);
      assert.equal(err.param, param);
      assert.equal(err.type, 'invalid_request_error');
    }
  });

  test('limits apply: the plan\'s third message of the day is a RateLimitError', async () => {
    const bob = await signUp(gh, { tier: 'basic' }); // 2 messages a day in this deployment
    const bobKey = await createKey(gh, bob.token);
    const oai = client(bobKey.key);
    const ask = () => oai.chat.completions.create({ model: 'offline', messages: [{ role: 'user', content: 'hi' }] });
    const first = await ask().withResponse();
    assert.equal(first.response.headers.get('x-quota-remaining-messages-day'), '1');
    await ask();
    const err = await ask().catch((e) => e);
    assert.ok(err instanceof RateLimitError, String(err));
    assert.equal(err.status, 429);
    assert.equal(err.code, 'quota_exceeded');
    assert.ok(Number(err.headers.get('retry-after')) > 0);
    // Streaming is refused the same way, before any chunk.
    const streamErr = await oai.chat.completions.create({ model: 'offline', messages: [{ role: 'user', content: 'hi' }], stream: true })
      .catch((e) => e);
    assert.ok(streamErr instanceof RateLimitError);
    const usage = await usageOf(gh, bob);
    assert.equal(usage.day.messages, 2);
  });

  test('tenant isolation: another tenant\'s keys cannot be listed or revoked', async () => {
    const carol = await signUp(gh, { tier: 'advanced' }); // tenant B
    const carolKey = await createKey(gh, carol.token, 'carol');
    for (const credential of [carol.token, carolKey.key]) {
      const list = await api(gh.url, 'GET', '/api/keys', { token: credential });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.keys.map((k) => k.id), [carolKey.id]);
      const tenantList = await api(gh.url, 'GET', '/api/keys?scope=tenant', { token: credential });
      assert.deepEqual(tenantList.body.keys.map((k) => k.id), [carolKey.id], 'her tenant\'s keys only');
      const del = await api(gh.url, 'DELETE', `/api/keys/${key.id}`, { token: credential });
      assert.equal(del.status, 404);
      assert.equal(del.body.error.code, 'api_key_not_found');
    }
    const still = await client(key.key).models.list();
    assert.ok(still.data.length > 0, 'alice\'s key still works');
  });

  test('within a tenant: members manage their own keys, admins all of them', async () => {
    const inv = await api(gh.url, 'POST', `/api/tenants/${alice.tenant_id}/invitations`, { token: alice.token });
    const dave = await signUp(gh, { inviteCode: inv.body.invite_code });
    const daveKey = await createKey(gh, dave.token, 'dave');
    const forbidden = await api(gh.url, 'GET', '/api/keys?scope=tenant', { token: dave.token });
    assert.equal(forbidden.status, 403);
    const notHis = await api(gh.url, 'DELETE', `/api/keys/${key.id}`, { token: dave.token });
    assert.equal(notHis.status, 404);
    const all = await api(gh.url, 'GET', '/api/keys?scope=tenant', { token: alice.token });
    assert.ok(all.body.keys.some((k) => k.id === daveKey.id && k.user_id === dave.user_id));
    const revoked = await api(gh.url, 'DELETE', `/api/keys/${daveKey.id}`, { token: alice.token });
    assert.equal(revoked.status, 204);
    await assert.rejects(client(daveKey.key).models.list(), (e) => e instanceof AuthenticationError);
  });
});

describe('OpenAI-compatible API through an OpenAI upstream (passthrough)', () => {
  let fake;
  let gh;
  const client = (apiKey) => new OpenAI({ apiKey, baseURL: `${gh.url}/v1`, maxRetries: 0 });
  async function setUp(turns) {
    fake = await startFakeOpenAI(turns);
    gh = await startGatehouse({ env: {
      ...base, OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-upstream-secret', OPENAI_MODEL: 'fake-gpt',
      GATEHOUSE_PLANS_BASIC_ALLOWED_MODELS: 'offline',
    } });
  }
  afterEach(async () => { await gh.stop(); await fake.close(); });

  test('the client\'s tools reach the upstream and its tool calls come back to the client', async () => {
    await setUp([
      { tool_calls: [{ id: 'call_up1', name: 'lookup_order', arguments: '{"order_id":"42"}' }],
        usage: { prompt_tokens: 30, completion_tokens: 9 } },
      { text: 'Order 42 ships tomorrow.', usage: { prompt_tokens: 50, completion_tokens: 6 } },
    ]);
    const user = await signUp(gh, { tier: 'advanced' });
    const { key } = await createKey(gh, user.token);
    const oai = client(key);
    const lookupOrder = {
      type: 'function',
      function: { name: 'lookup_order', description: 'Finds an order', parameters: { type: 'object', properties: { order_id: { type: 'string' } } } },
    };
    const messages = [{ role: 'system', content: 'You are a shop assistant.' }, { role: 'user', content: 'Where is order 42?' }];
    const first = await oai.chat.completions.create({ model: 'fake-gpt', messages, tools: [lookupOrder], tool_choice: 'required' });
    const call = first.choices[0].message.tool_calls[0];
    assert.equal(first.choices[0].finish_reason, 'tool_calls');
    assert.equal(call.id, 'call_up1');
    assert.equal(call.function.name, 'lookup_order');
    assert.equal(call.function.arguments, '{"order_id":"42"}');
    assert.deepEqual(first.usage, { prompt_tokens: 30, completion_tokens: 9, total_tokens: 39, prompt_tokens_details: { cached_tokens: 0 } });

    const up1 = fake.requests[0].body;
    assert.equal(up1.model, 'fake-gpt');
    assert.deepEqual(up1.tools.map((t) => t.function.name), ['lookup_order'], 'the client\'s tools only');
    assert.deepEqual(up1.tools[0].function.parameters, lookupOrder.function.parameters);
    assert.equal(up1.tool_choice, 'required');
    assert.deepEqual(up1.messages, [
      { role: 'system', content: 'You are a shop assistant.' }, { role: 'user', content: 'Where is order 42?' },
    ], 'the conversation as the client gave it');
    assert.equal(up1.user, `${user.tenant_id}/${user.user_id}`);
    assert.equal(fake.requests[0].headers.authorization, 'Bearer sk-upstream-secret');
    assert.equal(up1.stream, undefined, 'a client that wants the whole answer: so does Gatehouse');

    messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"status":"shipping"}' });
    const stream = await oai.chat.completions.create({
      model: 'fake-gpt', messages, tools: [lookupOrder], stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'Order 42 ships tomorrow.');
    assert.equal(usage.total_tokens, 56);
    assert.equal(fake.requests[1].body.stream, true, 'a streaming client: the upstream streams');
    const up2 = fake.requests[1].body.messages;
    assert.equal(up2.at(-2).tool_calls[0].id, 'call_up1');
    assert.equal(up2.at(-2).tool_calls[0].function.name, 'lookup_order');
    assert.deepEqual(up2.at(-1), { role: 'tool', tool_call_id: 'call_up1', content: '{"status":"shipping"}' });
    assert.equal(fake.requests.length, 2, 'Gatehouse ran no tool and made no call of its own');

    const u = await usageOf(gh, user);
    assert.equal(u.day.messages, 2);
    assert.equal(u.day.input_tokens, 80);
    assert.equal(u.day.output_tokens, 15);
    assert.ok(!gh.lines.join('\n').includes('sk-upstream-secret'));
  });

  test('the client\'s sampling parameters reach the upstream as given; absent ones are not sent', async () => {
    await setUp([{ text: 'Thought: I know the answer.' }]);
    const user = await signUp(gh, { tier: 'advanced' });
    const oai = client(user.token);
    const messages = [{ role: 'user', content: 'Answer, then say END.' }];
    const c = await oai.chat.completions.create({
      model: 'fake-gpt', messages, temperature: 0.2, top_p: 0.9, stop: ['END'], seed: 7,
      presence_penalty: 0.5, frequency_penalty: -0.25, user: 'ignored-end-user',
    });
    assert.equal(c.choices[0].message.content, 'Thought: I know the answer.');
    const sent = fake.requests[0].body;
    assert.equal(sent.temperature, 0.2);
    assert.equal(sent.top_p, 0.9);
    assert.deepEqual(sent.stop, ['END']);
    assert.equal(sent.seed, 7);
    assert.equal(sent.presence_penalty, 0.5);
    assert.equal(sent.frequency_penalty, -0.25);
    assert.equal(sent.user, `${user.tenant_id}/${user.user_id}`, 'Gatehouse names the end user itself');

    // Streamed, with a single stop string: the same values, stop as a list.
    const stream = await oai.chat.completions.create({ model: 'fake-gpt', messages, temperature: 0, stop: '\nObservation:', stream: true });
    for await (const chunk of stream) assert.ok(chunk);
    const streamed = fake.requests[1].body;
    assert.equal(streamed.stream, true);
    assert.equal(streamed.temperature, 0);
    assert.deepEqual(streamed.stop, ['\nObservation:']);
    for (const absent of ['top_p', 'seed', 'presence_penalty', 'frequency_penalty']) {
      assert.equal(absent in streamed, false, `${absent} was not asked for, so not sent`);
    }

    // A temperature out of range never reaches the upstream.
    const err = await oai.chat.completions.create({ model: 'fake-gpt', messages, temperature: 3 }).catch((e) => e);
    assert.ok(err instanceof BadRequestError, String(err));
    assert.equal(err.param, 'temperature');
    assert.equal(fake.requests.length, 2);
  });

  test('a whole answer from the upstream: its text and usage with cached tokens; a malformed one is a 502', async () => {
    await setUp([
      { text: 'Hello from upstream.', usage: { prompt_tokens: 40, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 30 } } },
      { raw: '{"choices": "not a list"' },
    ]);
    const user = await signUp(gh, { tier: 'advanced' });
    const oai = client(user.token);
    const done = await oai.chat.completions.create({ model: 'fake-gpt', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(done.choices[0].message.content, 'Hello from upstream.');
    assert.equal(done.choices[0].finish_reason, 'stop');
    assert.deepEqual(done.usage, { prompt_tokens: 40, completion_tokens: 4, total_tokens: 44, prompt_tokens_details: { cached_tokens: 30 } });
    assert.equal(fake.requests[0].body.stream, undefined);
    assert.equal(fake.requests[0].headers.accept, 'application/json');
    const err = await oai.chat.completions.create({ model: 'fake-gpt', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    assert.ok(err instanceof APIError && err.status === 502, String(err));
    assert.equal(err.code, 'upstream_malformed');
    const u = await usageOf(gh, user);
    assert.equal(u.day.messages, 1, 'the malformed answer is not counted');
    assert.equal(u.day.input_tokens, 40, 'the whole prompt counts, its cached part included');
    assert.equal(u.day.output_tokens, 4);
  });

  test('response_format reaches the upstream unchanged and its JSON answer comes back as content', async () => {
    const answer = { city: 'Paris', temp_c: 21 };
    await setUp([{ text: JSON.stringify(answer) }]);
    const user = await signUp(gh, { tier: 'advanced' });
    const response_format = {
      type: 'json_schema',
      json_schema: {
        name: 'weather',
        description: 'The weather in a city',
        schema: {
          type: 'object',
          properties: { city: { type: 'string' }, temp_c: { type: 'number' } },
          required: ['city', 'temp_c'],
          additionalProperties: false,
        },
        strict: true,
      },
    };
    const c = await client(user.token).chat.completions.create({
      model: 'fake-gpt', messages: [{ role: 'user', content: 'Weather in Paris?' }], response_format,
    });
    assert.deepEqual(fake.requests[0].body.response_format, response_format);
    assert.deepEqual(JSON.parse(c.choices[0].message.content), answer);
    assert.equal(c.choices[0].finish_reason, 'stop');
  });

  test('a model outside the plan is a PermissionDeniedError; /v1/models shows the plan\'s models', async () => {
    await setUp([{ text: 'ok' }]);
    const basic = await signUp(gh, { tier: 'basic' });
    const advanced = await signUp(gh, { tier: 'advanced' });
    const err = await client(basic.token).chat.completions.create({ model: 'fake-gpt', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    assert.ok(err instanceof PermissionDeniedError, String(err));
    assert.equal(err.code, 'model_not_allowed');
    assert.equal(fake.requests.length, 0);
    assert.equal((await usageOf(gh, basic)).day.messages, 0, 'a refused request counts no message');
    assert.deepEqual((await client(basic.token).models.list()).data.map((m) => m.id), ['offline']);
    assert.deepEqual((await client(advanced.token).models.list()).data.map((m) => m.id).sort(), ['fake-gpt', 'offline']);
  });

  test('an upstream failure: a 502 before streaming, an error frame while streaming; nothing is counted', async () => {
    await setUp([{ status: 500, error: 'boom' }]);
    const user = await signUp(gh, { tier: 'advanced' });
    const oai = client(user.token);
    const err = await oai.chat.completions.create({ model: 'fake-gpt', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
    assert.ok(err instanceof APIError && err.status === 502, String(err));
    assert.equal(err.code, 'upstream_unavailable');
    const stream = await oai.chat.completions.create({ model: 'fake-gpt', messages: [{ role: 'user', content: 'hi' }], stream: true });
    await assert.rejects((async () => { for await (const chunk of stream) void chunk; })(),
      (e) => e instanceof APIError && e.code === 'upstream_unavailable');
    assert.equal((await usageOf(gh, user)).day.messages, 0, 'failed calls that consumed nothing are released');
  });
});
