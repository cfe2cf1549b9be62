// GET /metrics in the Prometheus text format, validated by `promtool check metrics` (Debian's
// prometheus package); and the hash-chained audit log, checked by `gatehouse admin audit verify`,
// which notices a changed or removed record.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { startGatehouse, api, signUp, binary } from '../lib/gatehouse.mjs';

describe('metrics and audit', () => {
  let gh; let admin; let user;
  before(async () => {
    gh = await startGatehouse({ env: {
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096', GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0',
      GATEHOUSE_PLANS_PREMIUM_MESSAGES_PER_DAY: '4',  // the tenant's: three of the user's, the admin's stream, then refused
    } });
    admin = await signUp(gh, { tier: 'premium' });
    const inv = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token, body: {} });
    user = await signUp(gh, { inviteCode: inv.body.invite_code });
    for (let i = 0; i < 3; i += 1) await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'weather in Oslo?' } });
    const sse = await fetch(`${gh.url}/api/chat`, { method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: 'hi' }) });
    assert.equal(sse.status, 200);
    await sse.text();
    const refused = await api(gh.url, 'POST', '/api/chat', { token: user.token, body: { message: 'weather in Oslo?' } });
    assert.equal(refused.status, 429);
    await api(gh.url, 'GET', `/api/admin/tenants/${admin.tenant_id}/overall-cost`, { token: user.token });  // 403
    await api(gh.url, 'PUT', `/api/admin/tenants/${admin.tenant_id}/budget`, { token: admin.token, body: { monthly_budget_micros: 10 } });
  });
  after(async () => { await gh.stop(); });

  test('GET /metrics passes promtool check metrics and has the promised families', async () => {
    const res = await fetch(`${gh.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.error, undefined, 'promtool must be installed (Debian package prometheus)');
    assert.equal(check.status, 0, `promtool: ${check.stdout}${check.stderr}`);
    for (const family of ['gatehouse_http_requests_total', 'gatehouse_http_request_duration_seconds_bucket',
      'gatehouse_model_call_duration_seconds_bucket', 'gatehouse_model_tokens_total', 'gatehouse_limit_refusals_total',
      'gatehouse_storage_transaction_duration_seconds_bucket', 'gatehouse_open_streams', 'gatehouse_http_requests_in_flight',
      'gatehouse_usage_events_written_total']) assert.ok(text.includes(family), family);
    assert.match(text, /gatehouse_http_requests_total\{method="POST",route="\/api\/chat",status="200"\} [1-9]/);
    assert.match(text, /gatehouse_limit_refusals_total\{code="quota_exceeded",limit="messages_per_day"\} 1/);
    assert.match(text, /gatehouse_open_streams 0/);
    assert.ok(!text.includes(admin.tenant_id), 'no tenant ids in metric labels');
  });

  test('administrative actions, denials and tool calls are audited in a chain that verifies', async () => {
    const r = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/audit`, { token: admin.token });
    assert.equal(r.status, 200);
    const actions = r.body.records.map((x) => `${x.action} ${x.target} ${x.outcome}`);
    assert.ok(actions.includes('authz.denied GET /api/admin/tenants/{tenant_id}/overall-cost forbidden'), actions.join('\n'));
    assert.ok(actions.includes('admin.request PUT /api/admin/tenants/{tenant_id}/budget 200'));
    assert.ok(actions.includes('admin.request POST /api/tenants/{tenant_id}/invitations 201'));
    assert.ok(actions.some((a) => a.startsWith('tool.call get_current_weather ok')));
    const denied = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/audit`, { token: user.token });
    assert.equal(denied.status, 403);

    const verify = () => spawnSync(binary, ['admin', 'audit', 'verify', '--data-dir', gh.dataDir], { encoding: 'utf8' });
    const ok = verify();
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /audit log intact: \d+ records/);

    const db = path.join(gh.dataDir, 'gatehouse.db');
    const sql = (q) => {
      const s = spawnSync('sqlite3', [db, q], { encoding: 'utf8' });
      assert.equal(s.status, 0, s.stderr);
      return s.stdout.trim();
    };
    const n = Number(sql('SELECT COUNT(*) FROM audit_log'));
    assert.ok(n >= 5);
    const original = sql('SELECT outcome FROM audit_log WHERE seq = 2');
    sql(`UPDATE audit_log SET outcome = '${original}-edited' WHERE seq = 2`);
    const changed = verify();
    assert.equal(changed.status, 1);
    assert.match(changed.stderr, /record 2 was changed/);
    sql(`UPDATE audit_log SET outcome = '${original}' WHERE seq = 2`);
    assert.equal(verify().status, 0, 'put back, it verifies again');
    sql('DELETE FROM audit_log WHERE seq = 3');
    const removed = verify();
    assert.equal(removed.status, 1);
    assert.match(removed.stderr, /record 3 is missing/);
  });
});
