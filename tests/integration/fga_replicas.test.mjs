// Authorization across replicas on one PostgreSQL server: each replica answers checks from its
// own memory and catches up with the others' writes (the change log) within its refresh
// interval, so a grant or a revocation made through one replica holds on the other within
// seconds — for the OpenFGA API and for the agent's tools alike.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startGatehouse, api, signUp } from '../lib/gatehouse.mjs';
import { startPostgres } from '../lib/postgres.mjs';
import { documentModel, fgaClient } from '../lib/fga.mjs';

// Polls `probe` until it returns true (at most ~5 s: the refresh interval is 1 s).
async function eventually(probe, what) {
  for (let i = 0; i < 50; i += 1) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`not within 5 s: ${what}`);
}

describe('authorization across replicas on PostgreSQL', () => {
  let pg;
  let a;
  let b;
  before(async () => {
    pg = await startPostgres();
    const env = {
      GATEHOUSE_DATABASE_URL: pg.url,
      GATEHOUSE_MASTER_KEY: crypto.randomBytes(32).toString('base64'),
      GATEHOUSE_ISSUER: 'http://gatehouse.test',
      GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0',
      GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
    };
    a = await startGatehouse({ env });
    b = await startGatehouse({ env });
  });
  after(async () => {
    for (const r of [a, b]) await r?.stop();
    if (pg) await pg.stop();
  });

  test('grants and revocations made on one replica hold on the other', async () => {
    const admin = await signUp(a, { tenantName: 'Replicated', tier: 'premium' });
    const inv = await api(a.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token });
    const member = await signUp(a, { inviteCode: inv.body.invite_code });
    const doc = { document_id: 'plan', title: 'Business plan', content: 'Grow carefully.' };
    assert.equal((await api(a.url, 'POST', `/api/tenants/${admin.tenant_id}/documents`, { token: admin.token, body: doc })).status, 201);

    // Store, model and grant through replica A.
    const storeId = (await fgaClient(a, admin).createStore({ name: 'docs' })).id;
    const onA = fgaClient(a, admin, storeId);
    await onA.writeAuthorizationModel(documentModel);
    const tuple = { user: `user:${member.user_id}`, relation: 'viewer', object: 'document:plan' };
    await onA.write({ writes: [tuple] });

    // Replica B learns all of it.
    const onB = fgaClient(b, admin, storeId);
    await eventually(async () => {
      try { return (await onB.check(tuple)).allowed; } catch { return false; }
    }, 'the grant on replica B');
    const read = await api(b.url, 'POST', '/api/chat', { token: member.token, body: { message: 'read document plan' } });
    assert.equal(read.body.tool_calls[0].is_error, false, JSON.stringify(read.body));

    // A revocation through B reaches A.
    await onB.write({ deletes: [tuple] });
    await eventually(async () => !(await onA.check(tuple)).allowed, 'the revocation on replica A');
    const refused = await api(a.url, 'POST', '/api/chat', { token: member.token, body: { message: 'read document plan' } });
    assert.equal(refused.body.tool_calls[0].result.error, 'not authorized');

    // Deleting the store through A removes it from B.
    await onA.deleteStore();
    await eventually(async () => {
      try { await onB.getStore(); return false; } catch (e) { return e.statusCode === 404; }
    }, 'the deletion on replica B');
  });
});
