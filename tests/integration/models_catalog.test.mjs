// The model catalog, plan fallbacks and the tenant's system prompt template, end to end against
// OpenAI-compatible fakes that record what Gatehouse sent them.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGatehouse, api, signUp, parseSse, binary } from '../lib/gatehouse.mjs';
import { startFakeOpenAI } from '../fakes/openai.mjs';

const PRICE_FILE = `
version: "catalog-test-prices"
currency: USD
agent_runtime:
  - from: 2020-01-01
    orchestration_usd_per_invocation: 0.001
    tool_execution_usd_per_action: 0.0005
models:
  primary-gpt:
    prices:
      - from: 2020-01-01
        input_usd_per_mtok: 30.00
        output_usd_per_mtok: 60.00
  backup-gpt:
    prices:
      - from: 2020-01-01
        input_usd_per_mtok: 2.00
        output_usd_per_mtok: 4.00
`;
const ceilDiv = (a, b) => Math.floor((a + b - 1) / b);

function writeConfig(dir, text) {
  const file = path.join(dir, 'gatehouse.yaml');
  writeFileSync(file, text);
  return file;
}

async function chatSse(gh, token, message) {
  const res = await fetch(`${gh.url}/api/chat`, { method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ message }) });
  assert.equal(res.status, 200);
  return parseSse(await res.text());
}

describe('model catalog and plan fallbacks', () => {
  let failing; let backup; let gh; let admin;
  before(async () => {
    failing = await startFakeOpenAI([{ status: 500, error: 'primary is down' }]);
    backup = await startFakeOpenAI([{ text: 'Answer from the backup model.', usage: { prompt_tokens: 1000, completion_tokens: 100 } }]);
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-catalog-'));
    writeFileSync(path.join(dir, 'prices.yaml'), PRICE_FILE);
    const config = writeConfig(dir, `
models:
  default: primary-gpt
  catalog:
    primary-gpt:
      provider: openai
      base_url: ${failing.url}
      retry_max_attempts: 2
      retry_initial_backoff_ms: 1
      retry_max_backoff_ms: 2
    backup-gpt:
      provider: openai
      model: backup-model-v2
      base_url: ${backup.url}
      api_key: sk-backup-from-file
plans:
  advanced:
    fallback_models: [backup-gpt]
    cost_reports: admin
prices:
  file: ${path.join(dir, 'prices.yaml')}
`);
    gh = await startGatehouse({ args: ['--config', config], env: {
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
      GATEHOUSE_MODELS_CATALOG_PRIMARY_GPT_API_KEY: 'sk-primary-from-env',
    } });
    admin = await signUp(gh, { tier: 'advanced' });
  });
  after(async () => { await gh.stop(); await failing.close(); await backup.close(); });

  test('the chat answers from the fallback after the chosen model fails with 500s, and is billed to it', async () => {
    const events = await chatSse(gh, admin.token, 'Hello?');
    const kinds = events.map((e) => e.event).filter((k) => k !== 'delta');
    assert.deepEqual(kinds, ['start', 'done'], JSON.stringify(events));
    const done = events.at(-1).data;
    assert.equal(done.response, 'Answer from the backup model.');
    assert.equal(done.model, 'backup-gpt');
    assert.deepEqual(done.usage, { input_tokens: 1000, output_tokens: 100 });

    // The chosen model was tried (and retried) first, with its key from the environment.
    assert.equal(failing.requests.length, 2, 'retry_max_attempts: 2 on the failing model');
    assert.equal(failing.requests[0].headers.authorization, 'Bearer sk-primary-from-env');
    assert.equal(failing.requests[0].body.model, 'primary-gpt');
    assert.equal(backup.requests.length, 1);
    assert.equal(backup.requests[0].headers.authorization, 'Bearer sk-backup-from-file');
    assert.equal(backup.requests[0].body.model, 'backup-model-v2', 'the catalog entry\'s provider model id');

    // Cost attributed to the model that answered, at its prices.
    const r = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/overall-cost`, { token: admin.token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const model = r.body.services.find((s) => s.service === 'model');
    assert.deepEqual(model.resources.map((x) => x.resource), ['backup-gpt']);
    const expected = ceilDiv(1000 * 2_000_000, 1e6) + ceilDiv(100 * 4_000_000, 1e6);
    assert.equal(model.cost_micros, expected);
  });

  test('the plan JSON shows its fallback models and time limit', async () => {
    const r = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/subscription`, { token: admin.token });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.plan.fallback_models, ['backup-gpt']);
    assert.equal(typeof r.body.plan.max_agent_seconds, 'number');
  });

  test('API keys never reach the logs', () => {
    const logs = gh.lines.join('\n');
    assert.ok(!logs.includes('sk-primary-from-env'));
    assert.ok(!logs.includes('sk-backup-from-file'));
  });
});

describe('model catalog configuration errors', () => {
  const run = (yaml) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-catalog-bad-'));
    const config = writeConfig(dir, yaml);
    return spawnSync(binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dir, '--config', config],
      { encoding: 'utf8', timeout: 20000, env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '',
        AWS_REGION: '', AWS_DEFAULT_REGION: '', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent',
        AWS_PROFILE: '' } });
  };
  test('an unknown provider stops start-up with exit 2 naming the key', () => {
    const r = run('models:\n  catalog:\n    mystery:\n      provider: telepathy\n');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /models\.catalog\.mystery\.provider/);
  });
  test('a Bedrock agent without its alias, and a fallback naming no model, are refused the same way', () => {
    let r = run('models:\n  catalog:\n    agent:\n      provider: bedrock_agent\n      agent_id: ABC\n');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /models\.catalog\.agent\.agent_alias_id/);
    r = run('plans:\n  basic:\n    fallback_models: [nowhere]\n');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /plans\.basic\.fallback_models/);
  });
  test('Bedrock without a region or credentials is refused at start-up, and secrets are not echoed', () => {
    const r = run('models:\n  catalog:\n    claude:\n      provider: bedrock\n      model: anthropic.claude-3-haiku-20240307-v1:0\n      aws_secret_access_key: do-not-print-me\n');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /models\.catalog\.claude\./);
    assert.ok(!(r.stderr + r.stdout).includes('do-not-print-me'));
  });
});

describe('tenant system prompt template', () => {
  let fake; let gh; let admin; let member; let other;
  before(async () => {
    fake = await startFakeOpenAI([{ text: 'ok', usage: { prompt_tokens: 5, completion_tokens: 1 } }]);
    gh = await startGatehouse({ env: {
      OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'fake-gpt',
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
    } });
    admin = await signUp(gh, { tier: 'advanced', tenantName: 'Acme Prompting' });
    const inv = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token });
    assert.equal(inv.status, 201);
    member = await signUp(gh, { inviteCode: inv.body.invite_code });
    other = await signUp(gh, { tier: 'advanced', tenantName: 'Other Corp' });
  });
  after(async () => { await gh.stop(); await fake.close(); });

  const TEMPLATE = 'You work for {tenant_name} ({tier} plan). Speak to {user_email}, a {role}, on {date}. Tenant {tenant_id}.';

  test('a tenant admin sets the template and the model receives it filled in', async () => {
    let r = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/settings`, { token: admin.token });
    assert.equal(r.status, 200);
    assert.equal(r.body.system_prompt_template, null);
    r = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/settings`, { token: admin.token,
      body: { system_prompt_template: TEMPLATE } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.system_prompt_template, TEMPLATE);
    r = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/settings`, { token: admin.token });
    assert.equal(r.body.system_prompt_template, TEMPLATE);

    const before = fake.requests.length;
    const c = await api(gh.url, 'POST', '/api/chat', { token: member.token, body: { message: 'hi' } });
    assert.equal(c.status, 200, JSON.stringify(c.body));
    const sent = fake.requests[before].body.messages[0];
    assert.equal(sent.role, 'system');
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(sent.content, `You work for Acme Prompting (advanced plan). Speak to ${member.email}, a user, on ${today}. Tenant ${admin.tenant_id}.`);
  });

  test('another tenant keeps the built-in prompt', async () => {
    const before = fake.requests.length;
    const c = await api(gh.url, 'POST', '/api/chat', { token: other.token, body: { message: 'hi' } });
    assert.equal(c.status, 200);
    const sent = fake.requests[before].body.messages[0].content;
    assert.match(sent, /served by Gatehouse/);
    assert.ok(!sent.includes('Acme'));
  });

  test('members and other tenants\' admins can neither read nor change it', async () => {
    for (const [who, method] of [[member, 'GET'], [member, 'PUT'], [other, 'GET'], [other, 'PUT']]) {
      const r = await api(gh.url, method, `/api/tenants/${admin.tenant_id}/settings`, { token: who.token,
        body: method === 'PUT' ? { system_prompt_template: 'You work for {tenant_name}, hijacked.' } : undefined });
      assert.equal(r.status, 403, `${method} by ${who.email}: ${JSON.stringify(r.body)}`);
      assert.equal(typeof r.body.error.code, 'string');
      assert.equal(typeof r.body.error.message, 'string');
    }
    const r = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/settings`, { token: admin.token });
    assert.equal(r.body.system_prompt_template, TEMPLATE, 'unchanged');
  });

  test('unknown placeholders and wrong types are refused with stable errors; null restores the default', async () => {
    let r = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/settings`, { token: admin.token,
      body: { system_prompt_template: 'Hello {api_key}' } });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'invalid_prompt_template');
    r = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/settings`, { token: admin.token,
      body: { system_prompt_template: 42 } });
    assert.equal(r.status, 400);
    r = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/settings`, { token: admin.token,
      body: { system_prompt_template: null } });
    assert.equal(r.status, 200);
    assert.equal(r.body.system_prompt_template, null);
    const before = fake.requests.length;
    await api(gh.url, 'POST', '/api/chat', { token: admin.token, body: { message: 'hi' } });
    assert.match(fake.requests[before].body.messages[0].content, /served by Gatehouse/);
  });
});
