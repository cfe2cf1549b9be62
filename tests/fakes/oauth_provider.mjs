// A real third-party OAuth 2.0 / OpenID Connect provider for vault tests: `oidc-provider` (the
// certified implementation), on loopback, with one confidential client for Gatehouse, refresh
// tokens, RFC 7009 revocation, and a tiny resource API (calendar, mail) that the demo HTTP API
// tools call. Interactions complete on their own: the "user" logs in as `fake.account` and grants
// what is asked (or refuses when `fake.refuseNext` is set).
//
// Knobs for tests: accessTokenTtl (seconds, read at issue time), tokenDelayMs (slows the token
// endpoint, so concurrent refreshes overlap), revokeAll() (the user withdraws consent at the
// provider: a refresh then gets oidc-provider's 400 {"error":"invalid_grant", ...}). Records:
// tokenRequests [{grant_type, status}], revocations, sentMail, apiCalls.
import http from 'node:http';
import Provider from 'oidc-provider';

export const RESOURCE = 'urn:fake:api';
export const RESOURCE_SCOPES = 'calendar.read mail.send';

export async function startFakeProvider({ redirectUri, clientId = 'gatehouse', clientSecret = 'gatehouse-secret',
  authMethod = 'client_secret_basic', accessTokenTtl = 3600 } = {}) {
  const store = new Map();
  class TestAdapter {
    constructor(name) { this.name = name; }
    key(id) { return `${this.name}:${id}`; }
    async upsert(id, payload) { store.set(this.key(id), { ...payload }); }
    async find(id) { return store.get(this.key(id)); }
    async findByUserCode(code) { for (const [k, v] of store) if (k.startsWith(`${this.name}:`) && v.userCode === code) return v; return undefined; }
    async findByUid(uid) { for (const [k, v] of store) if (k.startsWith(`${this.name}:`) && v.uid === uid) return v; return undefined; }
    async consume(id) { const v = store.get(this.key(id)); if (v) v.consumed = Math.floor(Date.now() / 1000); }
    async destroy(id) { store.delete(this.key(id)); }
    async revokeByGrantId(grantId) { for (const [k, v] of [...store]) if (v.grantId === grantId) store.delete(k); }
  }

  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  const fake = {
    issuer, clientId, clientSecret,
    account: 'alice',
    refuseNext: false,
    accessTokenTtl,
    tokenDelayMs: 0,
    tokenRequests: [],
    revocations: 0,
    sentMail: [],
    apiCalls: [],
    refreshCount() { return this.tokenRequests.filter((t) => t.grant_type === 'refresh_token').length; },
    // The user withdraws consent at the provider: every grant and token is gone.
    revokeAll() {
      for (const k of [...store.keys()]) if (/^(Grant|AccessToken|RefreshToken|AuthorizationCode|Session):/.test(k)) store.delete(k);
    },
    // The values of every access and refresh token the provider has issued and not destroyed.
    liveTokens() {
      return [...store.keys()].filter((k) => /^(AccessToken|RefreshToken):/.test(k)).map((k) => k.slice(k.indexOf(':') + 1));
    },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };

  const ttl = () => fake.accessTokenTtl;
  const provider = new Provider(issuer, {
    adapter: TestAdapter,
    clients: [{
      client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
      token_endpoint_auth_method: authMethod,
    }],
    findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id, email: `${id}@provider.test` }) }),
    scopes: ['openid', 'offline_access', 'calendar.read', 'mail.send'],
    claims: { openid: ['sub'], email: ['email'] },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: RESOURCE_SCOPES, audience: RESOURCE, accessTokenFormat: 'opaque',
          accessTokenTTL: ttl() }),
      },
    },
    pkce: { required: () => true },
    issueRefreshToken: async () => true,
    rotateRefreshToken: true,
    ttl: { AccessToken: () => ttl(), Grant: 86400, Session: 86400, Interaction: 600, RefreshToken: 86400, AuthorizationCode: 60, IdToken: 3600 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['fake-provider-cookie-key'] },
  });
  provider.on('server_error', (_ctx, err) => { console.error('fake provider error', err); });
  provider.use(async (ctx, next) => {
    if (ctx.path === '/token' && fake.tokenDelayMs) await new Promise((r) => setTimeout(r, fake.tokenDelayMs));
    await next();
    if (ctx.path === '/token') fake.tokenRequests.push({ grant_type: ctx.oidc?.params?.grant_type, status: ctx.status });
    if (ctx.path === '/token/revocation' && ctx.status === 200) fake.revocations += 1;
  });
  const callback = provider.callback();

  async function interaction(req, res) {
    const details = await provider.interactionDetails(req, res);
    const { prompt, params, session } = details;
    if (fake.refuseNext) {
      fake.refuseNext = false;
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user refused' },
        { mergeWithLastSubmission: false });
      return;
    }
    if (prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: fake.account } }, { mergeWithLastSubmission: false });
      return;
    }
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  // The resource server: accepts only live access tokens of this provider, for its audience.
  async function api(req, res, url) {
    const auth = req.headers.authorization || '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    let body = '';
    for await (const c of req) body += c;
    const at = token ? await provider.AccessToken.find(token) : undefined;
    fake.apiCalls.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), token, ok: !!at, body });
    const send = (status, obj, headers = {}) => { res.writeHead(status, { 'content-type': 'application/json', ...headers }); res.end(JSON.stringify(obj)); };
    if (!at) { send(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }); return; }
    const scopes = new Set((at.scope || '').split(' '));
    if (req.method === 'GET' && url.pathname === '/api/calendar/events') {
      if (!scopes.has('calendar.read')) { send(403, { error: 'insufficient_scope' }); return; }
      send(200, { account: at.accountId, events: [
        { id: 'e1', title: 'Standup', start: '2026-11-23T09:00:00Z', calendar: url.searchParams.get('calendar') || 'primary' },
        { id: 'e2', title: 'Planning', start: '2026-11-23T14:00:00Z', calendar: url.searchParams.get('calendar') || 'primary' },
      ] });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/api/mail/send') {
      if (!scopes.has('mail.send')) { send(403, { error: 'insufficient_scope' }); return; }
      let msg = {};
      try { msg = JSON.parse(body || '{}'); } catch { send(400, { error: 'bad json' }); return; }
      const id = `m${fake.sentMail.length + 1}`;
      fake.sentMail.push({ id, account: at.accountId, ...msg });
      send(200, { id, status: 'sent' });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/whoami') { send(200, { sub: at.accountId, scope: at.scope }); return; }
    send(404, { error: 'not_found' });
  }

  server.on('request', (req, res) => {
    const url = new URL(req.url, issuer);
    const fail = (err) => { console.error('fake provider', err); if (!res.headersSent) res.writeHead(500).end(); };
    if (url.pathname.startsWith('/interaction/')) { interaction(req, res).catch(fail); return; }
    if (url.pathname.startsWith('/api/')) { api(req, res, url).catch(fail); return; }
    callback(req, res);
  });
  fake.provider = provider;
  return fake;
}

// Follows the provider's redirects like a browser (keeping the provider's cookies) from an
// authorization URL until it reaches `stopPrefix` (Gatehouse's callback); returns that URL.
export async function authorizeInBrowser(authorizationUrl, stopPrefix) {
  const jar = new Map();
  let url = authorizationUrl;
  for (let i = 0; i < 20; i += 1) {
    if (url.startsWith(stopPrefix)) return url;
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const c of res.headers.getSetCookie?.() || []) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = res.headers.get('location');
    if (!location) throw new Error(`no redirect from ${url}: ${res.status} ${await res.text()}`);
    url = new URL(location, url).toString();
  }
  throw new Error('too many redirects');
}
