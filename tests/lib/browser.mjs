// What every browser test shares: where Chromium is, why a test skips, launching it headless,
// a fresh context per test that fails on uncaught page errors (and then prints the page's problems
// and the gatehouse log tail), and polling.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { binary, repoRoot, strongPassword } from './gatehouse.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const distIndex = path.join(repoRoot, 'web', 'dist', 'index.html');
export const STEP_TIMEOUT = 30_000;

// false when a browser test can run; otherwise why not. `needDist`: the test cannot build the UI itself.
export function browserSkipReason({ needDist = false } = {}) {
  if (!existsSync(binary)) return `gatehouse binary not found at ${binary} (build the backend first)`;
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH)`;
  if (needDist && !existsSync(distIndex)) return 'web/dist is missing (npm run build:web, then rebuild gatehouse)';
  return false;
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

// Runs fn(page) in a fresh context; an uncaught error in the page fails the test.
export async function withPage(t, { browser, gh, viewport = { width: 1300, height: 900 }, initScript }, fn) {
  const context = await browser.newContext({ viewport });
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  try {
    await fn(page);
    assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), [], 'no uncaught errors in the page');
  } catch (e) {
    t.diagnostic(`page problems: ${problems.join(' | ') || 'none'}`);
    t.diagnostic(`gatehouse log tail:\n${gh.lines.slice(-30).join('\n')}`);
    throw e;
  } finally {
    await context.close();
  }
}

export async function poll(fn, { timeout = STEP_TIMEOUT, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Signs `who` ({email}, password strongPassword) in through the login page and waits for the chat.
export async function logIn(page, gh, who) {
  await page.goto(`${gh.url}/login`);
  await page.getByTestId('login-email').fill(who.email);
  await page.getByTestId('login-password').fill(strongPassword);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('chat-input').waitFor({ timeout: STEP_TIMEOUT });
}
