// Browser test: the Connections page (tenant admins) of the real web UI, served by the real gatehouse
// binary, in headless Chromium.
//  - An admin adds a connection from a provider preset (the preset fills the endpoints), sees it
//    listed, and neither the API's answers nor the page ever hold the client secret again.
//  - A save the API refuses (422: a token URL that is not https) is shown beside the form, the field
//    it names is marked, and everything typed stays, the secret included; fixing it saves.
//  - Edit (only what changed is sent; an empty secret keeps the stored one; a cleared client id is
//    refused and the form keeps its values) and delete (after a confirmation that can be declined).
//  - A member who is not an admin has no Connections link and gets an "admins only" page; an admin
//    of another tenant sees none of this tenant's connections.
// This gatehouse runs without GATEHOUSE_VAULT_ALLOW_INSECURE_HTTP, so http:// endpoints are refused,
// and no connection here needs the network (presets and explicit endpoints are not discovered).
// Skips when the gatehouse binary or Chromium is missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { api, signUp, startGatehouse } from '../lib/gatehouse.mjs';
import { STEP_TIMEOUT, browserSkipReason, launchChromium, logIn, poll, withPage as withContext } from '../lib/browser.mjs';
import { tenantWithUsers } from '../lib/vault.mjs';

const skipReason = browserSkipReason({ needDist: true });

// Every API answer the page receives, as text (the live feed, which never ends, is left out).
function recordApiAnswers(page) {
  const pending = [];
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (!url.pathname.startsWith('/api/') || url.pathname === '/api/me/events') return;
    pending.push(res.text().then((body) => ({ url: url.pathname, status: res.status(), body }), () => null));
  });
  return async () => (await Promise.all(pending)).filter(Boolean);
}

// The API requests the page sends to the tenant's connections, with their bodies.
function recordConnectionRequests(page) {
  const seen = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (/^\/api\/tenants\/[^/]+\/connections/.test(url.pathname)) {
      seen.push({ method: req.method(), path: url.pathname, body: req.postData() });
    }
  });
  return seen;
}

const newSecret = (label) => `${label}-${randomBytes(12).toString('hex')}`;

describe('tenant connections in the browser', () => {
  let gh;
  let browser;
  let admin;
  let member;
  let outsider;

  before(async () => {
    if (skipReason) return;
    gh = await startGatehouse({ env: { GATEHOUSE_IDENTITY_PASSWORD_HASH_MEMORY_KIB: '4096' } });
    ({ admin, members: [member] } = await tenantWithUsers(gh, { users: 1 }));
    outsider = await signUp(gh, { tier: 'advanced' });  // the admin of a tenant of their own
    assert.notEqual(outsider.tenant_id, admin.tenant_id);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await gh?.stop();
  });

  const withPage = (t, fn) => withContext(t, { browser, gh }, fn);
  const connectionsUrl = (who) => `/api/tenants/${who.tenant_id}/connections`;

  test('an admin adds a connection from a preset; it is listed and its secret never comes back', { skip: skipReason, timeout: 120_000 }, async (t) => {
    await withPage(t, async (page) => {
      const answers = recordApiAnswers(page);
      const secret = newSecret('google-secret');
      await logIn(page, gh, admin);
      assert.equal((await page.getByTestId('user-role').textContent()).trim(), 'admin');
      await page.getByTestId('nav-connections').click();
      await page.getByTestId('connections-page').waitFor({ timeout: STEP_TIMEOUT });
      assert.equal(new URL(page.url()).pathname, '/connections');
      await page.getByTestId('connections-empty').waitFor({ timeout: STEP_TIMEOUT });
      assert.equal(await page.getByTestId('connections-admins-only').count(), 0);

      await page.getByTestId('connection-add').click();
      const form = page.getByTestId('connection-form');
      await form.waitFor({ timeout: STEP_TIMEOUT });
      assert.equal(await form.getAttribute('data-mode'), 'create');
      const options = page.getByTestId('connection-preset').locator('option');
      await poll(async () => (await options.count()) >= 7, { what: 'the presets to load' });
      const presetNames = await options.allTextContents();
      for (const name of ['Google', 'Microsoft', 'GitHub', 'Slack', 'Salesforce', 'Atlassian']) {
        assert.ok(presetNames.includes(name), `the ${name} preset is offered (got ${presetNames.join(', ')})`);
      }
      await page.getByTestId('connection-preset').selectOption('google');
      // The preset fills in its endpoints, name and usual scopes.
      assert.equal(await page.getByTestId('connection-authorization-endpoint').inputValue(), 'https://accounts.google.com/o/oauth2/v2/auth');
      assert.equal(await page.getByTestId('connection-token-endpoint').inputValue(), 'https://oauth2.googleapis.com/token');
      assert.equal(await page.getByTestId('connection-revocation-endpoint').inputValue(), 'https://oauth2.googleapis.com/revoke');
      assert.equal(await page.getByTestId('connection-display-name').inputValue(), 'Google');
      assert.equal(await page.getByTestId('connection-scopes').inputValue(), 'openid email profile');
      assert.equal(await page.getByTestId('connection-client-secret').getAttribute('type'), 'password', 'the secret is a password field');

      await page.getByTestId('connection-display-name').fill('Google Workspace');
      await page.getByTestId('connection-client-id').fill('1234-gatehouse.apps.googleusercontent.com');
      await page.getByTestId('connection-client-secret').fill(secret);
      await page.getByTestId('connection-scopes').fill('openid email profile https://www.googleapis.com/auth/calendar.readonly');
      await page.getByTestId('connection-submit').click();

      await page.getByTestId('connections-notice').waitFor({ timeout: STEP_TIMEOUT });
      assert.match(await page.getByTestId('connections-notice').textContent(), /Added Google Workspace/);
      assert.equal(await page.getByTestId('connection-form').count(), 0, 'the form closes once saved');
      const row = page.locator('[data-testid="connection-row"][data-connection-id="google"]');
      await row.waitFor({ timeout: STEP_TIMEOUT });
      assert.equal((await row.getByTestId('connection-name').textContent()).trim(), 'Google Workspace');
      assert.equal(await row.getByTestId('connection-preset-name').getAttribute('data-preset'), 'google');
      assert.equal((await row.getByTestId('connection-preset-name').textContent()).trim(), 'Google', 'the preset by its name');
      assert.equal((await row.getByTestId('connection-row-id').textContent()).trim(), 'google');
      assert.equal((await row.getByTestId('connection-row-client-id').textContent()).trim(), '1234-gatehouse.apps.googleusercontent.com');
      assert.equal((await row.getByTestId('connection-row-scopes').textContent()).trim(),
        'openid email profile https://www.googleapis.com/auth/calendar.readonly');
      assert.equal(await row.getByTestId('connection-secret-state').getAttribute('data-set'), 'yes');
      assert.equal((await row.getByTestId('connection-secret-state').textContent()).trim(), 'Set (hidden)');
      assert.match(await row.getByTestId('connection-redirect-uri').textContent(), /\/oauth\/callback$/);

      // Through the API: it exists, as the page showed it, without its secret.
      const list = await api(gh.url, 'GET', connectionsUrl(admin), { token: admin.token });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.connections.map((c) => c.id), ['google']);
      const one = await api(gh.url, 'GET', `${connectionsUrl(admin)}/google`, { token: admin.token });
      assert.equal(one.status, 200);
      assert.equal(one.body.display_name, 'Google Workspace');
      assert.equal(one.body.preset, 'google');
      assert.equal(one.body.client_secret_set, true);
      assert.equal(one.body.token_endpoint, 'https://oauth2.googleapis.com/token');
      assert.equal(one.body.token_endpoint_auth_method, 'client_secret_post', 'the preset\'s method was kept');
      assert.equal('client_secret' in one.body, false);
      for (const res of [list, one]) assert.ok(!JSON.stringify(res.body).includes(secret), 'the API never answers with the secret');

      const seen = await answers();
      assert.ok(seen.some((a) => a.url === connectionsUrl(admin) && a.status === 201), 'the page created it through the API');
      for (const a of seen) assert.ok(!a.body.includes(secret), `the answer to ${a.url} does not hold the secret`);
      assert.ok(!(await page.content()).includes(secret), 'the page does not show the secret');
    });
  });

  test('a refused save shows the API\'s error beside the form and keeps every value', { skip: skipReason, timeout: 120_000 }, async (t) => {
    await withPage(t, async (page) => {
      const answers = recordApiAnswers(page);
      const secret = newSecret('crm-secret');
      await logIn(page, gh, admin);
      await page.getByTestId('nav-connections').click();
      await page.getByTestId('connection-add').click();
      await page.getByTestId('connection-preset').selectOption('custom');
      const typed = {
        'connection-id': 'crm',
        'connection-display-name': 'Acme CRM',
        'connection-authorization-endpoint': 'https://crm.example.com/oauth/authorize',
        'connection-token-endpoint': 'http://crm.example.com/oauth/token',  // not https: refused
        'connection-client-id': 'crm-client',
        'connection-client-secret': secret,
        'connection-scopes': 'api refresh_token',
      };
      for (const [id, value] of Object.entries(typed)) await page.getByTestId(id).fill(value);
      await page.getByTestId('connection-submit').click();

      const error = page.getByTestId('connection-form-error');
      await error.waitFor({ timeout: STEP_TIMEOUT });
      assert.equal(await error.getAttribute('data-error-code'), 'invalid_connection');
      assert.match(await error.textContent(), /Token URL must be an https URL/, 'the API\'s reason, the field named by its label');
      assert.equal(await page.getByTestId('connection-token-endpoint').getAttribute('aria-invalid'), 'true', 'the field is marked');
      assert.equal(await page.getByTestId('connection-client-id').getAttribute('aria-invalid'), null, 'only that field');
      assert.equal(await page.getByTestId('connection-form').count(), 1, 'the form stays open');
      for (const [id, value] of Object.entries(typed)) {
        assert.equal(await page.getByTestId(id).inputValue(), value, `${id} keeps what was typed`);
      }
      assert.equal(await page.getByTestId('connection-preset').inputValue(), 'custom');
      const refused = (await answers()).find((a) => a.url === connectionsUrl(admin) && a.status === 422);
      assert.ok(refused, 'the API refused it with 422');
      assert.equal(JSON.parse(refused.body).error.code, 'invalid_connection');
      const none = await api(gh.url, 'GET', `${connectionsUrl(admin)}/crm`, { token: admin.token });
      assert.equal(none.status, 404, 'nothing was stored');

      // Fixing the one field is enough.
      await page.getByTestId('connection-token-endpoint').fill('https://crm.example.com/oauth/token');
      await page.getByTestId('connection-submit').click();
      const row = page.locator('[data-testid="connection-row"][data-connection-id="crm"]');
      await row.waitFor({ timeout: STEP_TIMEOUT });
      assert.equal(await page.getByTestId('connection-form-error').count(), 0);
      assert.equal((await row.getByTestId('connection-name').textContent()).trim(), 'Acme CRM');
      assert.equal(await row.getByTestId('connection-preset-name').getAttribute('data-preset'), 'custom');
      const stored = await api(gh.url, 'GET', `${connectionsUrl(admin)}/crm`, { token: admin.token });
      assert.equal(stored.status, 200);
      assert.equal(stored.body.token_endpoint, 'https://crm.example.com/oauth/token');
      assert.equal(stored.body.client_secret_set, true);
      assert.equal(stored.body.token_endpoint_auth_method, 'client_secret_basic', 'a custom connection defaults to HTTP Basic');
      for (const a of await answers()) assert.ok(!a.body.includes(secret), `the answer to ${a.url} does not hold the secret`);
    });
  });

  test('an admin edits a connection, then deletes it after confirming', { skip: skipReason, timeout: 120_000 }, async (t) => {
    const secret = newSecret('github-secret');
    const created = await api(gh.url, 'POST', connectionsUrl(admin), { token: admin.token,
      body: { preset: 'github', client_id: 'gh-oauth-app', client_secret: secret } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await withPage(t, async (page) => {
      const answers = recordApiAnswers(page);
      const sent = recordConnectionRequests(page);
      await logIn(page, gh, admin);
      await page.getByTestId('nav-connections').click();
      const row = page.locator('[data-testid="connection-row"][data-connection-id="github"]');
      await row.waitFor({ timeout: STEP_TIMEOUT });
      assert.equal((await row.getByTestId('connection-name').textContent()).trim(), 'GitHub');

      await row.getByTestId('connection-edit').click();
      const form = page.getByTestId('connection-form');
      await form.waitFor({ timeout: STEP_TIMEOUT });
      assert.equal(await form.getAttribute('data-mode'), 'edit');
      assert.equal(await page.getByTestId('connection-id').inputValue(), 'github');
      assert.equal(await page.getByTestId('connection-id').isDisabled(), true, 'the id cannot change');
      assert.equal(await page.getByTestId('connection-client-id').inputValue(), 'gh-oauth-app');
      assert.equal(await page.getByTestId('connection-client-secret').inputValue(), '', 'the secret is never filled in');
      assert.match(await page.getByTestId('connection-client-secret').getAttribute('placeholder'), /keep the current secret/);

      // A cleared client id is refused; the other changes stay in the form.
      await page.getByTestId('connection-display-name').fill('GitHub (engineering)');
      await page.getByTestId('connection-scopes').fill('read:user repo');
      await page.getByTestId('connection-client-id').fill('');
      await page.getByTestId('connection-submit').click();
      const error = page.getByTestId('connection-form-error');
      await error.waitFor({ timeout: STEP_TIMEOUT });
      assert.match(await error.textContent(), /Client id is required/);
      assert.equal(await page.getByTestId('connection-client-id').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByTestId('connection-display-name').inputValue(), 'GitHub (engineering)');
      assert.equal(await page.getByTestId('connection-scopes').inputValue(), 'read:user repo');
      assert.equal((await api(gh.url, 'GET', `${connectionsUrl(admin)}/github`, { token: admin.token })).body.display_name, 'GitHub',
        'the refused edit changed nothing');

      await page.getByTestId('connection-client-id').fill('gh-oauth-app-2');
      await page.getByTestId('connection-submit').click();
      await poll(async () => /Saved GitHub \(engineering\)/.test(await page.getByTestId('connections-notice').textContent()),
        { what: 'the saved notice' });
      assert.equal(await page.getByTestId('connection-form').count(), 0);
      await poll(async () => (await row.getByTestId('connection-name').textContent()).trim() === 'GitHub (engineering)',
        { what: 'the new name in the list' });
      assert.equal((await row.getByTestId('connection-row-scopes').textContent()).trim(), 'read:user repo');
      assert.equal((await row.getByTestId('connection-row-client-id').textContent()).trim(), 'gh-oauth-app-2');
      assert.equal(await row.getByTestId('connection-secret-state').getAttribute('data-set'), 'yes', 'the stored secret was kept');

      const puts = sent.filter((r) => r.method === 'PUT');
      assert.equal(puts.length, 2, 'the refused save and the good one');
      assert.deepEqual(JSON.parse(puts[1].body), { display_name: 'GitHub (engineering)', client_id: 'gh-oauth-app-2', scopes: 'read:user repo' },
        'only what changed is sent, and no secret');
      const stored = await api(gh.url, 'GET', `${connectionsUrl(admin)}/github`, { token: admin.token });
      assert.equal(stored.body.display_name, 'GitHub (engineering)');
      assert.equal(stored.body.client_id, 'gh-oauth-app-2');
      assert.equal(stored.body.scopes, 'read:user repo');
      assert.equal(stored.body.client_secret_set, true);
      assert.equal(stored.body.authorization_endpoint, 'https://github.com/login/oauth/authorize', 'endpoints untouched');

      // Delete asks first; "Keep it" keeps it.
      await row.getByTestId('connection-delete').click();
      const prompt = row.getByTestId('connection-delete-prompt');
      await prompt.waitFor({ timeout: STEP_TIMEOUT });
      assert.match(await prompt.textContent(), /Delete GitHub \(engineering\)\?/);
      await row.getByTestId('connection-delete-cancel').click();
      await prompt.waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
      assert.equal(sent.filter((r) => r.method === 'DELETE').length, 0, 'nothing deleted without confirming');
      assert.equal((await api(gh.url, 'GET', `${connectionsUrl(admin)}/github`, { token: admin.token })).status, 200);

      await row.getByTestId('connection-delete').click();
      await row.getByTestId('connection-delete-confirm').click();
      await row.waitFor({ state: 'detached', timeout: STEP_TIMEOUT });
      assert.match(await page.getByTestId('connections-notice').textContent(), /Deleted GitHub \(engineering\)/);
      const gone = await api(gh.url, 'GET', `${connectionsUrl(admin)}/github`, { token: admin.token });
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.code, 'connection_not_found');
      const rest = await api(gh.url, 'GET', connectionsUrl(admin), { token: admin.token });
      assert.ok(!rest.body.connections.some((c) => c.id === 'github'));
      assert.equal(await page.locator('[data-testid="connection-row"]').count(), rest.body.connections.length,
        'the page lists what the API has');
      for (const a of await answers()) assert.ok(!a.body.includes(secret), `the answer to ${a.url} does not hold the secret`);
    });
  });

  test('a member who is not an admin has no Connections link and is told the page is for admins', { skip: skipReason, timeout: 120_000 }, async (t) => {
    await withPage(t, async (page) => {
      const sent = recordConnectionRequests(page);
      await logIn(page, gh, member);
      assert.equal((await page.getByTestId('user-role').textContent()).trim(), 'user');
      await page.getByTestId('nav-accounts').waitFor({ timeout: STEP_TIMEOUT });
      assert.equal(await page.getByTestId('nav-connections').count(), 0, 'no Connections link');

      await page.goto(`${gh.url}/connections`);
      const notice = page.getByTestId('connections-admins-only');
      await notice.waitFor({ timeout: STEP_TIMEOUT });
      assert.match(await notice.textContent(), /admins/);
      assert.equal(await page.getByTestId('connections-page').getAttribute('data-admin'), 'no');
      assert.equal(await page.getByTestId('connection-add').count(), 0);
      assert.equal(await page.getByTestId('connections-list').count(), 0);
      assert.equal(await page.getByTestId('connections-error').count(), 0, 'not an error page');
      assert.equal(await page.getByTestId('nav-connections').count(), 0);
      assert.equal(await page.getByTestId('user-email').textContent(), member.email, 'still signed in, in the app');
      assert.deepEqual(sent, [], 'the page does not even ask the API');

      const refused = await api(gh.url, 'GET', connectionsUrl(member), { token: member.token });
      assert.equal(refused.status, 403, 'and the API refuses a member');
    });
  });

  test('an admin of another tenant sees none of this tenant\'s connections', { skip: skipReason, timeout: 120_000 }, async (t) => {
    const created = await api(gh.url, 'POST', connectionsUrl(admin), { token: admin.token,
      body: { preset: 'salesforce', id: 'salesforce-prod', display_name: 'Salesforce Production', client_id: 'sf-client',
        client_secret: newSecret('sf') } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await withPage(t, async (page) => {
      await logIn(page, gh, outsider);
      await page.getByTestId('nav-connections').click();
      await page.getByTestId('connections-empty').waitFor({ timeout: STEP_TIMEOUT });
      assert.equal(await page.locator('[data-testid="connection-row"]').count(), 0);
      assert.doesNotMatch(await page.getByTestId('connections-page').textContent(), /Salesforce Production|salesforce-prod/);

      const own = await api(gh.url, 'GET', connectionsUrl(outsider), { token: outsider.token });
      assert.equal(own.status, 200);
      assert.deepEqual(own.body.connections, []);
      const theirs = await api(gh.url, 'GET', connectionsUrl(admin), { token: outsider.token });
      assert.equal(theirs.status, 403, 'another tenant\'s path is refused');
      const byId = await api(gh.url, 'GET', `${connectionsUrl(outsider)}/salesforce-prod`, { token: outsider.token });
      assert.equal(byId.status, 404, 'the id means nothing in the outsider\'s tenant');
      const stillThere = await api(gh.url, 'GET', `${connectionsUrl(admin)}/salesforce-prod`, { token: admin.token });
      assert.equal(stillThere.status, 200, 'while it exists in its own tenant');
    });
  });
});
