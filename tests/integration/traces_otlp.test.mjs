// OTLP/HTTP JSON export to a collector (a fake in tests/fakes/otlp.mjs that checks what arrives),
// batched; and a collector that is down costs requests nothing.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGatehouse, api, signUp } from '../lib/gatehouse.mjs';
import { startFakeCollector } from '../fakes/otlp.mjs';

const env = { GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096', GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0',
  GATEHOUSE_PRICES_INVOCATION_MICROS: '1000' };

describe('OTLP export', () => {
  test('a chat\'s spans reach the collector with tenant, user and cost attached', async () => {
    const collector = await startFakeCollector();
    const gh = await startGatehouse({ env: { ...env, GATEHOUSE_OTLP_ENDPOINT: collector.endpoint,
      GATEHOUSE_OTLP_SERVICE_NAME: 'gatehouse-test', GATEHOUSE_OTLP_HEADERS: 'x-collector-key=k-123' } });
    try {
      const u = await signUp(gh, { tier: 'premium' });
      const traceIds = [];
      for (let i = 0; i < 3; i += 1) {
        const r = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: 'What is the weather in Oslo?' } });
        assert.equal(r.status, 200);
        traceIds.push(r.body.trace_id);
      }
      const spans = await collector.waitFor((s) => traceIds.every((id) => s.some((x) => x.traceId === id && x.name === 'POST /api/chat')));
      assert.deepEqual(collector.problems, []);
      const first = spans.filter((s) => s.traceId === traceIds[0]);
      const names = new Set(first.map((s) => s.name));
      for (const n of ['POST /api/chat', 'authenticate', 'tenant', 'limits', 'chat', 'model_call']) assert.ok(names.has(n), n);
      for (const s of first) {
        assert.equal(s.resource['service.name'], 'gatehouse-test');
        assert.equal(s.attributes['gatehouse.tenant_id'], u.tenant_id);
        assert.equal(s.attributes['enduser.id'], u.user_id);
      }
      const chat = first.find((s) => s.name === 'chat');
      assert.equal(chat.attributes['gatehouse.cost_micros'], 1000);
      assert.equal(first.find((s) => s.name === 'POST /api/chat').kind, 2, 'SPAN_KIND_SERVER');
      assert.equal(chat.parentSpanId, first.find((s) => s.name === 'POST /api/chat').spanId);
      assert.ok(collector.requests.length < spans.length, 'spans arrive in batches');
      assert.equal(collector.requests[0].headers['x-collector-key'], 'k-123');
    } finally {
      await gh.stop();
      await collector.close();
    }
  });

  test('with the collector down, chats answer as fast and export failures are counted', async () => {
    // A port nobody listens on.
    const probe = net.createServer();
    await new Promise((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address();
    await new Promise((r) => probe.close(r));
    const gh = await startGatehouse({ env: { ...env, GATEHOUSE_OTLP_ENDPOINT: `http://127.0.0.1:${port}/v1/traces` } });
    try {
      const u = await signUp(gh, { tier: 'premium' });
      const started = Date.now();
      for (let i = 0; i < 10; i += 1) {
        const r = await api(gh.url, 'POST', '/api/chat', { token: u.token, body: { message: `hello ${i}` } });
        assert.equal(r.status, 200);
      }
      assert.ok(Date.now() - started < 5000, `10 chats took ${Date.now() - started} ms`);
      let metrics = '';
      for (let i = 0; i < 40 && !/gatehouse_otlp_export_failures_total [1-9]/.test(metrics); i += 1) {
        await new Promise((r) => setTimeout(r, 100));
        metrics = await (await fetch(`${gh.url}/metrics`)).text();
      }
      assert.match(metrics, /gatehouse_otlp_export_failures_total [1-9]/);
    } finally {
      const { code } = await gh.stop();
      assert.equal(code, 0, 'shuts down cleanly with spans it could not send');
    }
  });
});
