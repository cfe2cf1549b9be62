// A Bedrock agent as the chat's model, end to end (issue 4, seed 004): the real binary calls a
// fake bedrock-agent-runtime that answers InvokeAgent in the real event-stream framing. The call
// carries the tenant's session id and session state, with the organization_type of the catalog
// entry the tenant's plan uses; the agent's trace events become spans of the chat's trace, seen
// through the traces API by that tenant only; the AWS secret never shows in logs or spans.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGatehouse, api, signUp } from '../lib/gatehouse.mjs';
import { startFakeBedrockAgent, traceEvent, chunkEvent } from '../fakes/bedrock_agent.mjs';

const SECRET = 'integration-agent-secret-never-shown';
const part = (trace) => ({ agentId: 'AGENT1', agentAliasId: 'ALIAS1', agentVersion: '2', sessionId: 'ignored', trace });
const LONG = 'why '.repeat(600);  // 2400 characters of rationale

describe('Bedrock agent (InvokeAgent)', () => {
  let fake; let gh; let user; let other;
  before(async () => {
    fake = await startFakeBedrockAgent([[
      traceEvent(part({ preProcessingTrace: { modelInvocationOutput: { traceId: 'pre-1',
        parsedResponse: { isValid: true }, metadata: { usage: { inputTokens: 700, outputTokens: 40 } } } } })),
      traceEvent(part({ orchestrationTrace: { rationale: { traceId: 'orc-1', text: LONG } } })),
      traceEvent(part({ orchestrationTrace: { invocationInput: { traceId: 'orc-1', invocationType: 'ACTION_GROUP',
        actionGroupInvocationInput: { actionGroupName: 'costs', apiPath: '/spend', verb: 'get' } } } })),
      chunkEvent('Your spend '),
      traceEvent(part({ orchestrationTrace: { observation: { traceId: 'orc-1', type: 'FINISH',
        finalResponse: { text: 'Your spend is $42.' } } } })),
      chunkEvent('is $42.'),
    ]]);
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-bedrock-agent-'));
    const agent = (orgType) => `
      provider: bedrock_agent
      agent_id: AGENT1
      agent_alias_id: ALIAS1
      base_url: ${fake.url}
      region: us-east-1
      aws_access_key_id: AKIDINTEGRATION
      aws_secret_access_key: ${SECRET}
      organization_type: ${orgType}
      retry_max_attempts: 1`;
    const config = path.join(dir, 'gatehouse.yaml');
    writeFileSync(config, `
models:
  catalog:
    agent-enterprise:${agent('enterprise')}
    agent-startup:${agent('startup')}
plans:
  advanced:
    default_model: agent-enterprise
  basic:
    default_model: agent-startup
`);
    gh = await startGatehouse({ args: ['--config', config], env: {
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096', GATEHOUSE_LOG_LEVEL: 'debug' } });
    // Short tenant names: {tenant_id}-{user_id}-{session_id} then fits InvokeAgent's 100 characters
    // (a longer one is sanitised and hashed, see models/bedrock_agent.h).
    user = await signUp(gh, { tier: 'advanced', tenantName: 'Acme Agents' });
    other = await signUp(gh, { tier: 'basic', tenantName: 'Globex' });
  });
  after(async () => { await gh?.stop(); await fake?.close(); });

  let chat;
  test('the chat calls InvokeAgent with the seed\'s session id and the plan\'s organization_type', async () => {
    chat = await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'What is our AWS spend this month?' } });
    assert.equal(chat.status, 200, JSON.stringify(chat.body));
    assert.equal(chat.body.response, 'Your spend is $42.');
    assert.deepEqual(chat.body.usage, { input_tokens: 700, output_tokens: 40 }, 'the usage the agent\'s trace reported');

    assert.equal(fake.requests.length, 1);
    const req = fake.requests[0];
    assert.equal(req.url, `/agents/AGENT1/agentAliases/ALIAS1/sessions/${user.tenant_id}-${user.user_id}-${chat.body.session_id}/text`);
    assert.match(req.headers.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDINTEGRATION\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
    assert.equal(req.body.inputText, 'What is our AWS spend this month?');
    assert.equal(req.body.enableTrace, true);
    assert.deepEqual(req.body.sessionState.sessionAttributes, { tenant_id: user.tenant_id, user_id: user.user_id,
      subscription_tier: 'advanced', organization_type: 'enterprise', user_role: 'admin' });
    assert.equal(req.body.sessionState.promptSessionAttributes.tenant_context, `${user.tenant_id} enterprise user`);

    const o = await api(gh.url, 'POST', '/api/chat', { token: other.token, body: { message: 'hello' } });
    assert.equal(o.status, 200, JSON.stringify(o.body));
    assert.equal(fake.requests[1].body.sessionState.sessionAttributes.organization_type, 'startup', 'per plan: another catalog entry');
  });

  test('each trace event is a span under the turn, with its type, step, tokens and agent', async () => {
    assert.ok(chat, 'the chat ran');
    const r = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces/${chat.body.trace_id}`, { token: user.token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const turn = r.body.spans.find((s) => s.name === 'chat');
    assert.ok(turn, JSON.stringify(r.body.spans.map((s) => s.name)));
    const agentSpans = r.body.spans.filter((s) => s.name === 'bedrock_agent.trace');
    assert.equal(agentSpans.length, 4, JSON.stringify(r.body.spans.map((s) => s.name)));
    assert.equal(r.body.span_count, r.body.spans.length, 'the trace\'s summary counts them');
    for (const s of agentSpans) {
      assert.equal(s.parent_span_id, turn.span_id, 'under the turn\'s span');
      assert.equal(s.kind, 'internal');
      assert.equal(s.cost_micros, 0);
      assert.equal(s.attributes['bedrock_agent.agent_id'], 'AGENT1');
      assert.equal(s.attributes['bedrock_agent.agent_alias_id'], 'ALIAS1');
      assert.equal(s.attributes['bedrock_agent.agent_version'], '2');
      assert.equal(s.attributes['bedrock_agent.session_id'], `${user.tenant_id}-${user.user_id}-${chat.body.session_id}`);
      for (const v of Object.values(s.attributes)) if (typeof v === 'string') assert.ok(Buffer.byteLength(v) <= 1027, 'bounded');
    }
    // (Spans starting in the same microsecond are listed in no particular order.)
    const steps = agentSpans.map((s) => `${s.attributes['bedrock_agent.trace_type']}/${s.attributes['bedrock_agent.step_type']}`);
    assert.deepEqual(steps.sort(), ['orchestrationTrace/invocationInput', 'orchestrationTrace/observation',
      'orchestrationTrace/rationale', 'preProcessingTrace/modelInvocationOutput']);
    const step = (type) => agentSpans.find((s) => s.attributes['bedrock_agent.step_type'] === type);
    const [pre, rationale, invocation, observation] = ['modelInvocationOutput', 'rationale', 'invocationInput', 'observation'].map(step);
    assert.equal(pre.attributes['bedrock_agent.usage.input_tokens'], 700);
    assert.equal(pre.attributes['bedrock_agent.usage.output_tokens'], 40);
    assert.equal(pre.attributes['bedrock_agent.step_trace_id'], 'pre-1');
    assert.ok(rationale.attributes['bedrock_agent.rationale'].startsWith('why why'));
    assert.ok(rationale.attributes['bedrock_agent.rationale'].length < LONG.length, 'long text is cut');
    assert.equal(invocation.attributes['bedrock_agent.invocation_type'], 'ACTION_GROUP');
    assert.match(invocation.attributes['bedrock_agent.detail'], /"actionGroupName":"costs"/);
    assert.equal(observation.attributes['bedrock_agent.observation_type'], 'FINISH');
  });

  test('another tenant\'s admin cannot see the agent\'s spans', async () => {
    assert.ok(chat, 'the chat ran');
    const direct = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces/${chat.body.trace_id}`, { token: other.token });
    assert.equal(direct.status, 403, JSON.stringify(direct.body));
    const own = await api(gh.url, 'GET', `/api/tenants/${other.tenant_id}/traces/${chat.body.trace_id}`, { token: other.token });
    assert.equal(own.status, 404, JSON.stringify(own.body));
    const list = await api(gh.url, 'GET', `/api/tenants/${other.tenant_id}/traces`, { token: other.token });
    assert.equal(list.status, 200);
    assert.ok(!list.body.traces.some((t) => t.trace_id === chat.body.trace_id));
  });

  test('the AWS secret appears in no log line and no span', async () => {
    assert.ok(chat, 'the chat ran');
    const r = await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/traces/${chat.body.trace_id}`, { token: user.token });
    assert.ok(!JSON.stringify(r.body).includes(SECRET));
    assert.ok(!gh.lines.join('\n').includes(SECRET));
  });
});
