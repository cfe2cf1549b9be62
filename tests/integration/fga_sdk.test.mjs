// The OpenFGA-compatible API under /fga, driven by the official @openfga/sdk with the caller's
// Gatehouse access token: stores, models, writes, reads, changes, check, batch-check,
// list-objects, list-users and expand; OpenFGA's error shape; the member rules; tenant isolation
// (tenant B cannot see or touch tenant A's store, even with its id); and persistence across a
// restart.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  FgaApiValidationError, FgaApiNotFoundError, FgaApiAuthenticationError,
  ClientWriteRequestOnDuplicateWrites,
} from '@openfga/sdk';
import { rmSync } from 'node:fs';
import { startGatehouse, api, signUp } from '../lib/gatehouse.mjs';
import { documentModel, fgaClient } from '../lib/fga.mjs';

const env = { GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0', GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096' };

async function rejects(promise, ErrorClass, status, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof ErrorClass, `expected ${ErrorClass.name}, got ${err?.constructor?.name}: ${err?.message}`);
    if (status) assert.equal(err.statusCode, status);
    if (code) assert.equal(err.apiErrorCode, code);
    return true;
  });
}

describe('OpenFGA API through @openfga/sdk', () => {
  let gh;
  let admin;   // tenant A's admin
  let member;  // a member of tenant A
  let other;   // tenant B's admin
  let fga;     // admin's client bound to the store and model
  let storeId;
  let modelId;

  before(async () => {
    gh = await startGatehouse({ env });
    admin = await signUp(gh, { tenantName: 'FGA Alpha', tier: 'premium' });
    other = await signUp(gh, { tenantName: 'FGA Beta', tier: 'premium' });
    const inv = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token });
    member = await signUp(gh, { inviteCode: inv.body.invite_code });
  });
  after(async () => {
    await gh?.stop();
    if (gh) rmSync(gh.dataDir, { recursive: true, force: true });
  });

  test('creates, lists and reads stores', async () => {
    const client = fgaClient(gh, admin);
    const store = await client.createStore({ name: 'alpha-docs' });
    assert.match(store.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(store.name, 'alpha-docs');
    assert.ok(Date.parse(store.created_at) > 0);
    storeId = store.id;
    await client.createStore({ name: 'scratch' });
    const listed = await client.listStores();
    assert.deepEqual(listed.stores.map((s) => s.name), ['alpha-docs', 'scratch']);
    const page = await client.listStores({ pageSize: 1 });
    assert.equal(page.stores.length, 1);
    assert.ok(page.continuation_token);
    const next = await client.listStores({ pageSize: 1, continuationToken: page.continuation_token });
    assert.deepEqual(next.stores.map((s) => s.name), ['scratch']);
    assert.equal(next.continuation_token, '');
    const got = await fgaClient(gh, admin, storeId).getStore();
    assert.equal(got.id, storeId);
  });

  test('writes and reads authorization models', async () => {
    const client = fgaClient(gh, admin, storeId);
    const first = await client.writeAuthorizationModel(documentModel);
    const second = await client.writeAuthorizationModel(documentModel);
    modelId = second.authorization_model_id;
    assert.match(modelId, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    const latest = await client.readLatestAuthorizationModel();
    assert.equal(latest.authorization_model.id, modelId);
    assert.deepEqual(latest.authorization_model.type_definitions.map((t) => t.type), ['user', 'group', 'document']);
    const models = await client.readAuthorizationModels();
    assert.deepEqual(models.authorization_models.map((m) => m.id), [modelId, first.authorization_model_id]);
    const one = await client.readAuthorizationModel({ authorizationModelId: first.authorization_model_id });
    assert.equal(one.authorization_model.id, first.authorization_model_id);
    assert.equal(one.authorization_model.conditions.in_region.expression, 'region == "eu"');
    await rejects(client.writeAuthorizationModel({ schema_version: '1.1', type_definitions: [{ type: 'document', relations: { viewer: { computedUserset: { relation: 'nope' } } } }] }),
      FgaApiValidationError, 400, 'invalid_authorization_model');
    fga = fgaClient(gh, admin, storeId, modelId);
  });

  test('writes tuples transactionally, with OpenFGA\'s duplicate rules', async () => {
    await fga.write({
      writes: [
        { user: 'user:anne', relation: 'owner', object: 'document:plan' },
        { user: 'group:eng#member', relation: 'viewer', object: 'document:roadmap' },
        { user: 'user:bob', relation: 'member', object: 'group:eng' },
        { user: 'user:carl', relation: 'viewer', object: 'document:plan', condition: { name: 'in_region', context: {} } },
        { user: 'user:*', relation: 'viewer', object: 'document:lunch' },
        { user: `user:${member.user_id}`, relation: 'viewer', object: 'document:plan' },
      ],
    });
    await rejects(fga.write({ writes: [{ user: 'user:anne', relation: 'owner', object: 'document:plan' }] }),
      FgaApiValidationError, 400, 'write_failed_due_to_invalid_input');
    // With on_duplicate "ignore" the same write succeeds and changes nothing.
    await fga.write({ writes: [{ user: 'user:anne', relation: 'owner', object: 'document:plan' }] },
      { conflict: { onDuplicateWrites: ClientWriteRequestOnDuplicateWrites.Ignore } });
    await rejects(fga.write({ writes: [{ user: 'user:anne', relation: 'nope', object: 'document:plan' }] }),
      FgaApiValidationError, 400, 'relation_not_found');
    // A delete of a missing tuple fails the whole write.
    await rejects(fga.write({
      writes: [{ user: 'user:dan', relation: 'viewer', object: 'document:plan' }],
      deletes: [{ user: 'user:dan', relation: 'viewer', object: 'document:nothing' }],
    }), FgaApiValidationError, 400, 'write_failed_due_to_invalid_input');
    assert.equal((await fga.check({ user: 'user:dan', relation: 'viewer', object: 'document:plan' })).allowed, false);
  });

  test('check, with contextual tuples and condition context', async () => {
    const yes = await fga.check({ user: 'user:anne', relation: 'viewer', object: 'document:plan' });
    assert.equal(yes.allowed, true);
    assert.equal((await fga.check({ user: 'user:bob', relation: 'viewer', object: 'document:roadmap' })).allowed, true);
    assert.equal((await fga.check({ user: 'user:bob', relation: 'viewer', object: 'document:plan' })).allowed, false);
    assert.equal((await fga.check({ user: 'user:zoe', relation: 'viewer', object: 'document:lunch' })).allowed, true);
    const contextual = await fga.check({
      user: 'user:zoe', relation: 'viewer', object: 'document:roadmap',
      contextualTuples: [{ user: 'user:zoe', relation: 'member', object: 'group:eng' }],
    });
    assert.equal(contextual.allowed, true);
    assert.equal((await fga.check({ user: 'user:carl', relation: 'viewer', object: 'document:plan', context: { region: 'eu' } })).allowed, true);
    assert.equal((await fga.check({ user: 'user:carl', relation: 'viewer', object: 'document:plan', context: { region: 'us' } })).allowed, false);
    await rejects(fga.check({ user: 'user:anne', relation: 'viewer', object: 'folder:x' }), FgaApiValidationError, 400, 'type_not_found');
  });

  test('batch-check answers each item by correlation id', async () => {
    const res = await fga.batchCheck({
      checks: [
        { user: 'user:anne', relation: 'viewer', object: 'document:plan', correlationId: 'a' },
        { user: 'user:bob', relation: 'viewer', object: 'document:plan', correlationId: 'b' },
        { user: 'user:bob', relation: 'viewer', object: 'folder:nope', correlationId: 'c' },
      ],
    });
    const byId = Object.fromEntries(res.result.map((r) => [r.correlationId, r]));
    assert.equal(byId.a.allowed, true);
    assert.equal(byId.b.allowed, false);
    assert.equal(byId.c.allowed, false);
    assert.equal(byId.c.error.input_error, 'type_not_found');
  });

  test('list-objects, list-users and expand', async () => {
    const objects = await fga.listObjects({ user: 'user:bob', relation: 'viewer', type: 'document' });
    assert.deepEqual(objects.objects.sort(), ['document:lunch', 'document:roadmap']);
    const users = await fga.listUsers({
      object: { type: 'document', id: 'plan' }, relation: 'viewer', user_filters: [{ type: 'user' }],
      context: { region: 'eu' },
    });
    const ids = users.users.map((u) => u.object?.id).sort();
    assert.deepEqual(ids, ['anne', 'carl', member.user_id].sort());
    const wildcard = await fga.listUsers({ object: { type: 'document', id: 'lunch' }, relation: 'viewer', user_filters: [{ type: 'user' }] });
    assert.deepEqual(wildcard.users, [{ wildcard: { type: 'user' } }]);
    const groups = await fga.listUsers({ object: { type: 'document', id: 'roadmap' }, relation: 'viewer', user_filters: [{ type: 'group', relation: 'member' }] });
    assert.deepEqual(groups.users, [{ userset: { type: 'group', id: 'eng', relation: 'member' } }]);
    const tree = await fga.expand({ relation: 'viewer', object: 'document:roadmap' });
    assert.equal(tree.tree.root.name, 'document:roadmap#viewer');
    const leaves = JSON.stringify(tree.tree.root);
    assert.ok(leaves.includes('group:eng#member'), leaves);
  });

  test('read filters and pages tuples, with write timestamps', async () => {
    const all = await fga.read({ object: 'document:plan' });
    assert.deepEqual(all.tuples.map((t) => t.key.user).sort(), ['user:anne', 'user:carl', `user:${member.user_id}`].sort());
    const carl = all.tuples.find((t) => t.key.user === 'user:carl');
    assert.deepEqual(carl.key.condition, { name: 'in_region', context: {} });
    for (const t of all.tuples) assert.ok(Math.abs(Date.parse(t.timestamp) - Date.now()) < 600_000, t.timestamp);
    const first = await fga.read({}, { pageSize: 2 });
    assert.equal(first.tuples.length, 2);
    assert.ok(first.continuation_token);
    let seen = first.tuples.length;
    let token = first.continuation_token;
    while (token) {
      const page = await fga.read({}, { pageSize: 2, continuationToken: token });
      seen += page.tuples.length;
      token = page.continuation_token;
    }
    assert.equal(seen, 6);
    const anne = await fga.read({ user: 'user:anne', object: 'document:' });
    assert.deepEqual(anne.tuples.map((t) => t.key.object), ['document:plan']);
  });

  test('read-changes lists writes and deletes in order, by type and with a token to poll', async () => {
    await fga.write({ deletes: [{ user: 'user:*', relation: 'viewer', object: 'document:lunch' }] });
    const changes = await fga.readChanges({}, { pageSize: 100 });
    assert.equal(changes.changes.length, 7);
    const last = changes.changes[6];
    assert.equal(last.operation, 'TUPLE_OPERATION_DELETE');
    assert.deepEqual(last.tuple_key, { user: 'user:*', relation: 'viewer', object: 'document:lunch' });
    const groups = await fga.readChanges({ type: 'group' });
    assert.deepEqual(groups.changes.map((c) => c.tuple_key.user), ['user:bob']);
    const none = await fga.readChanges({}, { continuationToken: changes.continuation_token });
    assert.equal(none.changes.length, 0);
    await fga.write({ writes: [{ user: 'user:erin', relation: 'viewer', object: 'document:lunch' }] });
    const polled = await fga.readChanges({}, { continuationToken: changes.continuation_token });
    assert.deepEqual(polled.changes.map((c) => c.tuple_key.user), ['user:erin']);
  });

  test('errors come in OpenFGA\'s shape', async () => {
    const r = await api(gh.url, 'POST', `/fga/stores/${storeId}/check`, { token: admin.token, body: { tuple_key: { user: 'user:anne' } } });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'validation_error');
    assert.match(r.body.message, /relation/);
    const missing = await api(gh.url, 'GET', '/fga/stores/01HZZZZZZZZZZZZZZZZZZZZZZZ', { token: admin.token });
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys(missing.body).sort(), ['code', 'message']);
    assert.equal(missing.body.code, 'store_id_not_found');
    const anonymous = await api(gh.url, 'GET', '/fga/stores', {});
    assert.equal(anonymous.status, 401);
    assert.ok(anonymous.body.code && anonymous.body.message && !anonymous.body.error);
    await rejects(fgaClient(gh, admin, '01HZZZZZZZZZZZZZZZZZZZZZZZ').getStore(), FgaApiNotFoundError, 404, 'store_id_not_found');
  });

  test('a member may read models and ask about themselves only', async () => {
    const mine = fgaClient(gh, member, storeId, modelId);
    assert.equal((await mine.check({ user: `user:${member.user_id}`, relation: 'viewer', object: 'document:plan' })).allowed, true);
    const objects = await mine.listObjects({ user: `user:${member.user_id}`, relation: 'viewer', type: 'document' });
    assert.deepEqual(objects.objects, ['document:plan']);
    assert.equal((await mine.readLatestAuthorizationModel()).authorization_model.id, modelId);
    await rejects(mine.check({ user: 'user:anne', relation: 'viewer', object: 'document:plan' }), FgaApiAuthenticationError, 403);
    await rejects(mine.check({ user: `user:${member.user_id}`, relation: 'viewer', object: 'document:roadmap', contextualTuples: [{ user: `user:${member.user_id}`, relation: 'member', object: 'group:eng' }] }),
      FgaApiAuthenticationError, 403);
    await rejects(mine.write({ writes: [{ user: `user:${member.user_id}`, relation: 'owner', object: 'document:roadmap' }] }), FgaApiAuthenticationError, 403);
    await rejects(mine.read({}), FgaApiAuthenticationError, 403);
    await rejects(mine.readChanges({}), FgaApiAuthenticationError, 403);
    await rejects(mine.expand({ relation: 'viewer', object: 'document:plan' }), FgaApiAuthenticationError, 403);
    await rejects(mine.createStore({ name: 'mine' }), FgaApiAuthenticationError, 403);
    const forbidden = await api(gh.url, 'POST', `/fga/stores/${storeId}/write`, { token: member.token, body: { writes: { tuple_keys: [] } } });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.code, 'forbidden');
  });

  test('another tenant cannot see or touch the store, even with its id', async () => {
    const theirs = fgaClient(gh, other, storeId, modelId);
    assert.deepEqual((await theirs.listStores()).stores, []);
    const attempts = [
      () => theirs.getStore(),
      () => theirs.check({ user: 'user:anne', relation: 'viewer', object: 'document:plan' }),
      () => theirs.batchCheck({ checks: [{ user: 'user:anne', relation: 'viewer', object: 'document:plan', correlationId: 'x' }] }),
      () => theirs.listObjects({ user: 'user:anne', relation: 'viewer', type: 'document' }),
      () => theirs.listUsers({ object: { type: 'document', id: 'plan' }, relation: 'viewer', user_filters: [{ type: 'user' }] }),
      () => theirs.expand({ relation: 'viewer', object: 'document:plan' }),
      () => theirs.read({}),
      () => theirs.readChanges({}),
      () => theirs.readAuthorizationModels(),
      () => theirs.readAuthorizationModel(),
      () => theirs.writeAuthorizationModel(documentModel),
      () => theirs.write({ writes: [{ user: 'user:mallory', relation: 'owner', object: 'document:plan' }] }),
      () => theirs.deleteStore(),
    ];
    for (const attempt of attempts) await rejects(attempt(), FgaApiNotFoundError, 404, 'store_id_not_found');
    // Tenant A's data is unchanged.
    assert.equal((await fga.check({ user: 'user:mallory', relation: 'viewer', object: 'document:plan' })).allowed, false);
    assert.equal((await fga.getStore()).id, storeId);
    // Tenant B's own store lives side by side.
    const own = await fgaClient(gh, other).createStore({ name: 'beta' });
    assert.deepEqual((await theirs.listStores()).stores.map((s) => s.id), [own.id]);
  });

  test('stores, models and tuples survive a restart; a deleted store is gone', async () => {
    await gh.stop({ keepData: true });
    gh = await startGatehouse({ env, dataDir: gh.dataDir });
    // The issuer is the new address: log in again.
    const login = await api(gh.url, 'POST', '/api/auth/login', { body: { email: admin.email, password: admin.password } });
    assert.equal(login.status, 200);
    admin = { ...admin, token: login.body.access_token };
    const again = fgaClient(gh, admin, storeId, modelId);
    assert.equal((await again.readLatestAuthorizationModel()).authorization_model.id, modelId);
    assert.equal((await again.check({ user: 'user:bob', relation: 'viewer', object: 'document:roadmap' })).allowed, true);
    assert.equal((await again.check({ user: 'user:carl', relation: 'viewer', object: 'document:plan', context: { region: 'eu' } })).allowed, true);
    assert.equal((await again.check({ user: 'user:zoe', relation: 'viewer', object: 'document:lunch' })).allowed, false);
    assert.equal((await again.readChanges({}, { pageSize: 100 })).changes.length, 8);
    const scratch = (await again.listStores()).stores.find((s) => s.name === 'scratch');
    await fgaClient(gh, admin, scratch.id).deleteStore();
    await rejects(fgaClient(gh, admin, scratch.id).getStore(), FgaApiNotFoundError, 404);
    assert.deepEqual((await again.listStores()).stores.map((s) => s.name), ['alpha-docs']);
  });
});
