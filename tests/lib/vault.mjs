// Helpers for the vault and approval tests: a Gatehouse with the vault allowed to talk to a
// loopback provider, the fake third-party provider, connecting an account like a browser does,
// trusted backend clients, token exchange, and a reader for the user's live feed.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startGatehouse, api, signUp, uniqueEmail } from './gatehouse.mjs';
import { startFakeProvider, authorizeInBrowser } from '../fakes/oauth_provider.mjs';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';

export const vaultEnv = {
  GATEHOUSE_VAULT_ALLOW_INSECURE_HTTP: 'true',
  GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
};

// Gatehouse first (its callback URL names its port), then the provider that redirects to it.
export async function startVaultStack({ env = {}, provider = {}, dataDir } = {}) {
  const gh = await startGatehouse({ env: { ...vaultEnv, ...env }, dataDir });
  const fake = await startFakeProvider({ redirectUri: `${gh.url}/oauth/callback`, ...provider });
  return { gh, fake };
}

// A tenant with an admin, and `users` more members joined by invitation.
export async function tenantWithUsers(gh, { users = 0, tier = 'advanced' } = {}) {
  const admin = await signUp(gh, { tier });
  const members = [];
  for (let i = 0; i < users; i += 1) {
    const inv = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/invitations`, { token: admin.token, body: {} });
    members.push(await signUp(gh, { email: uniqueEmail('member'), inviteCode: inv.body.invite_code }));
  }
  return { admin, members };
}

export async function createConnection(gh, admin, fake, extra = {}) {
  const res = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/connections`, {
    token: admin.token,
    body: { id: 'fake', display_name: 'Fake Provider', issuer: fake.issuer, client_id: fake.clientId,
      client_secret: fake.clientSecret, scopes: 'openid offline_access calendar.read mail.send', ...extra },
  });
  if (res.status !== 201) throw new Error(`connection: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

// Starts the flow as `user`, lets the provider's "browser" consent, and returns what Gatehouse's
// callback answered: {status, location, cookie, callbackUrl}. `callbackCookie` overrides the
// cookie sent to the callback (another browser), `complete: false` stops before the callback.
export async function connectAccount(gh, user, connectionId = 'fake', { callbackCookie, complete = true, body = {} } = {}) {
  const res = await fetch(`${gh.url}/api/me/connected-accounts/${connectionId}/connect`, {
    method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`connect: ${res.status} ${JSON.stringify(json)}`);
  const setCookie = res.headers.get('set-cookie') || '';
  const cookie = setCookie.split(';')[0];
  const callbackUrl = await authorizeInBrowser(json.authorization_url, `${gh.url}/oauth/callback`);
  if (!complete) return { cookie, callbackUrl, authorizationUrl: json.authorization_url };
  const cb = await completeCallback(callbackUrl, callbackCookie ?? cookie);
  return { ...cb, cookie, callbackUrl, authorizationUrl: json.authorization_url };
}

export async function completeCallback(callbackUrl, cookie) {
  const res = await fetch(callbackUrl, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  return { status: res.status, location: res.headers.get('location') || '' };
}

export async function createClient(gh, admin, grants = ['ciba', 'token_exchange'], name = 'Backend service') {
  const res = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/clients`, {
    token: admin.token, body: { name, grant_types: grants },
  });
  if (res.status !== 201) throw new Error(`client: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function postForm(base, pathName, fields, { basic, headers = {} } = {}) {
  const h = { 'content-type': 'application/x-www-form-urlencoded', ...headers };
  if (basic) h.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64')}`;
  const body = typeof fields === 'string' ? fields : new URLSearchParams(fields).toString();
  const res = await fetch(base + pathName, { method: 'POST', headers: h, body });
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* text */ }
  return { status: res.status, headers: res.headers, body: parsed };
}

export function exchange(gh, client, subjectToken, fields = {}) {
  return postForm(gh.url, '/oauth/token', {
    grant_type: TOKEN_EXCHANGE, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE,
    audience: 'fake', ...fields,
  }, { basic: [client.client_id, client.client_secret] });
}

// Reads the caller's live feed (GET /api/me/events) in the background; `events` fills as they come.
export function openFeed(gh, token) {
  const controller = new AbortController();
  const feed = { events: [], closed: false };
  const done = (async () => {
    try {
      const res = await fetch(`${gh.url}/api/me/events`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal });
      feed.status = res.status;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        buf += value;
        let idx;
        while ((idx = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          let event = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trim());
          }
          if (data.length) {
            let parsed = data.join('\n');
            try { parsed = JSON.parse(parsed); } catch { /* keep */ }
            feed.events.push({ event, data: parsed });
          }
        }
      }
    } catch { /* aborted */ }
    feed.closed = true;
  })();
  feed.close = async () => { controller.abort(); await done; };
  feed.waitFor = async (pred, ms = 10000) => {
    const until = Date.now() + ms;
    for (;;) {
      const hit = feed.events.find(pred);
      if (hit) return hit;
      if (Date.now() > until) throw new Error(`feed: no matching event in ${ms} ms; got ${JSON.stringify(feed.events.map((e) => e.event))}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return feed;
}

export async function waitUntil(fn, ms = 10000, what = 'condition') {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Raw SQL against the data directory's SQLite file (what an attacker with the disk would see).
export function sqlite(dataDir, sql) {
  return execFileSync('sqlite3', [path.join(dataDir, 'gatehouse.db'), sql], { encoding: 'utf8' });
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
