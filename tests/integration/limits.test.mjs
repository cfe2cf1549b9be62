// Plans and limits over HTTP: exact under concurrency, across processes, across restarts; budgets,
// rate limits, per-user caps; plan and tenant administration with their isolation.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startGatehouse, api, signUp, binary, uniqueEmail, strongPassword } from '../lib/gatehouse.mjs';

const base = { GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0', GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096' };

// Fires n chats at once, alternating between the given servers: /api/chat turns, or with
// completions: true OpenAI-compatible completions (admitted together with their model call).
async function burst(servers, token, n, { completions = false } = {}) {
  if (!Array.isArray(servers)) servers = [servers];
  const request = (i) => (completions
    ? ['/v1/chat/completions', { model: 'offline', messages: [{ role: 'user', content: `hello ${i}` }] }]
    : ['/api/chat', { message: `hello ${i}` }]);
  const results = await Promise.all(Array.from({ length: n }, (_, i) =>
    api(servers[i % servers.length].url, 'POST', request(i)[0], { token, body: request(i)[1] })
      .then((r) => ({ ...r, server: i % servers.length }))));
  const ok = results.filter((r) => r.status === 200).length;
  const refused = results.filter((r) => r.status === 429 && r.body.error.code === 'quota_exceeded').length;
  const okBy = servers.map((_, k) => results.filter((r) => r.status === 200 && r.server === k).length);
  return { ok, refused, okBy, other: results.filter((r) => r.status !== 200 && r.status !== 429) };
}

describe('exact limits', () => {
  test('200 concurrent chats against a 50-per-day plan: exactly 50 succeed, and a restart keeps the count', async () => {
    const env = { ...base, GATEHOUSE_PLANS_BASIC_CONCURRENT_SESSIONS: '1000', GATEHOUSE_ISSUER: 'http://gatehouse.test' };
    let gh = await startGatehouse({ env });
    const u = await signUp(gh, { tier: 'basic' });
    const { ok, refused, other } = await burst(gh, u.token, 200);
    assert.deepEqual(other.map((r) => r.body), []);
    assert.equal(ok, 50);
    assert.equal(refused, 150);
    const before = (await api(gh.url, 'GET', `/api/tenants/${u.tenant_id}/usage`, { token: u.token })).body;
    assert.equal(before.day.messages, 50);
    const dataDir = gh.dataDir;
    await gh.stop({ keepData: true });
    gh = await startGatehouse({ env, dataDir });
    try {
      const after = (await api(gh.url, 'GET', `/api/tenants/${u.tenant_id}/usage`, { token: u.token })).body;
      assert.equal(after.day.messages, 50);
      assert.equal(after.month.messages, 50);
      assert.equal(after.day.input_tokens, before.day.input_tokens);
      const more = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'after restart' } });
      assert.equal(more.status, 429);
    } finally {
      await gh.stop();
    }
  });

  test('two server processes sharing one database file still admit exactly 50', async () => {
    const env = { ...base, GATEHOUSE_PLANS_BASIC_CONCURRENT_SESSIONS: '1000', GATEHOUSE_ISSUER: 'http://gatehouse.test' };
    const a = await startGatehouse({ env });
    const b = await startGatehouse({ env, dataDir: a.dataDir });
    try {
      const u = await signUp(a, { tier: 'basic' });
      const r = await burst([a, b], u.token, 200);
      assert.deepEqual(r.other.map((x) => x.body), []);
      assert.equal(r.ok, 50);
      assert.equal(r.refused, 150);
      assert.ok(r.okBy[0] > 0 && r.okBy[1] > 0, `both processes admitted some: ${r.okBy}`);
      // The same for completions, whose message is taken with the model call's reservation.
      const v = await signUp(b, { tier: 'basic' });
      const c = await burst([a, b], v.token, 200, { completions: true });
      assert.deepEqual(c.other.map((x) => x.body), []);
      assert.equal(c.ok, 50);
      assert.equal(c.refused, 150);
      // Exact across the two processes, but not necessarily shared out: a completion's admission is
      // one short transaction, and SQLite's write lock is not fair between processes (one whose
      // writers hand it straight on can take every admission while the other's busy handler
      // sleeps). Several processes are the PostgreSQL deployment's job (postgres.test.mjs), where
      // writers of a counter row queue for its lock in order.
      assert.equal(c.okBy[0] + c.okBy[1], 50, `admitted by each process: ${c.okBy}`);
      const usage = (await api(a.url, 'GET', `/api/tenants/${v.tenant_id}/usage`, { token: v.token })).body;
      assert.equal(usage.day.messages, 50);
    } finally {
      await b.stop();
      await a.stop();
    }
  });

  test('a spend budget is never exceeded by concurrent chats, and equals the sum of their costs', async () => {
    const gh = await startGatehouse({ env: { ...base,
      GATEHOUSE_PLANS_BASIC_CONCURRENT_SESSIONS: '1000',
      GATEHOUSE_PLANS_BASIC_MESSAGES_PER_DAY: '1000',
      GATEHOUSE_PLANS_BASIC_BUDGET_MICROS_PER_MONTH: '40000',
      GATEHOUSE_PLANS_BASIC_MAX_OUTPUT_TOKENS: '200',
      GATEHOUSE_PRICES_MODELS_OFFLINE_INPUT_PER_MTOK: '3000000',    // $3 per million: 3 micro-dollars a token
      GATEHOUSE_PRICES_MODELS_OFFLINE_OUTPUT_PER_MTOK: '15000000',  // $15 per million
    } });
    try {
      const u = await signUp(gh, { tier: 'basic' });
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) =>
        api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: `tell me something ${i}` } })));
      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status === 429);
      assert.ok(ok.length > 0 && refused.length > 0, `${ok.length} ok, ${refused.length} refused`);
      for (const r of refused) assert.equal(r.body.error.code, 'budget_exceeded');
      const cost = ok.reduce((sum, r) => sum + 3 * r.body.usage.input_tokens + 15 * r.body.usage.output_tokens, 0);
      const usage = (await api(gh.url, 'GET', `/api/tenants/${u.tenant_id}/usage`, { token: u.token })).body;
      assert.equal(usage.month.spend_micros, cost, 'spend is exactly the sum of the settled costs');
      assert.ok(usage.month.spend_micros <= 40000, `spent ${usage.month.spend_micros} of 40000`);
      assert.equal(usage.month.messages, ok.length, 'refused chats were not counted');
    } finally {
      await gh.stop();
    }
  });

  test('the request rate limit refuses with rate_limited and Retry-After', async () => {
    const gh = await startGatehouse({ env: { ...base, GATEHOUSE_PLANS_ADVANCED_REQUESTS_PER_MINUTE: '3' } });
    try {
      const u = await signUp(gh, { tier: 'advanced' });
      const s = (await api(gh.url, 'POST', '/api/sessions', { token: u.token })).body.session_id;
      for (let i = 0; i < 3; i += 1)
        assert.equal((await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'hi', session_id: s } })).status, 200);
      const r = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'hi', session_id: s } });
      assert.equal(r.status, 429);
      assert.equal(r.body.error.code, 'rate_limited');
      assert.equal(r.headers.get('retry-after'), '20');
    } finally {
      await gh.stop();
    }
  });
});

describe('administration', () => {
  const operator = 'ops@example.com';
  const env = { ...base, GATEHOUSE_IDENTITY_PLATFORM_OPERATORS: operator };

  test('tenant admins manage users: usage, roles, caps, removal, invitations, time zone', async () => {
    const gh = await startGatehouse({ env });
    try {
      const admin = await signUp(gh, { tenantName: 'Admin Works', tier: 'advanced' });
      const inv = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token });
      const user = await signUp(gh, { inviteCode: inv.body.invite_code });
      await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'first' } });

      const list = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/users`, { token: admin.token });
      assert.equal(list.status, 200);
      const row = list.body.users.find((x) => x.user_id === user.user_id);
      assert.equal(row.role, 'user');
      assert.equal(row.usage.day.messages, 1);
      assert.ok(!JSON.stringify(list.body).includes('argon2'), 'no password hashes');

      const capTooHigh = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/users/${user.user_id}/limits`,
        { token: admin.token, body: { messages_per_day: 5000 } });
      assert.equal(capTooHigh.status, 422);
      assert.equal(capTooHigh.body.error.code, 'cap_exceeds_plan');
      const cap = await api(gh.url, 'PUT', `/api/tenants/${admin.tenant_id}/users/${user.user_id}/limits`,
        { token: admin.token, body: { messages_per_day: 2 } });
      assert.equal(cap.status, 200);
      const s = (await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/sessions`, { token: user.token })).body.sessions[0].session_id;
      assert.equal((await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'second', session_id: s } })).status, 200);
      const capped = await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'third', session_id: s } });
      assert.equal(capped.status, 429);
      assert.equal(capped.body.error.limit, 'user_messages_per_day');
      assert.equal((await api(gh.url, 'POST', '/api/chat', { token: admin.token, body: { message: 'admin is not capped' } })).status, 200);

      const lastAdmin = await api(gh.url, 'PATCH', `/api/tenants/${admin.tenant_id}/users/${admin.user_id}`, { token: admin.token, body: { role: 'user' } });
      assert.equal(lastAdmin.status, 409);
      assert.equal(lastAdmin.body.error.code, 'last_admin');
      const promote = await api(gh.url, 'PATCH', `/api/tenants/${admin.tenant_id}/users/${user.user_id}`, { token: admin.token, body: { role: 'admin' } });
      assert.equal(promote.status, 200);
      const relogin = await api(gh.url, 'POST', '/api/auth/login', { body: { email: user.email, password: user.password } });
      const me = await api(gh.url, 'GET', '/api/me', { token: relogin.body.access_token });
      assert.equal(me.body.role, 'admin');

      const pending = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token });
      const invs = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token });
      assert.equal(invs.body.invitations.length, 2);
      assert.ok(!JSON.stringify(invs.body).includes(pending.body.invite_code), 'codes are not shown again');
      const open = invs.body.invitations.find((i) => !i.used);
      assert.equal((await api(gh.url, 'DELETE', `/api/tenants/${admin.tenant_id}/invitations/${open.invitation_id}`, { token: admin.token })).status, 204);
      const revoked = await api(gh.url, 'POST', '/api/auth/register',
        { body: { email: uniqueEmail(), password: strongPassword, invite_code: pending.body.invite_code } });
      assert.equal(revoked.status, 422);

      const tz = await api(gh.url, 'PATCH', `/api/tenants/${admin.tenant_id}`, { token: admin.token, body: { timezone: 'Asia/Tokyo' } });
      assert.equal(tz.status, 200);
      assert.equal(tz.body.timezone, 'Asia/Tokyo');
      const badTz = await api(gh.url, 'PATCH', `/api/tenants/${admin.tenant_id}`, { token: admin.token, body: { timezone: 'Mars/Base' } });
      assert.equal(badTz.status, 422);
      const usage = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/usage`, { token: admin.token });
      assert.equal(usage.body.timezone, 'Asia/Tokyo');

      const self = await api(gh.url, 'DELETE', `/api/tenants/${admin.tenant_id}/users/${admin.user_id}`, { token: admin.token });
      assert.equal(self.status, 409);
      assert.equal((await api(gh.url, 'DELETE', `/api/tenants/${admin.tenant_id}/users/${user.user_id}`, { token: admin.token })).status, 204);
      const gone = await api(gh.url, 'POST', '/api/auth/login', { body: { email: user.email, password: user.password } });
      assert.equal(gone.status, 401);
      const refresh = await api(gh.url, 'POST', '/api/auth/refresh', { body: { refresh_token: relogin.body.refresh_token } });
      assert.equal(refresh.status, 401, 'a removed user\'s refresh tokens are revoked');
    } finally {
      await gh.stop();
    }
  });

  test('platform operators create tenants, change plans, suspend and resume, and edit plans', async () => {
    const gh = await startGatehouse({ env });
    try {
      const ops = await signUp(gh, { email: operator, tenantName: 'Operations', tier: 'basic' });
      const tenant = await signUp(gh, { tenantName: 'Customer Co', tier: 'basic' });
      const created = await api(gh.url, 'POST', '/api/admin/tenants', { token: ops.token, body: { name: 'New Customer', subscription_tier: 'advanced', timezone: 'Europe/Berlin' } });
      assert.equal(created.status, 201);
      assert.equal(created.body.tenant_id, 'new-customer');
      const all = await api(gh.url, 'GET', '/api/admin/tenants', { token: ops.token });
      assert.ok(all.body.tenants.some((t) => t.tenant_id === tenant.tenant_id));
      const mine = await api(gh.url, 'GET', '/api/admin/my-tenants', { token: ops.token });
      assert.ok(mine.body.tenants.length >= 3);
      const theirs = await api(gh.url, 'GET', '/api/admin/my-tenants', { token: tenant.token });
      assert.deepEqual(theirs.body.tenants.map((t) => t.tenant_id), [tenant.tenant_id]);

      const upgraded = await api(gh.url, 'PUT', `/api/admin/tenants/${tenant.tenant_id}/plan`, { token: ops.token, body: { subscription_tier: 'premium' } });
      assert.equal(upgraded.status, 200);
      const sub = await api(gh.url, 'GET', `/api/tenants/${tenant.tenant_id}/subscription`, { token: tenant.token });
      assert.equal(sub.body.subscription_tier, 'premium', 'the next request sees the new plan, with the old token');
      const weather = await api(gh.url, 'POST', '/api/chat', { token: tenant.token, body: { message: 'Weather in Oslo?' } });
      assert.equal(weather.body.tool_calls[0].name, 'get_current_weather');

      assert.equal((await api(gh.url, 'POST', `/api/admin/tenants/${tenant.tenant_id}/suspend`, { token: ops.token })).status, 200);
      const blocked = await api(gh.url, 'GET', '/api/me', { token: tenant.token });
      assert.equal(blocked.status, 403);
      assert.equal(blocked.body.error.code, 'tenant_suspended');
      const noLogin = await api(gh.url, 'POST', '/api/auth/login', { body: { email: tenant.email, password: tenant.password } });
      assert.equal(noLogin.status, 403);
      assert.equal((await api(gh.url, 'POST', `/api/admin/tenants/${tenant.tenant_id}/resume`, { token: ops.token })).status, 200);
      assert.equal((await api(gh.url, 'GET', '/api/me', { token: tenant.token })).status, 200);

      const edited = await api(gh.url, 'PUT', '/api/admin/plans/premium', { token: ops.token, body: { messages_per_day: 2 } });
      assert.equal(edited.status, 200);
      assert.equal(edited.body.messages_per_day, 2);
      const bad = await api(gh.url, 'PUT', '/api/admin/plans/premium', { token: ops.token, body: { weather_tool: 'sometimes' } });
      assert.equal(bad.status, 422);
      const s = weather.body.session_id;
      assert.equal((await api(gh.url, 'POST', '/api/chat', { token: tenant.token, body: { message: 'two', session_id: s } })).status, 200);
      const third = await api(gh.url, 'POST', '/api/chat', { token: tenant.token, body: { message: 'three', session_id: s } });
      assert.equal(third.status, 429, 'the edited plan applies at once');
      const plans = await api(gh.url, 'GET', '/api/admin/plans', { token: ops.token });
      assert.equal(plans.body.plans.find((p) => p.name === 'premium').messages_per_day, 2);
    } finally {
      await gh.stop();
    }
  });

  test('admin endpoints refuse other tenants and non-admins, and leak nothing', async () => {
    const gh = await startGatehouse({ env });
    try {
      const a = await signUp(gh, { tenantName: 'Alpha Admin', tier: 'premium' });
      const b = await signUp(gh, { tenantName: 'Beta Admin', tier: 'premium' });
      const inv = await api(gh.url, 'POST', `/api/tenants/${b.tenant_id}/invitations`, { token: b.token });
      const bUser = await signUp(gh, { inviteCode: inv.body.invite_code });
      const invA = await api(gh.url, 'POST', `/api/tenants/${a.tenant_id}/invitations`, { token: a.token });
      const aUser = await signUp(gh, { inviteCode: invA.body.invite_code });
      const invId = (await api(gh.url, 'GET', `/api/tenants/${a.tenant_id}/invitations`, { token: a.token })).body.invitations[0].invitation_id;
      const tenantAdminPaths = [
        ['GET', `/api/tenants/${a.tenant_id}/users`],
        ['PATCH', `/api/tenants/${a.tenant_id}/users/${aUser.user_id}`, { role: 'admin' }],
        ['DELETE', `/api/tenants/${a.tenant_id}/users/${aUser.user_id}`],
        ['PUT', `/api/tenants/${a.tenant_id}/users/${aUser.user_id}/limits`, { messages_per_day: 1 }],
        ['GET', `/api/tenants/${a.tenant_id}/invitations`],
        ['DELETE', `/api/tenants/${a.tenant_id}/invitations/${invId}`],
        ['PATCH', `/api/tenants/${a.tenant_id}`, { timezone: 'UTC' }],
        ['POST', `/api/tenants/${a.tenant_id}/invitations`],
      ];
      const operatorPaths = [
        ['GET', '/api/admin/tenants'],
        ['POST', '/api/admin/tenants', { name: 'Sneaky', subscription_tier: 'premium' }],
        ['PUT', `/api/admin/tenants/${a.tenant_id}/plan`, { subscription_tier: 'basic' }],
        ['POST', `/api/admin/tenants/${a.tenant_id}/suspend`],
        ['POST', `/api/admin/tenants/${a.tenant_id}/resume`],
        ['GET', '/api/admin/plans'],
        ['PUT', '/api/admin/plans/premium', { messages_per_day: 1 }],
      ];
      for (const who of [b, bUser]) {
        for (const [method, path, body] of [...tenantAdminPaths, ...operatorPaths]) {
          const r = await api(gh.url, method, path, { token: who.token, body: body ?? (method === 'GET' || method === 'DELETE' ? undefined : {}) });
          assert.ok(r.status === 403 || r.status === 404, `${method} ${path} gave ${r.status}`);
          const text = JSON.stringify(r.body);
          for (const secret of [a.email, aUser.email, aUser.user_id]) assert.ok(!text.includes(secret), `${path} leaks ${secret}`);
        }
      }
      // A user of tenant A on A's own admin endpoints, and a tenant admin on operator endpoints.
      for (const [method, path, body] of tenantAdminPaths) {
        const r = await api(gh.url, method, path, { token: aUser.token, body: body ?? (method === 'GET' || method === 'DELETE' ? undefined : {}) });
        assert.equal(r.status, 403, `user on ${method} ${path}`);
      }
      for (const [method, path, body] of operatorPaths) {
        const r = await api(gh.url, method, path, { token: a.token, body: body ?? (method === 'GET' ? undefined : {}) });
        assert.equal(r.status, 403, `tenant admin on ${method} ${path}`);
      }
      // Nothing changed: A's user still exists with no cap, A is active on premium.
      const users = await api(gh.url, 'GET', `/api/tenants/${a.tenant_id}/users`, { token: a.token });
      const row = users.body.users.find((x) => x.user_id === aUser.user_id);
      assert.equal(row.limits.messages_per_day, null);
      const sub = await api(gh.url, 'GET', `/api/tenants/${a.tenant_id}/subscription`, { token: a.token });
      assert.equal(sub.body.subscription_tier, 'premium');
      assert.equal(sub.body.status, 'active');
    } finally {
      await gh.stop();
    }
  });

  test('gatehouse admin works on the data directory without a server', async () => {
    const gh = await startGatehouse({ env });
    const u = await signUp(gh, { tenantName: 'Cli Target', tier: 'basic' });
    await gh.stop({ keepData: true });
    const run = (...args) => spawnSync(binary, ['admin', '--data-dir', gh.dataDir, ...args], { encoding: 'utf8' });
    const created = run('tenants', 'create', 'From The CLI', '--tier', 'advanced', '--timezone', 'Europe/Paris');
    assert.equal(created.status, 0, created.stderr);
    assert.equal(JSON.parse(created.stdout).tenant_id, 'from-the-cli');
    assert.equal(run('tenants', 'set-plan', u.tenant_id, '--tier', 'premium').status, 0);
    assert.equal(run('tenants', 'suspend', 'from-the-cli').status, 0);
    const list = run('tenants', 'list').stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(list.find((t) => t.tenant_id === u.tenant_id).subscription_tier, 'premium');
    assert.equal(list.find((t) => t.tenant_id === 'from-the-cli').status, 'suspended');
    assert.equal(run('plans', 'set', 'basic', '--json', '{"messages_per_day": 7}').status, 0);
    assert.equal(run('plans', 'set', 'basic', '--json', '{"weather_tool": "always"}').status, 2);
    assert.equal(run('tenants', 'set-plan', 'no-such-tenant', '--tier', 'basic').status, 1);
    assert.equal(run('operators', 'add', u.email).status, 0);
    assert.match(run('operators', 'list').stdout, new RegExp(u.email.replace('.', '\\.')));

    const again = await startGatehouse({ env, dataDir: gh.dataDir });
    try {
      const login = await api(again.url, 'POST', '/api/auth/login', { body: { email: u.email, password: u.password } });
      const sub = await api(again.url, 'GET', `/api/tenants/${u.tenant_id}/subscription`, { token: login.body.access_token });
      assert.equal(sub.body.subscription_tier, 'premium');
      const tenants = await api(again.url, 'GET', '/api/admin/tenants', { token: login.body.access_token });
      assert.equal(tenants.status, 200, 'the CLI made this user a platform operator');
      const plans = await api(again.url, 'GET', '/api/admin/plans', { token: login.body.access_token });
      assert.equal(plans.body.plans.find((p) => p.name === 'basic').messages_per_day, 7);
    } finally {
      await again.stop();
    }
  });
});
