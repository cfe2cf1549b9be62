// The agent asks before it acts: a tenant admin's HTTP API tools (send_email, list_events) call the
// fake provider's resource API with the user's vaulted token; send_email needs approval by its own
// rule, list_events by a tenant policy ("arguments.count > 5"). A held call is stored bound to its
// exact arguments, the chat turn ends telling the user (nothing is held open), and then:
// approved -> the call runs exactly once with the approved arguments and the model is told the
// result; denied or expired -> it never runs and the model is told why. A pending approval
// survives a restart (SIGTERM, start again on the same data directory) and resumes afterwards.
// The model is a scripted OpenAI-compatible fake that calls the tool named in the user's message
// and, when it sees a tool result, answers "TOLD: <result>" — so the session shows what it was told.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, signUp, startGatehouse, parseSse, strongPassword } from '../lib/gatehouse.mjs';
import { scriptedModel, startFakeOpenAI } from '../fakes/openai.mjs';
import { startFakeProvider } from '../fakes/oauth_provider.mjs';
import { tenantWithUsers, createConnection, connectAccount, openFeed, waitUntil, sleep, vaultEnv } from '../lib/vault.mjs';


function tools(fake) {
  return [
    {
      name: 'send_email', description: 'Send an email from the user\'s mailbox', method: 'POST',
      url: `${fake.issuer}/api/mail/send`, connection: 'fake',
      parameters: { type: 'object', properties: { to: { type: 'string' }, subject: { type: 'string' }, body: { type: 'string' } },
        required: ['to', 'subject'] },
      approval: { when: 'always', binding_message: 'Send "{arguments.subject}" to {arguments.to}' },
    },
    {
      name: 'list_events', description: 'List calendar events', method: 'GET',
      url: `${fake.issuer}/api/calendar/events`, connection: 'fake',
      parameters: { type: 'object', properties: { calendar: { type: 'string' }, count: { type: 'integer' } } },
    },
    {
      name: 'send_quick', description: 'Send an email, approval expires fast', method: 'POST',
      url: `${fake.issuer}/api/mail/send`, connection: 'fake',
      parameters: { type: 'object', properties: { to: { type: 'string' }, subject: { type: 'string' } }, required: ['to'] },
      approval: { when: 'always', expires_in_seconds: 1 },
    },
  ];
}

async function setUpTenant(gh, fake) {
  const { admin, members: [user] } = await tenantWithUsers(gh, { users: 1, tier: 'premium' });  // 10 concurrent sessions
  await createConnection(gh, admin, fake);
  for (const def of tools(fake)) {
    const res = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/http-tools`, { token: admin.token, body: def });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const policies = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/approval-policies`, {
    token: admin.token, body: { policies: [{ tool: 'list_events', when: 'arguments.count > 5', binding_message: 'List {arguments.count} events' }] },
  });
  assert.equal(policies.status, 200, JSON.stringify(policies.body));
  const connected = await connectAccount(gh, user);
  assert.equal(connected.status, 302);
  assert.match(connected.location, /connected=fake/);
  return { admin, user };
}

function chat(gh, who, message, sessionId) {
  return api(gh.url, 'POST', '/api/chat', { token: who.token, body: sessionId ? { message, session_id: sessionId } : { message } });
}

async function approvalFor(gh, who, sessionId) {
  const list = await api(gh.url, 'GET', '/api/me/approvals', { token: who.token });
  assert.equal(list.status, 200);
  return list.body.approvals.find((a) => a.session_id === sessionId);
}

async function messagesOf(gh, who, sessionId) {
  const res = await api(gh.url, 'GET', `/api/sessions/${sessionId}/messages`, { token: who.token });
  assert.equal(res.status, 200);
  return res.body.messages;
}

// Waits until the session's last message is the model's answer to the decided call.
async function toldAfterDecision(gh, who, sessionId) {
  return waitUntil(async () => {
    const msgs = await messagesOf(gh, who, sessionId);
    const last = msgs[msgs.length - 1];
    return last?.role === 'assistant' && last.content.startsWith('TOLD:') ? msgs : null;
  }, 15000, 'the model to be told of the decision');
}

const mailTo = (fake, to) => fake.sentMail.filter((m) => m.to === to);

describe('agent tools that need approval', () => {
  let gh;
  let fake;
  let model;
  let admin;
  let user;
  let outsider;

  before(async () => {
    model = await startFakeOpenAI(scriptedModel);
    gh = await startGatehouse({ env: {
      ...vaultEnv, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'fake-gpt',
      GATEHOUSE_APPROVALS_SWEEP_INTERVAL_MS: '200',
    } });
    fake = await startFakeProvider({ redirectUri: `${gh.url}/oauth/callback` });
    ({ admin, user } = await setUpTenant(gh, fake));
    outsider = await signUp(gh, { tier: 'advanced' });
  });
  after(async () => {
    await gh.stop();
    await fake.close();
    await model.close();
  });

  test('a held call does not run; the turn ends and tells the user (JSON and SSE)', async () => {
    const args = { to: 'held@example.com', subject: 'Quarterly report', body: 'Attached.' };
    const res = await chat(gh, user, `CALL send_email ${JSON.stringify(args)}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.body.response, /Approval needed: Send "Quarterly report" to held@example\.com/);
    assert.match(res.body.response, /not done it yet/);
    const held = await approvalFor(gh, user, res.body.session_id);
    assert.equal(held.status, 'pending');
    assert.equal(held.kind, 'tool_call');
    assert.equal(held.binding_message, 'Send "Quarterly report" to held@example.com');
    assert.deepEqual(held.tool.arguments, args);
    assert.equal(held.tool.name, 'send_email');
    assert.match(held.tool.arguments_hash, /^[0-9a-f]{64}$/);

    // Over SSE the stream completes too: the tool result says it is pending, the text says what awaits.
    const sse = await fetch(`${gh.url}/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: `CALL send_email ${JSON.stringify({ ...args, to: 'held2@example.com' })}` }),
    });
    const events = parseSse(await sse.text());
    const result = events.find((e) => e.event === 'tool_result');
    assert.equal(result.data.name, 'send_email');
    assert.equal(result.data.is_error, false);
    const pending = typeof result.data.result === 'string' ? JSON.parse(result.data.result) : result.data.result;
    assert.equal(pending.status, 'approval_pending');
    assert.match(pending.approval_id, /^[0-9a-f-]{36}$/);
    const done = events.find((e) => e.event === 'done');
    assert.ok(done, 'the stream ends with done: nothing is held open while the user decides');
    assert.match(done.data.response, /Approval needed/);
    await sleep(600);  // a few sweeps
    assert.equal(mailTo(fake, 'held@example.com').length, 0, 'nothing was sent before approval');
    assert.equal(mailTo(fake, 'held2@example.com').length, 0);
  });

  test('approved: runs exactly once with the approved arguments, and the model is told the result', async () => {
    const args = { to: 'bob@example.com', subject: 'Lunch', body: 'Noon at the usual place?' };
    const feed = openFeed(gh, user.token);
    await feed.waitFor((e) => e.event === 'ready');
    const res = await chat(gh, user, `CALL send_email ${JSON.stringify(args)}`);
    const sessionId = res.body.session_id;
    const requested = await feed.waitFor((e) => e.event === 'approval_requested' && e.data.approval.session_id === sessionId);
    const id = requested.data.approval.id;
    assert.deepEqual(requested.data.approval.tool.arguments, args);

    const wrong = await api(gh.url, 'POST', `/api/me/approvals/${id}/approve`, { token: user.token, body: { arguments_hash: '0'.repeat(64) } });
    assert.equal(wrong.status, 409);
    assert.equal(wrong.body.error.code, 'arguments_mismatch', 'approving other arguments than stored is refused');

    const ok = await api(gh.url, 'POST', `/api/me/approvals/${id}/approve`, {
      token: user.token, body: { arguments_hash: requested.data.approval.tool.arguments_hash },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.status, 'approved');
    const continued = await feed.waitFor((e) => e.event === 'chat_continued' && e.data.approval_id === id, 15000);
    assert.equal(continued.data.session_id, sessionId);
    assert.match(continued.data.response, /^TOLD: /);

    const sent = mailTo(fake, 'bob@example.com');
    assert.equal(sent.length, 1);
    assert.deepEqual({ to: sent[0].to, subject: sent[0].subject, body: sent[0].body }, args, 'exactly the approved arguments');
    assert.equal(sent[0].account, 'alice', 'with the user\'s connected account');

    const msgs = await toldAfterDecision(gh, user, sessionId);
    const last = msgs[msgs.length - 1].content;
    assert.match(last, /"status":200/);
    assert.match(last, /"sent"/, 'the model saw the provider\'s answer');
    const after = await api(gh.url, 'GET', `/api/me/approvals/${id}`, { token: user.token });
    assert.equal(after.body.status, 'completed');
    assert.equal(after.body.outcome.is_error, false);
    assert.equal(after.body.resumed, true);

    // More sweeps, a second decision: still exactly one call.
    const again = await api(gh.url, 'POST', `/api/me/approvals/${id}/approve`, { token: user.token });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'approval_already_decided');
    await sleep(800);
    assert.equal(mailTo(fake, 'bob@example.com').length, 1, 'ran once');
    await feed.close();
  });

  test('denied: never runs, and the model is told the user denied it', async () => {
    const res = await chat(gh, user, `CALL send_email ${JSON.stringify({ to: 'eve@example.com', subject: 'Secrets' })}`);
    const sessionId = res.body.session_id;
    const held = await approvalFor(gh, user, sessionId);
    const deny = await api(gh.url, 'POST', `/api/me/approvals/${held.id}/deny`, { token: user.token });
    assert.equal(deny.status, 200);
    assert.equal(deny.body.status, 'denied');
    const msgs = await toldAfterDecision(gh, user, sessionId);
    assert.match(msgs[msgs.length - 1].content, /the user denied this action; it did not run/);
    const toolMsgs = msgs.filter((m) => m.role === 'tool');
    assert.match(toolMsgs[toolMsgs.length - 1].content, /denied/);
    await sleep(600);
    assert.equal(mailTo(fake, 'eve@example.com').length, 0, 'a denied call never runs');
    const late = await api(gh.url, 'POST', `/api/me/approvals/${held.id}/approve`, { token: user.token });
    assert.equal(late.status, 409, 'a denial is final');
  });

  test('expired: never runs, and the model is told nobody approved in time', async () => {
    const res = await chat(gh, user, `CALL send_quick ${JSON.stringify({ to: 'late@example.com', subject: 'Too late' })}`);
    const sessionId = res.body.session_id;
    const held = await approvalFor(gh, user, sessionId);
    assert.equal(held.status, 'pending');
    const msgs = await toldAfterDecision(gh, user, sessionId);
    assert.match(msgs[msgs.length - 1].content, /did not approve this action in time; it did not run/);
    const rec = await api(gh.url, 'GET', `/api/me/approvals/${held.id}`, { token: user.token });
    assert.equal(rec.body.status, 'expired');
    const late = await api(gh.url, 'POST', `/api/me/approvals/${held.id}/approve`, { token: user.token });
    assert.equal(late.status, 409, 'too late to approve');
    await sleep(600);
    assert.equal(mailTo(fake, 'late@example.com').length, 0, 'an expired call never runs');
  });

  test('a tenant policy holds only the calls its condition names', async () => {
    const before = fake.apiCalls.filter((c) => c.path === '/api/calendar/events').length;
    const small = await chat(gh, user, `CALL list_events ${JSON.stringify({ calendar: 'work', count: 3 })}`);
    assert.equal(small.status, 200);
    assert.match(small.body.response, /^TOLD: .*Standup/s, 'count 3 ran at once');
    assert.equal(fake.apiCalls.filter((c) => c.path === '/api/calendar/events').length, before + 1);

    const big = await chat(gh, user, `CALL list_events ${JSON.stringify({ calendar: 'work', count: 50 })}`);
    assert.match(big.body.response, /Approval needed: List 50 events/);
    assert.equal(fake.apiCalls.filter((c) => c.path === '/api/calendar/events').length, before + 1, 'count 50 waits');
    const held = await approvalFor(gh, user, big.body.session_id);
    await api(gh.url, 'POST', `/api/me/approvals/${held.id}/approve`, { token: user.token });
    await toldAfterDecision(gh, user, big.body.session_id);
    const calls = fake.apiCalls.filter((c) => c.path === '/api/calendar/events');
    assert.equal(calls.length, before + 2);
    assert.deepEqual(calls[calls.length - 1].query, { calendar: 'work', count: '50' });
  });

  test('only the user can see and decide their held calls; policies are their tenant admin\'s', async () => {
    const res = await chat(gh, user, `CALL send_email ${JSON.stringify({ to: 'mine@example.com', subject: 'Mine' })}`);
    const held = await approvalFor(gh, user, res.body.session_id);
    for (const [who, what] of [[admin, 'the tenant admin'], [outsider, 'another tenant']]) {
      const list = await api(gh.url, 'GET', '/api/me/approvals', { token: who.token });
      assert.ok(!list.body.approvals.some((a) => a.id === held.id), `${what} does not see it`);
      for (const [method, p] of [['GET', ''], ['POST', '/approve'], ['POST', '/deny']]) {
        const r = await api(gh.url, method, `/api/me/approvals/${held.id}${p}`, { token: who.token });
        assert.equal(r.status, 404, `${what} ${method} ${p}`);
        assert.equal(r.body.error.code, 'approval_not_found');
      }
    }
    for (const method of ['GET', 'PUT']) {
      const r = await api(gh.url, method, `/api/tenants/${admin.tenant_id}/approval-policies`, {
        token: outsider.token, body: method === 'PUT' ? { policies: [] } : undefined,
      });
      assert.equal(r.status, 403, `another tenant's admin cannot ${method} the policies`);
      assert.ok(r.body.error.code);
    }
    const memberPut = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/approval-policies`, { token: user.token, body: { policies: [] } });
    assert.equal(memberPut.status, 403, 'a member cannot change policies');
    const bad = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/approval-policies`, {
      token: admin.token, body: { policies: [{ tool: 'send_email', when: 'arguments.amount >' }] },
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error.code, 'invalid_policy');
    assert.equal((await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/approval-policies`, { token: admin.token })).body.policies.length, 1,
      'a refused update changes nothing');
    await api(gh.url, 'POST', `/api/me/approvals/${held.id}/deny`, { token: user.token });
    await toldAfterDecision(gh, user, res.body.session_id);
  });

  test('no provider token appears in approvals, messages or logs', async () => {
    const live = fake.liveTokens();
    assert.ok(live.length > 0);
    const approvals = JSON.stringify((await api(gh.url, 'GET', '/api/me/approvals', { token: user.token })).body);
    const sessions = (await api(gh.url, 'GET', `/api/tenants/${user.tenant_id}/sessions`, { token: user.token })).body.sessions;
    let messages = '';
    for (const s of sessions) messages += JSON.stringify(await messagesOf(gh, user, s.session_id));
    const logs = gh.lines.join('\n');
    for (const t of live) {
      assert.ok(!approvals.includes(t), 'not in approvals');
      assert.ok(!messages.includes(t), 'not in messages');
      assert.ok(!logs.includes(t), 'not in logs');
    }
    for (const req of model.requests) assert.ok(!live.some((t) => req.raw.includes(t)), 'never sent to the model');
  });
});

describe('a pending approval survives a restart', () => {
  let dataDir;
  let fake;
  let model;
  let gh;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'gh-approvals-'));
    model = await startFakeOpenAI(scriptedModel);
  });
  after(async () => {
    await gh?.stop();
    await fake?.close();
    await model.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('held before SIGTERM, approved after the restart: runs once, and the conversation goes on', async () => {
    const env = { ...vaultEnv, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'fake-gpt',
      GATEHOUSE_APPROVALS_SWEEP_INTERVAL_MS: '200' };
    gh = await startGatehouse({ env, dataDir });
    fake = await startFakeProvider({ redirectUri: `${gh.url}/oauth/callback` });
    const { user } = await setUpTenant(gh, fake);
    const args = { to: 'restart@example.com', subject: 'After the restart', body: 'Still here.' };
    const res = await chat(gh, user, `CALL send_email ${JSON.stringify(args)}`);
    const sessionId = res.body.session_id;
    const held = await approvalFor(gh, user, sessionId);
    assert.equal(held.status, 'pending');

    const stopped = await gh.stop();
    assert.equal(stopped.code, 0, 'SIGTERM drains and exits 0');
    gh = await startGatehouse({ env, dataDir });
    // The issuer names the port, so log in again at the restarted server.
    const login = await api(gh.url, 'POST', '/api/auth/login', { body: { email: user.email, password: strongPassword } });
    assert.equal(login.status, 200);
    const again = { ...user, token: login.body.access_token };

    const still = await api(gh.url, 'GET', `/api/me/approvals/${held.id}`, { token: again.token });
    assert.equal(still.status, 200);
    assert.equal(still.body.status, 'pending', 'the request survived the restart');
    assert.deepEqual(still.body.tool.arguments, args);
    await sleep(600);
    assert.equal(mailTo(fake, 'restart@example.com').length, 0, 'the restart ran nothing');

    const feed = openFeed(gh, again.token);
    await feed.waitFor((e) => e.event === 'ready');
    const ok = await api(gh.url, 'POST', `/api/me/approvals/${held.id}/approve`, { token: again.token, body: { arguments_hash: held.tool.arguments_hash } });
    assert.equal(ok.status, 200);
    await feed.waitFor((e) => e.event === 'chat_continued' && e.data.approval_id === held.id, 15000);
    const msgs = await toldAfterDecision(gh, again, sessionId);
    assert.match(msgs[msgs.length - 1].content, /"status":200/);
    await sleep(600);
    const sent = mailTo(fake, 'restart@example.com');
    assert.equal(sent.length, 1, 'ran exactly once');
    assert.deepEqual({ to: sent[0].to, subject: sent[0].subject, body: sent[0].body }, args);
    await feed.close();
  });
});
