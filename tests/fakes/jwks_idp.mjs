// A fake external identity provider (Auth0 / Cognito / Keycloak stand-in): serves an OpenID
// discovery document and a JWKS over real HTTP, and mints RS256 or ES256 access tokens with
// whatever claims a test asks for, signed with keys it can rotate. Only node:crypto and node:http.
import http from 'node:http';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, randomUUID } from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');

export async function startFakeIdp({ issuerPath = '/' } = {}) {
  const keys = [];  // { kid, alg, privateKey, jwk }
  function addKey(alg = 'RS256') {
    const kid = `k-${randomUUID().slice(0, 8)}`;
    // PEM out of the generator, key objects made afresh: Node 20 can deadlock exporting a JWK from
    // a generated key object when a GC in the middle collects the generator's job (both take the
    // key's mutex); seen as the whole test file hanging with node's main thread in a futex wait.
    const encoding = { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } };
    const pair = alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048, ...encoding })
      : generateKeyPairSync('ec', { namedCurve: 'P-256', ...encoding });
    const jwk = { ...createPublicKey(pair.publicKey).export({ format: 'jwk' }), kid, alg, use: 'sig' };
    const key = { kid, alg, privateKey: createPrivateKey(pair.privateKey), jwk };
    keys.push(key);
    return key;
  }
  let jwksRequests = 0;
  const server = http.createServer((req, res) => {
    const json = (status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (req.url === `${issuerPath.replace(/\/$/, '')}/.well-known/openid-configuration`) {
      return json(200, { issuer: idp.issuer, jwks_uri: `${idp.url}/jwks`, authorization_endpoint: `${idp.url}/authorize` });
    }
    if (req.url === '/jwks') {
      jwksRequests += 1;
      return json(200, { keys: [...keys.map((k) => k.jwk), { kty: 'oct', kid: 'symmetric', k: 'c2VjcmV0' }] });
    }
    return json(404, { error: 'not_found' });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const idp = {
    url,
    issuer: `${url}${issuerPath}`,
    addKey,
    get jwksRequests() { return jwksRequests; },
    // Signs `claims` (iat/exp filled in unless given) with `key` (default: the newest).
    token(claims, { key = keys[keys.length - 1], header = {} } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const payload = { iss: idp.issuer, iat: now, exp: now + 600, ...claims };
      const head = { alg: key.alg, typ: 'JWT', kid: key.kid, ...header };
      const input = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(payload))}`;
      const sig = key.alg === 'RS256'
        ? sign('sha256', Buffer.from(input), key.privateKey)
        : sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
      return `${input}.${b64url(sig)}`;
    },
    close: () => new Promise((r) => { server.close(r); server.closeAllConnections(); }),
  };
  addKey('RS256');
  return idp;
}
