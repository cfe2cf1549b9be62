// Verification mail through a real SMTP server (`smtp-server` from npm, the server half of
// Nodemailer) instead of the outbox folder: the code arrives by SMTP with AUTH, and it verifies the
// account. With TLS required, a server whose certificate cannot be verified gets nothing in clear.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import { startGatehouse, api, uniqueEmail, strongPassword } from '../lib/gatehouse.mjs';

const USER = 'mailer';
const PASS = 'smtp-Secret-4711';

// A loopback SMTP server recording each message; `tls` offers STARTTLS with smtp-server's built-in
// self-signed certificate (which no client should trust).
async function startSmtp({ tls }) {
  const received = [];
  const auths = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: tls ? [] : ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, cb) {
      auths.push({ username: auth.username, password: auth.password });
      if (auth.username === USER && auth.password === PASS) return cb(null, { user: USER });
      return cb(new Error('bad credentials'));
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        received.push({ from: session.envelope.mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user, text: Buffer.concat(chunks).toString('utf8') });
        cb();
      });
    },
  });
  const errors = [];
  server.on('error', (e) => errors.push(e.message));  // e.g. a client that refused our certificate
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.server.address().port, received, auths, errors, close: () => new Promise((r) => server.close(r)) };
}

async function until(fn, what) {
  for (let i = 0; i < 200; i += 1) {
    const v = fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const env = (port, requireTls) => ({
  GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096',
  GATEHOUSE_MAIL_KIND: 'smtp',
  GATEHOUSE_MAIL_FROM: 'noreply@gatehouse.test',
  GATEHOUSE_MAIL_SMTP_URL: `smtp://127.0.0.1:${port}`,
  GATEHOUSE_MAIL_SMTP_USERNAME: USER,
  GATEHOUSE_MAIL_SMTP_PASSWORD: PASS,
  GATEHOUSE_MAIL_SMTP_REQUIRE_TLS: requireTls ? 'true' : 'false',
});

describe('verification mail over SMTP', () => {
  let smtp; let gh;
  before(async () => {
    smtp = await startSmtp({ tls: false });
    gh = await startGatehouse({ env: env(smtp.port, false) });
  });
  after(async () => { await gh.stop(); await smtp.close(); });

  test('the code arrives by SMTP with AUTH and verifies the account', async () => {
    const email = uniqueEmail();
    const reg = await api(gh.url, 'POST', '/api/auth/register',
      { body: { email, password: strongPassword, tenant_name: `Mail ${email}`, subscription_tier: 'basic' } });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const mail = await until(() => smtp.received.find((m) => m.to.includes(email)), 'the verification mail');
    assert.equal(mail.from, 'noreply@gatehouse.test');
    assert.equal(mail.user, USER, 'sent after authenticating');
    assert.match(mail.text, /^Subject: Your Gatehouse verification code\r$/m);
    assert.match(mail.text, new RegExp(`^To: ${email.replace(/[.+]/g, '\\$&')}\r$`, 'm'));
    const code = mail.text.match(/verification code is (\d{6})/)[1];
    assert.deepEqual(gh.outbox(), [], 'nothing went to the outbox folder');

    const early = await api(gh.url, 'POST', '/api/auth/login', { body: { email, password: strongPassword } });
    assert.equal(early.status, 403);
    const ver = await api(gh.url, 'POST', '/api/auth/verify', { body: { email, code } });
    assert.equal(ver.status, 200, JSON.stringify(ver.body));
    const login = await api(gh.url, 'POST', '/api/auth/login', { body: { email, password: strongPassword } });
    assert.equal(login.status, 200);

    const resend = await api(gh.url, 'POST', '/api/auth/resend', { body: { email: uniqueEmail() } });
    assert.ok([200, 202, 204].includes(resend.status), `resend for an unknown address answers alike: ${resend.status}`);
    assert.ok(!gh.lines.join('\n').includes(PASS), 'the SMTP password is never logged');
  });
});

describe('SMTP with TLS required', () => {
  let smtp; let gh;
  before(async () => {
    smtp = await startSmtp({ tls: true });
    gh = await startGatehouse({ env: env(smtp.port, true) });
  });
  after(async () => { await gh.stop(); await smtp.close(); });

  test('a server whose certificate cannot be verified gets no credentials and no mail', async () => {
    const email = uniqueEmail();
    const reg = await api(gh.url, 'POST', '/api/auth/register',
      { body: { email, password: strongPassword, tenant_name: `Tls ${email}`, subscription_tier: 'basic' } });
    assert.equal(reg.status, 201, 'the account exists; the code can be sent again later');
    await until(() => gh.lines.some((l) => l.includes('mail delivery failed')), 'the failure to be logged');
    assert.equal(smtp.received.length, 0);
    assert.equal(smtp.auths.length, 0, 'no credentials were sent before TLS');
    await until(() => smtp.errors.some((e) => /TLS/.test(e)), 'the server to see the TLS handshake refused');
    assert.ok(!gh.lines.join('\n').includes(PASS));
  });
});
