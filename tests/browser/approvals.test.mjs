// Browser test: the Approvals and Connected accounts pages of the real web UI, served by the real
// gatehouse binary, in headless Chromium.
//  - A tenant's trusted backend client asks for the user's approval (CIBA /bc-authorize, with RFC
//    9396 authorization details) while the user has the Approvals page open: the request appears
//    without a reload (pushed over GET /api/me/events), readable (no raw JSON); the user approves
//    it and the polling client gets tokens for that user. A denied one gives access_denied.
//  - The agent's held tool call (send_email, an HTTP API tool with an approval rule, the model a
//    scripted OpenAI-compatible fake): the chat shows it awaiting approval, the user approves it on
//    the Approvals page (arguments rendered as fields), the provider's mail API receives exactly
//    those arguments once, and the chat shows the model's follow-up.
//  - Connected accounts: connect against the oidc-provider fake (the browser goes to the provider
//    and comes back through /oauth/callback), then disconnect (revoked at the provider).
//  - Re-consent: the user withdraws consent at the provider, so the next refresh is refused there
//    (oidc-provider answers 400 {"error":"invalid_grant"}); the open Connected accounts page shows
//    "Needs your consent again" without a reload, and Reconnect goes through the provider again.
//    (Last in the file: withdrawing consent ends every grant at the fake.)
// Skips when the gatehouse binary or Chromium is missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, startGatehouse } from '../lib/gatehouse.mjs';
import { STEP_TIMEOUT, browserSkipReason, launchChromium, logIn, poll, withPage as withContext } from '../lib/browser.mjs';
import { startFakeProvider } from '../fakes/oauth_provider.mjs';
import { scriptedModel, startFakeOpenAI } from '../fakes/openai.mjs';
import {
  CIBA_GRANT, connectAccount, createClient, createConnection, exchange, postForm, sleep, tenantWithUsers, vaultEnv,
} from '../lib/vault.mjs';

const skipReason = browserSkipReason({ needDist: true });

// Polls the token endpoint like a CIBA client does, at the interval, until something other than
// authorization_pending / slow_down comes back.
async function pollGrant(gh, client, authReqId, interval) {
  for (;;) {
    await sleep(interval * 1000 + 100);
    const res = await postForm(gh.url, '/oauth/token', { grant_type: CIBA_GRANT, auth_req_id: authReqId },
      { basic: [client.client_id, client.client_secret] });
    if (res.status === 200) return res;
    if (res.body.error === 'slow_down') interval += 5;
    else if (res.body.error !== 'authorization_pending') return res;
  }
}


describe('approvals and connected accounts in the browser', () => {
  let gh;
  let fake;
  let model;
  let browser;
  let admin;
  let user;
  let clerk;
  let traveller;
  let client;
  let syncClient;

  before(async () => {
    if (skipReason) return;
    model = await startFakeOpenAI(scriptedModel);
    gh = await startGatehouse({ env: {
      ...vaultEnv, GATEHOUSE_APPROVALS_CIBA_INTERVAL_SECONDS: '1', GATEHOUSE_APPROVALS_SWEEP_INTERVAL_MS: '200',
      OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'sk-test', OPENAI_MODEL: 'fake-gpt',
    } });
    fake = await startFakeProvider({ redirectUri: `${gh.url}/oauth/callback` });
    ({ admin, members: [user, clerk, traveller] } = await tenantWithUsers(gh, { users: 3 }));
    client = await createClient(gh, admin, ['ciba'], 'Payments backend');
    syncClient = await createClient(gh, admin, ['token_exchange'], 'Calendar sync');
    await createConnection(gh, admin, fake);
    const tool = await api(gh.url, 'POST', `/api/tenants/${admin.tenant_id}/http-tools`, { token: admin.token, body: {
      name: 'send_email', description: 'Send an email', method: 'POST', url: `${fake.issuer}/api/mail/send`, connection: 'fake',
      parameters: { type: 'object', properties: { to: { type: 'string' }, subject: { type: 'string' } }, required: ['to', 'subject'] },
      approval: { when: 'always', binding_message: 'Send "{arguments.subject}" to {arguments.to}' },
    } });
    assert.equal(tool.status, 201, JSON.stringify(tool.body));
    assert.equal((await connectAccount(gh, clerk)).status, 302);
    const home = await fetch(`${gh.url}/approvals`);
    const html = await home.text();
    assert.ok(home.ok && /<div id="app">/.test(html), `the web UI is served at /approvals; got ${home.status}`);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await gh?.stop();
    await fake?.close();
    await model?.close();
  });

  const withPage = (t, fn) => withContext(t, { browser, gh }, fn);

  test('a backchannel request appears on the open Approvals page and is approved there', { skip: skipReason, timeout: 120_000 }, async (t) => {
    await withPage(t, async (page) => {
      await logIn(page, gh, user);
      await page.getByTestId('nav-approvals').click();
      await page.getByTestId('approvals-page').waitFor({ timeout: STEP_TIMEOUT });
      await page.getByTestId('no-pending').waitFor({ timeout: STEP_TIMEOUT });
      // The page follows the live feed from here on; a marker shows that it is never reloaded.
      await poll(async () => (await page.getByTestId('feed-state').getAttribute('data-live')) === 'yes', { what: 'the live feed' });
      await page.evaluate(() => { window.__sameDocument = true; });

      const details = [{ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '123.50' }, creditorName: 'Merchant A' }];
      const started = await postForm(gh.url, '/bc-authorize', {
        scope: 'openid email', login_hint: user.email, binding_message: 'Pay Merchant A 123.50 EUR',
        authorization_details: JSON.stringify(details),
      }, { basic: [client.client_id, client.client_secret] });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      const grant = pollGrant(gh, client, started.body.auth_req_id, started.body.interval);
      grant.catch(() => undefined);  // awaited below; a failed step earlier must not leave it unhandled

      const card = page.locator('[data-testid="pending-list"] [data-testid="approval-card"]').first();
      await card.waitFor({ timeout: STEP_TIMEOUT });
      assert.equal(await page.evaluate(() => window.__sameDocument), true, 'it arrived without a reload');
      assert.equal((await card.getByTestId('approval-message').textContent()).trim(), 'Pay Merchant A 123.50 EUR');
      assert.ok((await card.textContent()).includes('Payments backend'), 'the asking application is named by its name');
      const rendered = await card.getByTestId('authorization-details').textContent();
      assert.match(rendered, /Payment initiation/);
      assert.match(rendered, /Instructed amount\s*123\.50 EUR/i);
      assert.match(rendered, /Creditor name\s*Merchant A/i);
      assert.doesNotMatch(rendered, /[{}"]/, 'details are rendered, not shown as JSON');
      assert.match(await card.textContent(), /email/, 'the scope is shown');
      await poll(async () => (await page.getByTestId('nav-pending-count').textContent()).trim() === '1', { what: 'the pending badge' });

      await card.getByTestId('approve-button').click();
      const decided = page.locator('[data-testid="recent-list"] [data-testid="approval-card"]').first();
      await decided.waitFor({ timeout: STEP_TIMEOUT });
      assert.equal((await decided.getByTestId('approval-status').textContent()).trim(), 'Approved');
      await page.getByTestId('no-pending').waitFor({ timeout: STEP_TIMEOUT });

      const tokens = await grant;
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      assert.deepEqual(tokens.body.authorization_details, details);
      const me = await api(gh.url, 'GET', '/api/me', { token: tokens.body.access_token });
      assert.equal(me.body.email, user.email, 'the client now acts for the user who approved');
      // Once the client collected its tokens the card says so too (pushed).
      await poll(async () => (await decided.getAttribute('data-status')) === 'consumed', { what: 'the consumed state' });
      await poll(async () => (await page.getByTestId('nav-pending-count').count()) === 0, { what: 'the badge to clear' });
    });
  });

  test('a request denied on the Approvals page gives the client access_denied', { skip: skipReason, timeout: 120_000 }, async (t) => {
    await withPage(t, async (page) => {
      await logIn(page, gh, user);
      await page.goto(`${gh.url}/approvals`);
      await poll(async () => (await page.getByTestId('feed-state').getAttribute('data-live')) === 'yes', { what: 'the live feed' });
      const started = await postForm(gh.url, '/bc-authorize', { scope: 'openid', login_hint: user.email, binding_message: 'Delete all backups' },
        { basic: [client.client_id, client.client_secret] });
      const grant = pollGrant(gh, client, started.body.auth_req_id, started.body.interval);
      grant.catch(() => undefined);  // awaited below; a failed step earlier must not leave it unhandled
      const card = page.locator('[data-testid="pending-list"] [data-testid="approval-card"]', { hasText: 'Delete all backups' });
      await card.waitFor({ timeout: STEP_TIMEOUT });
      await card.getByTestId('deny-button').click();
      const res = await grant;
      assert.equal(res.status, 400);
      assert.equal(res.body.error, 'access_denied');
      const denied = page.locator('[data-testid="recent-list"] [data-testid="approval-card"]', { hasText: 'Delete all backups' });
      assert.equal((await denied.getByTestId('approval-status').textContent()).trim(), 'Denied');
    });
  });

  test('the agent\'s held tool call is approved on the Approvals page and runs once', { skip: skipReason, timeout: 120_000 }, async (t) => {
    await withPage(t, async (page) => {
      await logIn(page, gh, clerk);
      const args = { to: 'carol@example.com', subject: 'Contract draft' };
      await page.getByTestId('chat-input').fill(`CALL send_email ${JSON.stringify(args)}`);
      await page.getByTestId('send-button').click();
      const assistant = page.locator('[data-testid="message"][data-role="assistant"]').last();
      await poll(async () => (await assistant.getAttribute('data-streaming')) === 'false', { what: 'the turn to end' });
      assert.match(await assistant.textContent(), /Approval needed: Send "Contract draft" to carol@example\.com/);
      const toolCard = assistant.locator('[data-testid="tool-card"]').first();
      assert.equal(await toolCard.getAttribute('data-status'), 'pending', 'the card says it awaits approval');
      assert.equal(fake.sentMail.length, 0, 'nothing sent yet');

      await poll(async () => (await page.getByTestId('nav-pending-count').textContent()).trim() === '1', { what: 'the pending badge' });
      await page.getByTestId('nav-approvals').click();
      const card = page.locator('[data-testid="pending-list"] [data-testid="approval-card"]').first();
      await card.waitFor({ timeout: STEP_TIMEOUT });
      assert.equal((await card.getByTestId('approval-message').textContent()).trim(), 'Send "Contract draft" to carol@example.com');
      const shown = await card.getByTestId('tool-arguments').textContent();
      assert.match(shown, /To\s*carol@example\.com/);
      assert.match(shown, /Subject\s*Contract draft/);
      assert.doesNotMatch(shown, /[{}"]/, 'arguments are rendered as fields');

      await card.getByTestId('approve-button').click();
      const done = page.locator('[data-testid="recent-list"] [data-testid="approval-card"]').first();
      await poll(async () => (await done.getAttribute('data-status')) === 'completed', { what: 'the call to complete (pushed)' });
      assert.match(await done.getByTestId('approval-outcome').textContent(), /status 200/);
      assert.equal(fake.sentMail.length, 1, 'ran exactly once');
      assert.deepEqual({ to: fake.sentMail[0].to, subject: fake.sentMail[0].subject }, args, 'with the approved arguments');

      // Back in the chat, the conversation went on with the result.
      await page.getByTestId('nav-chat').click();
      await page.getByTestId('session-item').first().click();
      await poll(async () => /TOLD: .*"status":200/.test(await page.getByTestId('messages').textContent()),
        { what: 'the model\'s follow-up in the chat' });
      await sleep(500);
      assert.equal(fake.sentMail.length, 1, 'still once');
    });
  });

  test('connect an account at the provider and disconnect it', { skip: skipReason, timeout: 120_000 }, async (t) => {
    await withPage(t, async (page) => {
      await logIn(page, gh, user);
      await page.getByTestId('nav-accounts').click();
      const row = page.locator('[data-testid="account-row"][data-connection-id="fake"]');
      await row.waitFor({ timeout: STEP_TIMEOUT });
      assert.equal(await row.getAttribute('data-status'), 'not_connected');
      assert.match(await row.textContent(), /Fake Provider/);

      // Off to the provider (which consents on its own) and back through /oauth/callback.
      await row.getByTestId('connect-button').click();
      await page.getByTestId('connected-notice').waitFor({ timeout: STEP_TIMEOUT });
      assert.match(await page.getByTestId('connected-notice').textContent(), /Connected Fake Provider/);
      assert.equal(new URL(page.url()).pathname, '/connected-accounts');
      await poll(() => new URL(page.url()).search === '', { what: 'the callback\'s query to be dropped from the address' });
      await poll(async () => (await row.getAttribute('data-status')) === 'connected', { what: 'the connected status' });
      const listed = await api(gh.url, 'GET', '/api/me/connected-accounts', { token: user.token });
      assert.equal(listed.body.accounts.find((a) => a.connection_id === 'fake')?.status, 'connected');

      const revokedBefore = fake.revocations;
      await row.getByTestId('disconnect-button').click();
      await poll(async () => (await row.getAttribute('data-status')) === 'not_connected', { what: 'the disconnected status' });
      assert.ok(fake.revocations > revokedBefore, 'the token was revoked at the provider');
      const after = await api(gh.url, 'GET', '/api/me/connected-accounts', { token: user.token });
      assert.equal(after.body.accounts.length, 0);
    });
  });

  test('a refresh the provider rejects asks for consent again, and Reconnect fixes it', { skip: skipReason, timeout: 120_000 }, async (t) => {
    // Connected with a token that is already inside the refresh window, so the next use refreshes it.
    fake.accessTokenTtl = 5;
    assert.equal((await connectAccount(gh, traveller)).status, 302);
    fake.accessTokenTtl = 3600;
    await withPage(t, async (page) => {
      await logIn(page, gh, traveller);
      // The live feed is open before anything happens (the Approvals page shows it), and stays open.
      await page.getByTestId('nav-approvals').click();
      await poll(async () => (await page.getByTestId('feed-state').getAttribute('data-live')) === 'yes', { what: 'the live feed' });
      await page.getByTestId('nav-accounts').click();
      const row = page.locator('[data-testid="account-row"][data-connection-id="fake"]');
      await poll(async () => (await row.getAttribute('data-status')) === 'connected', { what: 'the connected account' });
      assert.match(await row.getByTestId('account-status').textContent(), /Connected/);
      assert.equal(await row.getByTestId('reconsent-note').count(), 0);
      assert.equal(await row.getByTestId('connect-button').count(), 0, 'nothing to reconnect yet');
      await page.evaluate(() => { window.__sameDocument = true; });

      // The user withdraws consent at the provider; a backend's token exchange needs a refresh, which
      // the provider refuses.
      fake.revokeAll();
      const refusedBefore = fake.tokenRequests.filter((r) => r.grant_type === 'refresh_token' && r.status === 400).length;
      const res = await exchange(gh, syncClient, traveller.token);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(res.body.error_description, /reconsent_required/);
      assert.equal(fake.tokenRequests.filter((r) => r.grant_type === 'refresh_token' && r.status === 400).length, refusedBefore + 1,
        'the provider refused one refresh with 400');

      await poll(async () => (await row.getAttribute('data-status')) === 'reconsent_required', { what: 'the re-consent state (pushed)' });
      assert.equal(await page.evaluate(() => window.__sameDocument), true, 'it arrived without a reload');
      assert.match(await row.getByTestId('account-status').textContent(), /Needs your consent again/);
      assert.doesNotMatch(await row.getByTestId('account-status').textContent(), /^Connected/);
      const note = row.getByTestId('reconsent-note');
      assert.match(await note.textContent(), /no longer accepts this connection/);
      assert.match(await note.textContent(), /invalid_grant/, 'the provider\'s reason is named');
      const reconnect = row.getByTestId('connect-button');
      assert.equal((await reconnect.textContent()).trim(), 'Reconnect');
      assert.equal(await reconnect.isEnabled(), true);
      assert.equal(await row.getByTestId('disconnect-button').count(), 1, 'it can also be dropped');
      const listed = await api(gh.url, 'GET', '/api/me/connected-accounts', { token: traveller.token });
      const account = listed.body.accounts.find((a) => a.connection_id === 'fake');
      assert.equal(account.status, 'reconsent_required');
      assert.match(account.last_error, /invalid_grant/);

      // Reconnect: off to the provider again and back, connected.
      await reconnect.click();
      await page.getByTestId('connected-notice').waitFor({ timeout: STEP_TIMEOUT });
      assert.match(await page.getByTestId('connected-notice').textContent(), /Connected Fake Provider/);
      await poll(async () => (await row.getAttribute('data-status')) === 'connected', { what: 'the connected status after reconnecting' });
      assert.equal(await row.getByTestId('reconsent-note').count(), 0);
      assert.match(await row.getByTestId('account-status').textContent(), /Connected/);
      const reconnected = await api(gh.url, 'GET', '/api/me/connected-accounts', { token: traveller.token });
      assert.equal(reconnected.body.accounts.find((a) => a.connection_id === 'fake')?.status, 'connected');
      const fixed = await exchange(gh, syncClient, traveller.token);
      assert.equal(fixed.status, 200, JSON.stringify(fixed.body));
      assert.ok(fixed.body.access_token, 'the backend gets a token for the user again');
    });
  });
});
