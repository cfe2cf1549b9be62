// External identity providers: access tokens from an Auth0-style provider (RS256, discovery,
// namespaced claims) and a Cognito-style one (ES256, explicit jwks_uri, custom:tenant_id,
// cognito:groups, client_id instead of aud) are accepted beside Gatehouse's own, mapped to users of
// the tenant they name; every way a token can be wrong is refused; tenants stay apart; a rotated
// signing key is picked up from the JWKS.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, signUp, startGatehouse, strongPassword, uniqueEmail } from '../lib/gatehouse.mjs';
import { startFakeIdp } from '../fakes/jwks_idp.mjs';

const AUD = 'https://api.gatehouse.test';
const NS = 'https://gatehouse.test/';
const b64url = (s) => Buffer.from(s).toString('base64url');

describe('external identity providers', { timeout: 120_000 }, () => {
  let auth0;
  let cognito;
  let gh;
  let a;  // tenant A's local admin
  let b;  // tenant B's local admin

  before(async () => {
    auth0 = await startFakeIdp({ issuerPath: '/' });
    cognito = await startFakeIdp({ issuerPath: '/us-east-1_Pool' });
    cognito.addKey('ES256');
    const dir = mkdtempSync(path.join(tmpdir(), 'gh-idp-'));
    const config = path.join(dir, 'gatehouse.yaml');
    writeFileSync(config, `
identity:
  password_hash_memory_kib: 4096
  external:
    auth0:
      issuer: ${auth0.issuer}
      audience: ${AUD}
      tenant_claim: ${NS}tenant_id
      groups_claim: ${NS}roles
      admin_groups: [org-admin]
      allow_insecure_http: true
      min_refresh_interval_seconds: 1
    cognito:
      issuer: ${cognito.issuer}
      jwks_uri: ${cognito.url}/jwks
      audience: cognito-app-client
      tenant_claim: custom:tenant_id
      groups_claim: cognito:groups
      admin_groups: [Admins]
      allow_insecure_http: true
`);
    gh = await startGatehouse({ args: ['--config', config] });
    a = await signUp(gh, { tier: 'advanced' });
    b = await signUp(gh, { tier: 'basic' });
  });
  after(async () => {
    await gh?.stop();
    await auth0?.close();
    await cognito?.close();
  });

  const auth0Token = (claims, opts) => auth0.token({ aud: [AUD, `${auth0.issuer}userinfo`], ...claims }, opts);
  const me = (token) => api(gh.url, 'GET', '/api/me', { token });

  // The provider's keys load in the background at start: wait for the first success.
  async function meEventually(token) {
    const until = Date.now() + 15000;
    for (;;) {
      const res = await me(token);
      if (res.status === 200 || Date.now() > until) return res;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test('an Auth0-style token (RS256, discovery, namespaced claims) signs a user into the tenant it names', async () => {
    const email = uniqueEmail('alice-ext');
    const token = auth0Token({ sub: 'auth0|alice', email, email_verified: true, [`${NS}tenant_id`]: a.tenant_id });
    const res = await meEventually(token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.tenant_id, a.tenant_id);
    assert.equal(res.body.email, email);
    assert.equal(res.body.role, 'user');
    assert.match(res.body.user_id, /^x-[0-9a-f]{24}$/);
    assert.ok(auth0.jwksRequests >= 1, 'the keys came from the JWKS named by discovery');

    const chat = await api(gh.url, 'POST', '/api/chat', { token, body: { message: 'What is the weather in Paris?' } });
    assert.equal(chat.status, 200, JSON.stringify(chat.body));
    const usage = await api(gh.url, 'GET', `/api/tenants/${a.tenant_id}/usage`, { token });
    assert.equal(usage.status, 200);
    assert.equal(usage.body.day.messages, 1);

    // A new token for the same subject is the same user.
    const again = await me(auth0Token({ sub: 'auth0|alice', email, [`${NS}tenant_id`]: a.tenant_id, jti: 'another' }));
    assert.equal(again.body.user_id, res.body.user_id);
    // The tenant's admin sees the user; the user cannot sign in with a password.
    const users = await api(gh.url, 'GET', `/api/tenants/${a.tenant_id}/users`, { token: a.token });
    assert.ok(JSON.stringify(users.body).includes(email));
    const login = await api(gh.url, 'POST', '/api/auth/login', { body: { email, password: strongPassword } });
    assert.equal(login.status, 401);
  });

  test('the provider\'s admin group makes a tenant admin; others are not', async () => {
    const admin = auth0Token({ sub: 'auth0|boss', email: uniqueEmail('boss-ext'), [`${NS}tenant_id`]: a.tenant_id,
      [`${NS}roles`]: ['org-admin'] });
    const plain = auth0Token({ sub: 'auth0|clerk', email: uniqueEmail('clerk-ext'), [`${NS}tenant_id`]: a.tenant_id,
      [`${NS}roles`]: ['viewer', 'platform-operators'] });
    assert.equal((await meEventually(admin)).body.role, 'admin');
    assert.equal((await api(gh.url, 'GET', `/api/tenants/${a.tenant_id}/users`, { token: admin })).status, 200);
    const p = await me(plain);
    assert.equal(p.body.role, 'user');
    assert.equal(p.body.platform_operator, false, 'a provider group never makes a platform operator');
    assert.equal((await api(gh.url, 'GET', `/api/tenants/${a.tenant_id}/users`, { token: plain })).status, 403);
  });

  test('a Cognito-style token (ES256, custom:tenant_id, cognito:groups, client_id instead of aud) works', async () => {
    const token = cognito.token({ sub: 'c0ffee-1', client_id: 'cognito-app-client', token_use: 'access',
      username: 'carol', 'custom:tenant_id': b.tenant_id, 'cognito:groups': ['Admins'], email: uniqueEmail('carol') });
    const res = await meEventually(token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.tenant_id, b.tenant_id);
    assert.equal(res.body.role, 'admin');
    const other = cognito.token({ sub: 'c0ffee-2', client_id: 'another-client', 'custom:tenant_id': b.tenant_id });
    assert.equal((await me(other)).status, 401, 'another app client\'s token is not for us');
  });

  test('every way a token can be wrong is refused with 401', async () => {
    const good = { sub: 'auth0|mallory', [`${NS}tenant_id`]: a.tenant_id };
    assert.equal((await meEventually(auth0Token(good))).status, 200);
    const now = Math.floor(Date.now() / 1000);
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' } });  // PEM: see the note in fakes/jwks_idp.mjs
    const cases = {
      'wrong audience': auth0.token({ ...good, aud: 'https://someone-else' }),
      'expired': auth0Token({ ...good, iat: now - 7200, exp: now - 3600 }),
      'not yet valid': auth0Token({ ...good, nbf: now + 3600 }),
      'no tenant claim': auth0Token({ sub: 'auth0|mallory' }),
      'unconfigured issuer': auth0Token({ ...good, iss: 'https://evil.example/' }),
    };
    for (const [what, token] of Object.entries(cases)) {
      const res = await me(token);
      assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
      assert.ok(['invalid_token', 'token_expired'].includes(res.body.error.code), `${what}: ${res.body.error.code}`);
    }
    assert.equal((await me(auth0Token({ ...good, iat: now - 7200, exp: now - 3600 }))).body.error.code, 'token_expired');
    // Forged: payload changed after signing, alg none, HS256 keyed with a JWKS entry, a key not in the JWKS.
    const valid = auth0Token(good);
    const [h, , s] = valid.split('.');
    const forgedPayload = `${h}.${b64url(JSON.stringify({ ...good, iss: auth0.issuer, aud: AUD, iat: now, exp: now + 600, [`${NS}roles`]: ['org-admin'] }))}.${s}`;
    const none = `${b64url(JSON.stringify({ alg: 'none', kid: valid && JSON.parse(Buffer.from(h, 'base64url')).kid }))}.${valid.split('.')[1]}.`;
    const hsInput = `${b64url(JSON.stringify({ alg: 'HS256', kid: 'symmetric' }))}.${valid.split('.')[1]}`;
    const hs = `${hsInput}.${createHmac('sha256', 'secret').update(hsInput).digest('base64url')}`;
    const foreign = auth0.token({ ...good, aud: AUD }, { key: { kid: 'not-published', alg: 'RS256', privateKey: stranger.privateKey } });
    for (const [what, token] of Object.entries({ forgedPayload, none, hs, foreign })) {
      const res = await me(token);
      assert.equal(res.status, 401, `${what}: ${JSON.stringify(res.body)}`);
    }
  });

  test('tenants stay apart: unknown tenants, other tenants\' paths, switching tenant, someone else\'s email', async () => {
    const unknown = await me(auth0Token({ sub: 'auth0|nobody', [`${NS}tenant_id`]: 'no-such-tenant' }));
    assert.equal(unknown.status, 403);
    assert.equal(unknown.body.error.code, 'unknown_tenant');

    const dave = auth0Token({ sub: 'auth0|dave', email: uniqueEmail('dave'), [`${NS}tenant_id`]: a.tenant_id, [`${NS}roles`]: ['org-admin'] });
    assert.equal((await meEventually(dave)).status, 200);
    for (const p of [`/api/tenants/${b.tenant_id}/usage`, `/api/tenants/${b.tenant_id}/users`]) {
      const res = await api(gh.url, 'GET', p, { token: dave });
      assert.ok([403, 404].includes(res.status), `${p}: ${res.status}`);
      assert.ok(!JSON.stringify(res.body).includes(b.email));
    }
    const hop = await me(auth0Token({ sub: 'auth0|dave', [`${NS}tenant_id`]: b.tenant_id, jti: 'hop' }));
    assert.equal(hop.status, 403);
    assert.equal(hop.body.error.code, 'tenant_mismatch');

    // B's admin's email, claimed by a provider user of A: refused, never linked to B's account.
    const taken = await me(auth0Token({ sub: 'auth0|eve', email: b.email, email_verified: true, [`${NS}tenant_id`]: a.tenant_id }));
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.code, 'email_in_use');
    // A's own admin, vouched for by the provider: the same Gatehouse user.
    const linked = await me(auth0Token({ sub: 'auth0|a-admin', email: a.email, email_verified: true,
      [`${NS}tenant_id`]: a.tenant_id, [`${NS}roles`]: ['org-admin'] }));
    assert.equal(linked.status, 200);
    assert.equal(linked.body.user_id, a.user_id);
    // Not vouched for: refused.
    const unverified = await me(auth0Token({ sub: 'auth0|a-imposter', email: a.email, [`${NS}tenant_id`]: a.tenant_id }));
    assert.equal(unverified.status, 409);
  });

  test('a rotated signing key is read from the JWKS', async () => {
    const before = auth0.jwksRequests;
    const rotated = auth0.addKey('RS256');
    const token = auth0Token({ sub: 'auth0|frank', [`${NS}tenant_id`]: a.tenant_id }, { key: rotated });
    const res = await meEventually(token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(auth0.jwksRequests > before, 'the unknown key id made Gatehouse read the JWKS again');
  });
});
