// Wrong turns: a cancelled Reconnect webview, a temporary code that was already used,
// a session that expires in the middle of a repair, and the proxy restarting under the
// widget's feet. Each time the user sees what happened and can carry on.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startProxy, launchBrowser, sandboxRequests, resetSandbox, serveStatic, signSession, eventually,
} from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// A known session key, so the test signs sessions like an integrator's backend, and
// sessions survive a restart of the proxy.
const SECRET = 'e2e-wrong-turns-session-secret-0123456789abcdef';
const LEEWAY_S = 30; // clock skew the proxy tolerates on `exp` (crates/proxy/src/session.rs)

let host;
let proxy;
let env;
let browser;

before(async () => {
  host = await serveStatic(path.join(here, 'fixtures'));
  env = { MEND_SESSION_SECRET: SECRET, MEND_ALLOWED_ORIGINS: host.origin };
  proxy = await startProxy(env);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await host?.close();
});

beforeEach(async () => {
  await resetSandbox(proxy.base);
});

const sel = (id) => `mend-connection[connection-id="${id}"]`;
const shadowText = (page, id) => page.locator(sel(id)).evaluate((e) => e.shadowRoot.textContent);

async function demo(id, state) {
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(`${proxy.base}/widget/`);
  await page.waitForSelector(`${sel(id)}[data-state="${state}"]`, { timeout: 15000 });
  return page;
}

const WEBVIEW = /\/sandbox\/webview\/[a-z]{2}\/reconnect\?/;

test('a cancelled Reconnect webview: back on the page, told so, nothing changed, can try again', async () => {
  const page = await demo(102, 'SCARequired');
  await page.locator(`${sel(102)} [data-action="reconnect"]`).click();
  await page.waitForURL(/\/sandbox\/webview\//);
  await page.getByRole('button', { name: /cancel/i }).click();
  await page.waitForURL((u) => u.pathname.startsWith('/widget/'));
  await page.waitForSelector(`${sel(102)}[data-state="SCARequired"]`);
  await page.waitForFunction((s) => /cancelled/i.test(document.querySelector(s)?.shadowRoot?.textContent ?? ''), sel(102));
  await page.waitForFunction(() => !location.search.includes('state=') && !location.search.includes('error='));
  // Nothing was changed at Powens: no update of 102 at all.
  const writes = (await sandboxRequests(proxy.base))
    .filter((r) => r.path.endsWith('/connections/102') && r.method !== 'GET');
  assert.deepEqual(writes, []);
  // Try again: a new webview, which this time repairs it.
  const webview = page.waitForRequest(WEBVIEW);
  await page.locator(`${sel(102)} [data-action="reconnect"]`).click();
  await webview;
  await page.locator('button.primary').click();
  await page.waitForURL((u) => u.pathname.startsWith('/widget/'));
  await page.waitForSelector(`${sel(102)}[data-state="ok"]`);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('an already-used temporary code: the webview answers server_error, the widget says so, a new click mints a new code', async () => {
  const page = await demo(109, 'wrongpass');
  // The code is spent just before the browser opens the link (as a mail scanner's
  // prefetch or a second tab would): the test opens it first, then lets the browser go.
  let used;
  let spent;
  await page.route(WEBVIEW, async (route) => {
    used = new URL(route.request().url());
    spent = await fetch(used, { redirect: 'manual' });
    await route.continue();
  }, { times: 1 });
  const back = page.waitForRequest((r) => r.isNavigationRequest() && new URL(r.url()).pathname === '/widget/'
    && new URL(r.url()).searchParams.has('error'));
  await page.locator(`${sel(109)} [data-action="reconnect"]`).click();
  const returned = new URL((await back).url());
  assert.ok(spent.status >= 300 && spent.status < 400, 'the webview accepted the code once');
  assert.match(spent.headers.get('location'), /\/webview\/session\//);
  assert.equal(returned.searchParams.get('error'), 'server_error', 'the webview sent the user back with error=server_error');
  await page.waitForURL((u) => u.pathname === '/widget/' && !u.search.includes('error='));
  await page.waitForSelector(`${sel(109)}[data-state="wrongpass"]`);
  await page.waitForFunction((s) => /couldn.t complete/i.test(document.querySelector(s)?.shadowRoot?.textContent ?? ''), sel(109));
  // A new click: a fresh single-use code, and this time the repair goes through.
  const webview = page.waitForRequest(WEBVIEW);
  await page.locator(`${sel(109)} [data-action="reconnect"]`).click();
  const fresh = new URL((await webview).url());
  assert.ok(fresh.searchParams.get('code'));
  assert.notEqual(fresh.searchParams.get('code'), used.searchParams.get('code'), 'a new code for the new attempt');
  assert.notEqual(fresh.searchParams.get('state'), used.searchParams.get('state'), 'a new state too');
  await page.locator('input[name="login"]').fill('demo');
  await page.locator('input[type="password"]').first().fill('1234');
  await page.locator('button.primary').click();
  await page.waitForURL((u) => u.pathname.startsWith('/widget/'));
  await page.waitForSelector(`${sel(109)}[data-state="ok"]`);
  const codes = (await sandboxRequests(proxy.base)).filter((r) => r.path.endsWith('/auth/token/code'));
  assert.equal(codes.length, 2, 'one code minted per click');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a session expiring mid-repair: mend:session-expired, then a fresh session lets the repair finish', async () => {
  // Valid for a few seconds: the proxy accepts `exp` up to LEEWAY_S seconds late.
  const now = Math.floor(Date.now() / 1000);
  const shortExp = now - LEEWAY_S + 3;
  const short = await signSession(SECRET, { sub: '1', iat: now - 60, exp: shortExp, connections: [104] });
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(`${host.origin}/host.html?widget=${encodeURIComponent(`${proxy.base}/widget/mend.js`)}`);
  await page.evaluate(([s, v]) => {
    for (const el of document.querySelectorAll('mend-connection')) if (!el.matches(s)) el.remove();
    document.querySelector(s).setAttribute('session', v);
  }, [sel(104), short]);
  await page.waitForSelector(`${sel(104)}[data-state="additionalInformationNeeded"]`);
  const el = page.locator(sel(104));
  await el.locator('input').first().fill('123456');
  // The user takes their time: the session is past its expiry (and the leeway).
  await eventually(() => Date.now() / 1000 > shortExp + LEEWAY_S + 1, { timeout: 10000, message: 'the session to expire' });
  await el.locator('[data-action="submit"]').click();
  const expired = await eventually(async () => (await page.evaluate(() => window.mendEvents))
    .find((e) => e.type === 'mend:session-expired'), { message: 'mend:session-expired' });
  assert.deepEqual(expired.detail, { connectionId: 104 });
  assert.ok(expired.bubbles && expired.composed);
  await page.waitForSelector(`${sel(104)}[data-phase="session-expired"]`);
  assert.equal(await el.getAttribute('data-state'), 'additionalInformationNeeded', 'the state is still the last one known');
  assert.match(await shadowText(page, 104), /session has expired/i);
  const posts = () => sandboxRequests(proxy.base)
    .then((l) => l.filter((r) => r.method === 'POST' && r.path.endsWith('/connections/104')));
  assert.deepEqual(await posts(), [], 'the expired session reached nothing');
  // The host answers the event with a fresh session: the repair goes on.
  const fresh = await signSession(SECRET, { sub: '1', connections: [104] });
  await page.evaluate(([s, v]) => document.querySelector(s).setAttribute('session', v), [sel(104), fresh]);
  await page.waitForSelector(`${sel(104)}[data-state="additionalInformationNeeded"][data-phase="showing"]`);
  const input = el.locator('input').first();
  if ((await input.inputValue()) !== '123456') await input.fill('123456');
  await el.locator('[data-action="submit"]').click();
  await page.waitForSelector(`${sel(104)}[data-state="ok"]`);
  assert.equal((await posts()).length, 1, 'one submission reached Powens');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the proxy restarting: unavailable with a retry, then the widget recovers', async () => {
  const page = await demo(110, 'rateLimiting');
  await page.waitForSelector(`${sel(111)}[data-state="websiteUnavailable"]`);
  const port = proxy.port;
  await proxy.stop();
  // Watched connections notice at once (their long poll ends, the next is refused).
  await page.waitForSelector(`${sel(110)}[data-state="unavailable"]`);
  await page.waitForSelector(`${sel(111)}[data-state="unavailable"]`);
  await page.locator(`${sel(110)} [data-action="retry"]`).waitFor();
  assert.match(await shadowText(page, 110), /can.t reach/i);
  proxy = await startProxy(env, port);
  // 110 through the retry button; 111 by itself (its backoff timer).
  await page.locator(`${sel(110)} [data-action="retry"]`).click();
  await page.waitForSelector(`${sel(110)}[data-state="rateLimiting"]`);
  await page.waitForSelector(`${sel(111)}[data-state="websiteUnavailable"]`, { timeout: 20000 });
  // And it works, not just shows: a repair through the restarted proxy.
  const el = page.locator(sel(104));
  await el.locator('[data-action]').first().waitFor();
  await el.locator('input').first().fill('123456');
  await el.locator('[data-action="submit"]').click();
  await page.waitForSelector(`${sel(104)}[data-state="ok"]`);
  assert.deepEqual(page.errors, []);
  await page.close();
});
