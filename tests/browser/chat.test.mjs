// Browser test: drives the real web UI served by the real gatehouse binary in headless Chromium.
// Sign-up (new organisation) -> verification code from the outbox -> log in -> streamed chat with a
// tool card -> usage dashboard updates. Skips when build/gatehouse or Chromium is missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseSse, repoRoot, startGatehouse, strongPassword, uniqueEmail } from '../lib/gatehouse.mjs';
import { STEP_TIMEOUT, browserSkipReason, distIndex, launchChromium, poll, withPage as withContext } from '../lib/browser.mjs';

const WEATHER_QUESTION = "What's the weather in Paris?";
const skipReason = browserSkipReason();

// ---- helpers ---------------------------------------------------------------------------------

async function waitForText(locator, expected, what) {
  await poll(async () => (await locator.textContent())?.trim() === expected, { what: `${what} to be "${expected}"` });
}

// Waits until the control `testId` shows up; fails at once with the server's message when the form
// shows an error instead (e.g. the backend rejecting the password), rather than timing out.
async function waitForScreen(page, testId, step) {
  const target = page.getByTestId(testId);
  const error = page.getByTestId('form-error');
  const deadline = Date.now() + STEP_TIMEOUT;
  while (!(await target.isVisible())) {
    if (await error.isVisible()) throw new Error(`${step} failed in the UI: ${(await error.textContent()).trim()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${step} to show ${testId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function registerVerifyLogin(page, gh, { tier }) {
  const email = uniqueEmail(`browser-${tier}`);
  const tenantName = `Browser ${tier} org`;

  await page.goto(`${gh.url}/register`);
  await page.getByTestId('register-mode-new').click();
  await page.getByTestId('register-email').fill(email);
  await page.getByTestId('register-password').fill(strongPassword);
  await page.getByTestId('register-tenant-name').fill(tenantName);
  await page.getByTestId('register-tier').selectOption(tier);
  await page.getByTestId('register-submit').click();

  // The UI moves on to the verification screen; the code arrives by "mail" in the outbox.
  await waitForScreen(page, 'verify-code', 'registration');
  assert.equal(await page.getByTestId('verify-email').inputValue(), email, 'verify screen prefilled with the email');
  const code = await poll(() => { try { return gh.verificationCode(email); } catch { return null; } },
    { what: `verification mail for ${email}` });
  await page.getByTestId('verify-code').fill(code);
  await page.getByTestId('verify-submit').click();

  await waitForScreen(page, 'login-password', 'email verification');
  await page.getByTestId('login-email').fill(email);
  await page.getByTestId('login-password').fill(strongPassword);
  await page.getByTestId('login-submit').click();

  await waitForScreen(page, 'chat-input', 'login');
  await waitForText(page.getByTestId('user-email'), email, 'header email');
  assert.equal((await page.getByTestId('user-tier').textContent()).trim().toLowerCase(), tier);
  assert.equal((await page.getByTestId('user-role').textContent()).trim(), 'admin', 'registrant of a new organisation is its admin');
  assert.equal(await page.getByTestId('invite-button').count(), 1, 'admins see the Invite action');
  return { email, tenantName };
}

// Records, from inside the page, how the last assistant message looks after every DOM mutation.
async function observeAssistant(page) {
  await page.evaluate(() => {
    const container = document.querySelector('[data-testid="messages"]');
    window.__assistantLog = [];
    const obs = new MutationObserver(() => {
      const all = container.querySelectorAll('[data-testid="message"][data-role="assistant"]');
      const last = all[all.length - 1];
      if (!last) return;
      const text = last.querySelector('[data-testid="message-assistant"]')?.textContent ?? '';
      window.__assistantLog.push({ streaming: last.dataset.streaming, textLength: text.length,
        deltas: Number(last.dataset.deltaCount || 0) });
    });
    obs.observe(container, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

// Installed before any page script: tees the body of every POST /api/chat response so the test sees
// the exact bytes the UI consumed (decoded as UTF-8, as text/event-stream requires), chunk by chunk.
function interceptChatStream() {
  const original = window.fetch.bind(window);
  window.__chatStreams = [];
  window.fetch = async (input, init) => {
    const res = await original(input, init);
    const url = typeof input === 'string' ? input : input.url;
    if (!/\/api\/chat$/.test(new URL(url, location.href).pathname) || !res.body) return res;
    const record = { status: res.status, contentType: res.headers.get('content-type'), chunks: [], text: '', complete: false };
    window.__chatStreams.push(record);
    const [forUi, forTest] = res.body.tee();
    (async () => {
      const reader = forTest.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        record.chunks.push(value.length);
        record.text += value;
      }
      record.complete = true;
    })().catch((e) => { record.error = String(e); record.complete = true; });
    return new Response(forUi, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

// Sends a message through the UI; returns the SSE events the browser received and the final
// assistant message element.
async function sendAndWait(page, text) {
  await observeAssistant(page);
  const before = await page.evaluate(() => window.__chatStreams.length);
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('send-button').click();
  const assistant = page.locator('[data-testid="message"][data-role="assistant"]').last();
  await poll(async () => (await assistant.getAttribute('data-streaming')) === 'false', { what: 'the answer to finish' });
  const stream = await poll(() => page.evaluate((i) => {
    const s = window.__chatStreams[i];
    return s && s.complete ? s : null;
  }, before), { what: 'the chat response stream to end' });
  assert.equal(stream.status, 200, `POST /api/chat answered ${stream.status}: ${stream.text.slice(0, 300)}`);
  assert.match(stream.contentType || '', /text\/event-stream/, 'the UI asked for and got an event stream');
  const events = parseSse(stream.text);
  const log = await page.evaluate(() => window.__assistantLog);
  return { events, assistant, log, chunks: stream.chunks };
}

function assertStreamedReply(events, log, renderedText) {
  const names = events.map((e) => e.event);
  assert.equal(names[0], 'start', `stream starts with "start" (got ${names.join(',')})`);
  assert.ok(names.includes('done'), `stream ends with "done" (got ${names.join(',')})`);
  assert.ok(!names.includes('error'), `no error event (got ${JSON.stringify(events.find((e) => e.event === 'error'))})`);
  const deltas = events.filter((e) => e.event === 'delta');
  assert.ok(deltas.length >= 1, 'at least one delta event');
  assert.ok(names.lastIndexOf('delta') < names.indexOf('done'), 'deltas come before done');
  // What the page shows is exactly the text the deltas carried.
  const streamedText = deltas.map((e) => e.data.text).join('');
  assert.equal(renderedText, streamedText, 'rendered answer equals the concatenated deltas');
  // ... and it was rendered while the answer was still streaming, i.e. before "done" was applied.
  const partial = log.filter((l) => l.streaming === 'true' && l.textLength > 0);
  assert.ok(partial.length >= 1, `delta text was rendered before done (DOM log: ${JSON.stringify(log.slice(-5))})`);
  const final = log[log.length - 1];
  assert.equal(final.streaming, 'false');
  assert.equal(final.deltas, deltas.length, 'every delta event was applied by the UI');
}

// ---- tests -----------------------------------------------------------------------------------

describe('web UI in a real browser', () => {
  let gh;
  let browser;

  before(async () => {
    if (skipReason) return;
    if (!existsSync(distIndex)) {
      execFileSync('npm', ['run', 'build:web'], { cwd: repoRoot, stdio: 'inherit' });
    }
    gh = await startGatehouse();
    const home = await fetch(`${gh.url}/`);
    const html = await home.text();
    assert.ok(home.ok && /<div id="app">/.test(html),
      `gatehouse must serve the web UI (web/dist/index.html) at / ; got ${home.status} ${html.slice(0, 200)}`);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (gh) await gh.stop();
  });

  const withPage = (t, fn) => withContext(t, { browser, gh, viewport: { width: 1400, height: 900 }, initScript: interceptChatStream }, fn);

  test('advanced tier: sign up, verify, log in, streamed weather answer with a tool card, usage 0 -> 1', { skip: skipReason, timeout: 120_000 }, async (t) => {
    await withPage(t, async (page) => {
      await registerVerifyLogin(page, gh, { tier: 'advanced' });

      const today = page.getByTestId('usage-messages-today');
      await waitForText(today, '0', 'messages today before chatting');

      const { events, assistant, log } = await sendAndWait(page, WEATHER_QUESTION);
      const rendered = await assistant.getByTestId('message-assistant').textContent();
      assertStreamedReply(events, log, rendered);
      assert.ok(rendered.trim().length > 0, 'the answer is not empty');

      // The plan includes the weather tool: the model called it, and the UI shows the call as a card.
      const calls = events.filter((e) => e.event === 'tool_call');
      assert.ok(calls.some((e) => /weather/i.test(e.data.name)), `a weather tool_call event (got ${JSON.stringify(calls)})`);
      assert.ok(events.some((e) => e.event === 'tool_result' && /weather/i.test(e.data.name)), 'a weather tool_result event');
      const card = assistant.locator('[data-testid="tool-card"]').first();
      await card.waitFor({ timeout: STEP_TIMEOUT });
      assert.match(await card.getAttribute('data-tool-name'), /weather/i);
      assert.equal(await card.getAttribute('data-status'), 'done');
      await card.locator('summary').click(); // collapsible: open it
      assert.match(await card.getByTestId('tool-arguments').textContent(), /paris/i, 'arguments mention Paris');
      assert.ok((await card.getByTestId('tool-result').textContent()).trim().length > 0, 'the tool result is shown');

      // The usage panel refreshes after the chat.
      await waitForText(today, '1', 'messages today after one chat');
      await waitForText(page.getByTestId('usage-messages-month'), '1', 'messages this month after one chat');

      // The conversation is listed and its history loads from the server.
      const item = page.getByTestId('session-item').first();
      await item.waitFor({ timeout: STEP_TIMEOUT });
      await item.click();
      await poll(async () => (await page.locator('[data-testid="message"][data-role="user"]').count()) === 1
        && (await page.locator('[data-testid="message"][data-role="assistant"]').count()) === 1,
      { what: 'session history (1 user + 1 assistant message)' });
      assert.match(await page.locator('[data-testid="message"][data-role="user"]').first().textContent(), /weather in Paris/);
    });
  });

  test('basic tier: the weather question is answered without the tool', { skip: skipReason, timeout: 120_000 }, async (t) => {
    await withPage(t, async (page) => {
      await registerVerifyLogin(page, gh, { tier: 'basic' });
      const today = page.getByTestId('usage-messages-today');
      await waitForText(today, '0', 'messages today before chatting');

      const { events, assistant, log } = await sendAndWait(page, WEATHER_QUESTION);
      const rendered = await assistant.getByTestId('message-assistant').textContent();
      assertStreamedReply(events, log, rendered);
      assert.ok(rendered.trim().length > 0, 'the answer is not empty');

      assert.deepEqual(events.filter((e) => e.event === 'tool_call' || e.event === 'tool_result'), [],
        'the basic plan does not allow the weather tool');
      assert.equal(await assistant.locator('[data-testid="tool-card"]').count(), 0, 'no tool card shown');
      assert.equal(await assistant.locator('[data-testid="chat-error"], [data-testid="quota-error"]').count(), 0, 'no error shown');

      await waitForText(today, '1', 'messages today after one chat');
    });
  });
});
