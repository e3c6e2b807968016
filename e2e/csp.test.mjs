// Strict Content Security Policy (README, "Embedding"): a host page of another origin that
// allows only itself, the proxy and 'wasm-unsafe-eval' — no 'unsafe-inline', no
// 'unsafe-eval' — runs the widget and a repair without a single violation; so does
// the proxy's own demo page under the CSP the proxy sends.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProxy, launchBrowser, serveStatic, demoSession, resetSandbox } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const headers = {}; // the host's CSP, set once the proxy's origin is known
let host;
let proxy;
let browser;

before(async () => {
  host = await serveStatic(path.join(here, 'fixtures'), { headers });
  proxy = await startProxy({
    MEND_ALLOWED_ORIGINS: host.origin,
    MEND_REDIRECT_URIS: `${host.origin}/host.html`,
  });
  const p = proxy.base;
  headers['content-security-policy'] = [
    "default-src 'self'",
    `script-src 'self' ${p} 'wasm-unsafe-eval'`,
    `style-src 'self' ${p}`,
    `connect-src 'self' ${p}`,
    "img-src 'self' data:",
  ].join('; ');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await host?.close();
});

const sel = (id) => `mend-connection[connection-id="${id}"]`;

/** A page that records every CSP violation, from before the first script runs. */
async function watchedPage() {
  const page = await browser.newPage();
  const console = [];
  page.on('console', (m) => {
    if (/content security policy/i.test(m.text())) console.push(m.text());
  });
  page.on('pageerror', (e) => console.push(`pageerror: ${e}`));
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
    }, true);
  });
  page.violations = async () => [...(await page.evaluate(() => window.cspViolations)), ...console];
  return page;
}

/**
 * A positive control: an inline <style> is refused and reported, so the policy is in
 * force and the listeners above would have seen a violation of the widget's.
 */
async function assertPolicyEnforced(page) {
  const before = (await page.evaluate(() => window.cspViolations)).length;
  await page.evaluate(() => {
    const s = document.createElement('style');
    s.textContent = 'body { outline: 1px solid red }';
    document.head.append(s);
  });
  await page.waitForFunction((n) => window.cspViolations.length > n, before);
}

test('a host page under a strict CSP runs the widget and an OTP repair without a violation', async () => {
  await resetSandbox(proxy.base);
  const page = await watchedPage();
  const response = await page.goto(`${host.origin}/host.html?widget=${encodeURIComponent(`${proxy.base}/widget/mend.js`)}`);
  assert.match(response.headers()['content-security-policy'], /script-src 'self' http:\/\/127\.0\.0\.1:\d+ 'wasm-unsafe-eval'/);
  assert.doesNotMatch(response.headers()['content-security-policy'], /unsafe-inline|'unsafe-eval'/);
  assert.equal(await page.evaluate(() => window.mendLoaded), true, 'mend.js and its wasm loaded');
  for (const id of [101, 104, 102]) {
    const session = await demoSession(proxy.base, id);
    await page.evaluate(([s, v]) => document.querySelector(s).setAttribute('session', v), [sel(id), session]);
  }
  await page.waitForSelector(`${sel(101)}[data-state="ok"]`);
  await page.waitForSelector(`${sel(102)}[data-state="SCARequired"]`);
  await page.waitForSelector(`${sel(104)}[data-state="additionalInformationNeeded"]`);
  // Styled by its sheet (from the proxy's origin), not by inline styles.
  const styled = await page.locator(`${sel(104)} [data-action="submit"]`).evaluate((b) => getComputedStyle(b).cursor);
  assert.equal(styled, 'pointer', "the widget's style sheet applies");
  const el = page.locator(sel(104));
  await el.locator('input').first().fill('123456');
  await el.locator('[data-action="submit"]').click();
  await page.waitForSelector(`${sel(104)}[data-state="ok"]`);
  assert.deepEqual(await page.violations(), []);
  await assertPolicyEnforced(page);
  await page.close();
});

test("the proxy's own demo page reports no violation", async () => {
  await resetSandbox(proxy.base);
  const page = await watchedPage();
  const response = await page.goto(`${proxy.base}/widget/`);
  const policy = response.headers()['content-security-policy'];
  assert.ok(policy && !/unsafe-inline|'unsafe-eval'/.test(policy), `strict CSP on the demo page: ${policy}`);
  for (const [id, state] of [[101, 'ok'], [104, 'additionalInformationNeeded'], [109, 'wrongpass'], [114, 'someFutureState']]) {
    await page.waitForSelector(`${sel(id)}[data-state="${state}"]`);
  }
  // Every element reached a state (none stuck loading because something was blocked).
  await page.waitForFunction(() => [...document.querySelectorAll('mend-connection')]
    .every((e) => e.dataset.state && e.dataset.state !== 'loading'));
  // A refused value (aria-invalid styles) and the dark theme (its sheet) add nothing inline.
  const el = page.locator(sel(104));
  await el.locator('input').first().fill('12ab');
  await el.locator('[data-action="submit"]').click();
  await el.locator('[aria-invalid="true"]').first().waitFor();
  await page.getByLabel('Theme').selectOption('dark');
  await page.waitForSelector(`${sel(104)}[theme="dark"]`);
  assert.deepEqual(await page.violations(), []);
  await assertPolicyEnforced(page);
  await page.close();
});
