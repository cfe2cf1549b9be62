// The agent under fine-grained authorization ("FGA for RAG"): a tenant admin sets up a model,
// tuples and documents; a member chatting with the offline model gets only the documents they may
// view from search_documents, a read of a document they may not view is refused as "not
// authorized" and recorded in the audit log with the tuple asked and the model id, and tools are
// offered only where the tenant's model supports them.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGatehouse, api, signUp } from '../lib/gatehouse.mjs';
import { documentModel, fgaClient } from '../lib/fga.mjs';

const env = { GATEHOUSE_MODELS_OFFLINE_TOKEN_DELAY_MS: '0', GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096' };

const documents = [
  { document_id: 'handbook', title: 'Employee handbook', content: 'Holidays: 25 days a year. Book holidays early.' },
  { document_id: 'roadmap', title: 'Product roadmap', content: 'Q3: a holidays calendar for the whole team.' },
  { document_id: 'salaries', title: 'Salaries 2026', content: 'Holidays pay and every salary, confidential.' },
  { document_id: 'lunch', title: 'Lunch menu', content: 'Soup and bread.' },
];

describe('agent tools under fine-grained authorization', () => {
  let gh;
  let admin;
  let member;
  let outsider; // another tenant
  let modelId;
  let storeId;

  const chat = (who, message) => api(gh.url, 'POST', '/api/chat', { token: who.token, body: { message } });

  before(async () => {
    gh = await startGatehouse({ env });
    admin = await signUp(gh, { tenantName: 'Docs Alpha', tier: 'premium' });
    outsider = await signUp(gh, { tenantName: 'Docs Beta', tier: 'premium' });
    const inv = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token });
    member = await signUp(gh, { inviteCode: inv.body.invite_code });

    for (const doc of documents) {
      const r = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/documents`, { token: admin.token, body: doc });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const fga = fgaClient(gh, admin);
    storeId = (await fga.createStore({ name: 'docs' })).id;
    const bound = fgaClient(gh, admin, storeId);
    modelId = (await bound.writeAuthorizationModel(documentModel)).authorization_model_id;
    await bound.write({
      writes: [
        { user: `user:${member.user_id}`, relation: 'viewer', object: 'document:handbook' },
        { user: `user:${member.user_id}`, relation: 'member', object: 'group:staff' },
        { user: 'group:staff#member', relation: 'viewer', object: 'document:roadmap' },
        { user: `user:${member.user_id}`, relation: 'viewer', object: 'document:lunch' },
        { user: `user:${admin.user_id}`, relation: 'owner', object: 'document:salaries' },
      ],
    });
  });
  after(async () => { await gh?.stop(); });

  test('search_documents returns exactly the documents the user may view', async () => {
    const r = await chat(member, 'Search documents for holidays');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.tool_calls.length, 1);
    const call = r.body.tool_calls[0];
    assert.equal(call.name, 'search_documents');
    assert.equal(call.is_error, false);
    assert.deepEqual(call.result.results.map((x) => x.document_id), ['handbook', 'roadmap']);
    assert.equal(call.result.total, 2);
    assert.match(r.body.response, /Employee handbook/);
    assert.match(r.body.response, /Product roadmap/);
    assert.doesNotMatch(JSON.stringify(r.body), /Salaries|salary|confidential/);
    // The owner of the salaries document finds it.
    const own = await chat(admin, 'find documents about salary');
    assert.deepEqual(own.body.tool_calls[0].result.results.map((x) => x.document_id), ['salaries']);
  });

  test('a read of a document the user may not view is refused and recorded', async () => {
    const r = await chat(member, 'read document salaries');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const call = r.body.tool_calls[0];
    assert.equal(call.name, 'read_document');
    assert.equal(call.is_error, true);
    assert.equal(call.result.error, 'not authorized');
    assert.match(r.body.response, /not authorized/);
    assert.doesNotMatch(JSON.stringify(r.body), /confidential/);

    const log = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/authz/decisions?decision=deny`, { token: admin.token });
    assert.equal(log.status, 200);
    const d = log.body.decisions[0];
    assert.equal(d.decision, 'deny');
    assert.equal(d.tool, 'read_document');
    assert.equal(d.user_id, member.user_id);
    assert.equal(d.tenant_id, admin.tenant_id);
    assert.deepEqual(d.tuple, { user: `user:${member.user_id}`, relation: 'viewer', object: 'document:salaries' });
    assert.equal(d.authorization_model_id, modelId);
    assert.equal(d.store_id, storeId);
    assert.equal(d.session_id, r.body.session_id);
    assert.equal(d.trace_id, r.body.trace_id);
    assert.ok(Date.parse(d.created_at) > 0);

    // A permitted read runs, and is recorded as allowed.
    const ok = await chat(member, 'read document handbook');
    assert.equal(ok.body.tool_calls[0].is_error, false);
    assert.match(ok.body.response, /25 days a year/);
    const allowed = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/authz/decisions?decision=allow&limit=1`, { token: admin.token });
    assert.equal(allowed.body.decisions.length, 1);
    assert.equal(allowed.body.decisions[0].tuple.object, 'document:handbook');
  });

  test('the audit log is for the tenant\'s admins only', async () => {
    const asMember = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/authz/decisions`, { token: member.token });
    assert.equal(asMember.status, 403);
    const asOutsider = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/authz/decisions`, { token: outsider.token });
    assert.equal(asOutsider.status, 403);
    const theirOwn = await api(gh.url, 'GET', `/api/tenants/${outsider.tenant_id}/authz/decisions`, { token: outsider.token });
    assert.deepEqual(theirOwn.body.decisions, []);
  });

  test('the documents API filters by viewer and stays inside the tenant', async () => {
    const mine = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/documents`, { token: member.token });
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body.documents.map((d) => d.document_id), ['handbook', 'lunch', 'roadmap']);
    assert.equal(mine.body.governed, true);
    const all = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/documents`, { token: admin.token });
    assert.equal(all.body.documents.length, 4);
    const hidden = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/documents/salaries`, { token: member.token });
    assert.equal(hidden.status, 404);
    const shown = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/documents/roadmap`, { token: member.token });
    assert.equal(shown.body.content, documents[1].content);
    const add = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/documents`, { token: member.token, body: { title: 'x', content: 'y' } });
    assert.equal(add.status, 403);
    const bad = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/documents`, { token: admin.token, body: { document_id: 'a:b', title: 'x', content: 'y' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_document_id');
    for (const method of ['GET', 'DELETE']) {
      const r = await api(gh.url, method, `/api/tenants/${admin.tenant_id}/documents/handbook`, { token: outsider.token });
      assert.equal(r.status, 403);
    }
    const theirs = await api(gh.url, 'GET', `/api/tenants/${outsider.tenant_id}/documents`, { token: outsider.token });
    assert.deepEqual(theirs.body.documents, []);
    assert.equal(theirs.body.governed, false);
  });

  test('document tools are offered only where the tenant\'s model defines document#viewer', async () => {
    const r = await chat(outsider, 'search documents for holidays');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.tool_calls, []);
    assert.match(r.body.response, /not available/);
  });

  test('a tool call refused by can_use, once the model gates tools', async () => {
    // A new model version adds `tool#can_use`: from now on only granted users may use tools.
    const bound = fgaClient(gh, admin, storeId);
    const gated = structuredClone(documentModel);
    gated.type_definitions.push({
      type: 'tool',
      relations: { can_use: { this: {} } },
      metadata: { relations: { can_use: { directly_related_user_types: [{ type: 'user' }, { type: 'group', relation: 'member' }] } } },
    });
    const gatedId = (await bound.writeAuthorizationModel(gated)).authorization_model_id;
    await bound.write({ writes: [{ user: 'group:staff#member', relation: 'can_use', object: 'tool:read_document' }] });

    // The member may use read_document but not search_documents, which is no longer offered.
    const search = await chat(member, 'search documents for holidays');
    assert.deepEqual(search.body.tool_calls, []);
    const read = await chat(member, 'read document lunch');
    assert.equal(read.body.tool_calls[0].is_error, false);
    // The admin is not granted read_document.
    const refused = await chat(admin, 'read document salaries');
    assert.deepEqual(refused.body.tool_calls, []);
    const log = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/authz/decisions?limit=1`, { token: admin.token });
    assert.equal(log.body.decisions[0].authorization_model_id, gatedId);
    assert.equal(log.body.decisions[0].tuple.object, 'document:lunch');
  });

  test('documents and decisions survive a restart', async () => {
    await gh.stop({ keepData: true });
    const dataDir = gh.dataDir;
    gh = await startGatehouse({ env, dataDir });
    // The issuer is the new address: log in again.
    for (const who of [admin, member]) {
      const login = await api(gh.url, 'POST', '/api/auth/login', { body: { email: who.email, password: who.password } });
      assert.equal(login.status, 200);
      who.token = login.body.access_token;
    }
    const log = await api(gh.url, 'GET', `/api/tenants/${admin.tenant_id}/authz/decisions`, { token: admin.token });
    assert.ok(log.body.decisions.some((d) => d.decision === 'deny' && d.tuple.object === 'document:salaries'));
    const read = await chat(member, 'read document roadmap');
    assert.equal(read.body.tool_calls[0].is_error, false);
    assert.match(read.body.response, /holidays calendar/);
    await gh.stop();
    const { rmSync } = await import('node:fs');
    rmSync(dataDir, { recursive: true, force: true });
    gh = null;
  });
});
