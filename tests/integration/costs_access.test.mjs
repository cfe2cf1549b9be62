// Who may read which costs: a user their own; a tenant admin anyone's in the tenant, and the admin
// reports only on a plan that includes cost reports; nobody another tenant's. No report, list or
// trace ever carries another tenant's data.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGatehouse, api, signUp } from '../lib/gatehouse.mjs';

const ADMIN_REPORTS = ['overall-cost', 'per-user-cost', 'service-wise-cost', 'comprehensive-report'];

describe('cost report access', () => {
  let gh; let p; let p1; let p2; let basic; let q;
  const traces = {};
  before(async () => {
    gh = await startGatehouse({ env: {
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
      GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0',
      GATEHOUSE_PRICES_MODELS_OFFLINE_INPUT_PER_MTOK: '3000000',
      GATEHOUSE_PRICES_MODELS_OFFLINE_OUTPUT_PER_MTOK: '15000000',
      GATEHOUSE_PRICES_INVOCATION_MICROS: '1000',
    } });
    p = await signUp(gh, { tier: 'premium' });
    const invite = async (admin) => {
      const inv = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token, body: {} });
      return signUp(gh, { inviteCode: inv.body.invite_code });
    };
    p1 = await invite(p);
    p2 = await invite(p);
    basic = await signUp(gh, { tier: 'advanced' });
    q = await signUp(gh, { tier: 'premium' });
    for (const [name, who] of Object.entries({ p, p1, p2, basic, q })) {
      const r = await api(gh.url, 'POST', '/api/chat', { token: who.token, body: { message: `hello from ${name}` } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      traces[name] = r.body.trace_id;
    }
  });
  after(async () => { await gh.stop(); });

  test('a user reads their own costs, not another user\'s', async () => {
    const own = await api(gh.url, 'GET', `/api/tenants/${p.tenant_id}/costs`, { token: p1.token });
    assert.equal(own.status, 200);
    assert.equal(own.body.user_id, p1.user_id);
    assert.ok(own.body.total.cost_micros > 0);
    const ownById = await api(gh.url, 'GET', `/api/tenants/${p.tenant_id}/users/${p1.user_id}/costs`, { token: p1.token });
    assert.equal(ownById.body.total.cost_micros, own.body.total.cost_micros);
    const other = await api(gh.url, 'GET', `/api/tenants/${p.tenant_id}/users/${p2.user_id}/costs`, { token: p1.token });
    assert.equal(other.status, 403);
    assert.ok(!JSON.stringify(other.body).includes('cost_micros'));
    const byAdmin = await api(gh.url, 'GET', `/api/tenants/${p.tenant_id}/users/${p2.user_id}/costs`, { token: p.token });
    assert.equal(byAdmin.status, 200);
    assert.ok(byAdmin.body.total.cost_micros > 0);
  });

  test('the admin reports refuse non-admins and plans without cost reports', async () => {
    for (const report of [...ADMIN_REPORTS, `users/${p2.user_id}/service-cost`]) {
      const user = await api(gh.url, 'GET', `/api/admin/tenants/${p.tenant_id}/${report}`, { token: p1.token });
      assert.equal(user.status, 403, `${report} for a non-admin`);
      const plan = await api(gh.url, 'GET', `/api/admin/tenants/${basic.tenant_id}/${report.replace(p2.user_id, basic.user_id)}`,
        { token: basic.token });
      assert.equal(plan.status, 403, `${report} on the advanced plan`);
      assert.equal(plan.body.error.code, 'plan_lacks_cost_reports');
      const ok = await api(gh.url, 'GET', `/api/admin/tenants/${p.tenant_id}/${report}`, { token: p.token });
      assert.equal(ok.status, 200, report);
    }
    // A user on a plan without admin reports still sees their own costs.
    const own = await api(gh.url, 'GET', `/api/tenants/${basic.tenant_id}/costs`, { token: basic.token });
    assert.equal(own.status, 200);
  });

  test('no report ever includes another tenant\'s data', async () => {
    for (const report of ADMIN_REPORTS) {
      const foreign = await api(gh.url, 'GET', `/api/admin/tenants/${p.tenant_id}/${report}`, { token: q.token });
      assert.equal(foreign.status, 403, `${report} of another tenant`);
    }
    const foreignUser = await api(gh.url, 'GET', `/api/tenants/${p.tenant_id}/users/${p1.user_id}/costs`, { token: q.token });
    assert.equal(foreignUser.status, 403);
    // Asked about another tenant's user inside its own tenant, an admin learns nothing.
    const inOwn = await api(gh.url, 'GET', `/api/tenants/${q.tenant_id}/users/${p1.user_id}/costs`, { token: q.token });
    assert.equal(inOwn.status, 200);
    assert.equal(inOwn.body.total.cost_micros, 0);
    assert.equal(inOwn.body.total.events, 0);
    const all = await api(gh.url, 'GET', `/api/admin/tenants/${q.tenant_id}/comprehensive-report`, { token: q.token });
    assert.equal(all.status, 200);
    const text = JSON.stringify(all.body);
    for (const who of [p, p1, p2, basic]) assert.ok(!text.includes(who.user_id), 'no other tenant\'s user');
    for (const name of ['p', 'p1', 'p2', 'basic']) assert.ok(!text.includes(traces[name]), 'no other tenant\'s trace');
    assert.deepEqual(all.body.users.map((u) => u.user_id), [q.user_id]);
    const mine = await api(gh.url, 'GET', `/api/admin/tenants/${p.tenant_id}/per-user-cost`, { token: p.token });
    assert.deepEqual(mine.body.users.map((u) => u.user_id).sort(), [p.user_id, p1.user_id, p2.user_id].sort());
    assert.equal(mine.body.total.cost_micros, mine.body.users.reduce((s, u) => s + u.cost_micros, 0));
  });

  test('traces stay inside their tenant and, for users, with their owner', async () => {
    const foreign = await api(gh.url, 'GET', `/api/tenants/${q.tenant_id}/traces/${traces.p1}`, { token: q.token });
    assert.equal(foreign.status, 404);
    const otherUser = await api(gh.url, 'GET', `/api/tenants/${p.tenant_id}/traces/${traces.p2}`, { token: p1.token });
    assert.equal(otherUser.status, 404);
    const asAdmin = await api(gh.url, 'GET', `/api/tenants/${p.tenant_id}/traces/${traces.p2}`, { token: p.token });
    assert.equal(asAdmin.status, 200);
    const list = await api(gh.url, 'GET', `/api/tenants/${p.tenant_id}/traces`, { token: p1.token });
    assert.deepEqual(list.body.traces.map((t) => t.trace_id), [traces.p1]);
    const sneaky = await api(gh.url, 'GET', `/api/tenants/${p.tenant_id}/traces?user_id=${p2.user_id}`, { token: p1.token });
    assert.equal(sneaky.status, 403);
    const adminList = await api(gh.url, 'GET', `/api/tenants/${p.tenant_id}/traces`, { token: p.token });
    assert.deepEqual(adminList.body.traces.map((t) => t.trace_id).sort(), [traces.p, traces.p1, traces.p2].sort());
  });

  test('only a tenant admin sets the budget', async () => {
    const user = await api(gh.url, 'PUT', `/api/admin/tenants/${p.tenant_id}/budget`,
      { token: p1.token, body: { monthly_budget_micros: 1000 } });
    assert.equal(user.status, 403);
    const foreign = await api(gh.url, 'PUT', `/api/admin/tenants/${p.tenant_id}/budget`,
      { token: q.token, body: { monthly_budget_micros: 1000 } });
    assert.equal(foreign.status, 403);
    const bad = await api(gh.url, 'PUT', `/api/admin/tenants/${p.tenant_id}/budget`,
      { token: p.token, body: { monthly_budget_micros: -5 } });
    assert.equal(bad.status, 400);
  });
});
