// Budgets: a tenant admin sets a monthly budget with 50/80/100 % thresholds; crossing each records
// an alert and calls the configured webhook exactly once, signed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import { startGatehouse, api, signUp } from '../lib/gatehouse.mjs';

describe('budgets and alerts', () => {
  let gh; let hook; let admin;
  const calls = [];
  before(async () => {
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { calls.push({ headers: req.headers, body }); res.writeHead(204).end(); });
    });
    await new Promise((r) => hook.listen(0, '127.0.0.1', r));
    gh = await startGatehouse({ env: {
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
      GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0',
      GATEHOUSE_PRICES_INVOCATION_MICROS: '1000',  // every chat costs at least $0.001
      GATEHOUSE_ALERTS_WEBHOOK_URL: `http://127.0.0.1:${hook.address().port}/budget`,
      GATEHOUSE_ALERTS_WEBHOOK_SECRET: 'hook-secret',
    } });
    admin = await signUp(gh, { tier: 'premium' });
  });
  after(async () => { await gh.stop(); await new Promise((r) => hook.close(r)); });

  test('crossing 50, 80 and 100 percent calls the webhook once per threshold', async () => {
    const set = await api(gh.url, 'PUT', `/api/admin/tenants/${admin.tenant_id}/budget`,
      { token: admin.token, body: { monthly_budget_micros: 5000, thresholds: [50, 80, 100] } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.deepEqual(set.body.budget.thresholds, [50, 80, 100]);
    let spend = 0;
    while (spend < 7000) {
      const r = await api(gh.url, 'POST', '/api/chat', { token: admin.token, body: { message: 'hi' } });
      assert.equal(r.status, 200);
      spend = (await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/budget`, { token: admin.token })).body.spend_micros;
    }
    const deadline = Date.now() + 5000;
    while (calls.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));  // and nothing more arrives
    assert.equal(calls.length, 3);
    const bodies = calls.map((c) => JSON.parse(c.body));
    assert.deepEqual(bodies.map((b) => b.threshold_percent).sort((a, b) => a - b), [50, 80, 100]);
    for (const [i, b] of bodies.entries()) {
      assert.equal(b.type, 'cost_budget_threshold_crossed');
      assert.equal(b.tenant_id, admin.tenant_id);
      assert.equal(b.budget_micros, 5000);
      assert.ok(b.spend_micros * 100 >= 5000 * b.threshold_percent);
      const mac = crypto.createHmac('sha256', 'hook-secret').update(calls[i].body).digest('hex');
      assert.equal(calls[i].headers['x-gatehouse-signature'], `sha256=${mac}`);
    }
    const status = await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/budget`, { token: admin.token });
    assert.equal(status.body.alerts.length, 3);
    for (const a of status.body.alerts) assert.ok(a.delivered_at, 'delivery is recorded');
  });
});
