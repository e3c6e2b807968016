// Embedding (README, "Embedding"): <mend-connection> on a host page of ANOTHER origin, loaded
// from the proxy's /widget/mend.js, with sessions the host got from its backend; the
// events the host sees; mend:redirect handled by the host; elements removed, re-added
// and re-rendered as a framework would, without leaks; an origin that is not allowed.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startProxy, launchBrowser, resetSandbox, sandboxRequests, serveStatic, demoSession, metric, eventually,
} from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const POLL_MS = 300; // MEND_POLL_INTERVAL of startProxy

let host; // the allowed host origin
let stranger; // an origin the proxy does not allow, self-hosting the widget files
let proxy;
let browser;

before(async () => {
  host = await serveStatic(fixtures);
  stranger = await serveStatic(fixtures, { mounts: { '/widget/': process.env.MEND_WIDGET_DIR ?? 'dist' } });
  proxy = await startProxy({
    MEND_ALLOWED_ORIGINS: host.origin,
    MEND_REDIRECT_URIS: `${host.origin}/host.html`,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await host?.close();
  await stranger?.close();
});

beforeEach(async () => {
  await resetSandbox(proxy.base);
});

const sel = (id) => `mend-connection[connection-id="${id}"]`;

/** Opens the host page (widget from the proxy) and gives each element its session. */
async function hostPage({ prevent = false, ids = [101, 104, 102] } = {}) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.errors = errors;
  const q = new URLSearchParams({ widget: `${proxy.base}/widget/mend.js` });
  if (prevent) q.set('prevent', 'redirect');
  await page.goto(`${host.origin}/host.html?${q}`);
  assert.equal(await page.evaluate(() => window.mendLoaded), true, 'mend.js loaded cross-origin');
  for (const id of ids) {
    const session = await demoSession(proxy.base, id);
    await page.evaluate(([s, v]) => document.querySelector(s).setAttribute('session', v), [sel(id), session]);
  }
  return page;
}

const events = (page, type) => page.evaluate((t) => window.mendEvents.filter((e) => !t || e.type === t), type);

/** Adds a <mend-connection> for `id` with a fresh session to the host page. */
async function addElement(page, id) {
  const session = await demoSession(proxy.base, id);
  await page.evaluate(([id, session]) => {
    const el = document.createElement('mend-connection');
    el.setAttribute('connection-id', String(id));
    el.setAttribute('session', session);
    document.getElementById('widgets').append(el);
  }, [id, session]);
}

/** Requests the page makes to the proxy's API, recorded from now on. */
function watchApi(page) {
  const seen = [];
  const onRequest = (r) => { if (r.url().startsWith(`${proxy.base}/api/`)) seen.push(r.url()); };
  page.on('request', onRequest);
  return { seen, stop: () => page.off('request', onRequest) };
}

/** Upstream reads of connection `id` the proxy made (its poller included). */
async function upstreamReads(id) {
  return (await sandboxRequests(proxy.base))
    .filter((r) => r.method === 'GET' && r.path.endsWith(`/connections/${id}`)).length;
}

test('a host on another origin shows three widgets and sees their events', async () => {
  const page = await hostPage();
  await page.waitForSelector(`${sel(101)}[data-state="ok"]`);
  await page.waitForSelector(`${sel(104)}[data-state="additionalInformationNeeded"]`);
  await page.waitForSelector(`${sel(102)}[data-state="SCARequired"]`);
  const first = await events(page, 'mend:state');
  assert.deepEqual(
    first.map((e) => e.detail).sort((a, b) => a.connectionId - b.connectionId),
    [
      { connectionId: 101, state: null, previous: null },
      { connectionId: 102, state: 'SCARequired', previous: null },
      { connectionId: 104, state: 'additionalInformationNeeded', previous: null },
    ],
  );
  for (const e of first) {
    assert.ok(e.bubbles && e.composed && !e.cancelable, `${e.type} bubbles, is composed, not cancelable`);
    assert.equal(e.from, String(e.detail.connectionId), 'dispatched by the element of that connection');
  }
  // A repair in the host page: the host hears the change and the resolution.
  const el = page.locator(sel(104));
  await el.locator('input').first().fill('123456');
  await el.locator('[data-action="submit"]').click();
  await page.waitForSelector(`${sel(104)}[data-state="ok"]`);
  const later = (await events(page)).slice(first.length);
  assert.deepEqual(later.map((e) => [e.type, e.detail]), [
    ['mend:state', { connectionId: 104, state: null, previous: 'additionalInformationNeeded' }],
    ['mend:resolved', { connectionId: 104 }],
  ]);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('mend:redirect: preventDefault() keeps the page, and detail.url is the webview URL', async () => {
  const page = await hostPage({ prevent: true, ids: [102] });
  await page.waitForSelector(`${sel(102)}[data-state="SCARequired"]`);
  const before = page.url();
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
  const webviewHits = [];
  page.on('request', (r) => { if (r.url().includes('/sandbox/webview/')) webviewHits.push(r.url()); });
  await page.locator(`${sel(102)} [data-action="reconnect"]`).click();
  const redirect = await eventually(async () => (await events(page, 'mend:redirect'))[0], { message: 'mend:redirect' });
  assert.equal(redirect.cancelable, true);
  assert.equal(redirect.detail.connectionId, 102);
  assert.equal(redirect.detail.kind, 'reconnect');
  const url = new URL(redirect.detail.url);
  assert.equal(`${url.origin}${url.pathname}`, `${proxy.base}/sandbox/webview/en/reconnect`);
  assert.equal(url.searchParams.get('connection_id'), '102');
  assert.equal(url.searchParams.get('redirect_uri'), `${host.origin}/host.html`);
  assert.ok(url.searchParams.get('code') && url.searchParams.get('state'));
  // The page stays, and the widget is usable again (not stuck "taking you to your bank").
  await page.waitForSelector(`${sel(102)}[data-state="SCARequired"][data-phase="showing"]`);
  assert.ok(await page.locator(`${sel(102)} [data-action="reconnect"]`).isEnabled());
  assert.equal(page.url(), before);
  assert.equal(navigations, 0);
  assert.deepEqual(webviewHits, [], 'the widget did not open the webview itself');
  // The host may now go there itself: the URL works, and back on the host page the
  // element checks the return and shows the outcome.
  await page.goto(redirect.detail.url);
  await page.locator('button.primary').click();
  await page.waitForURL((u) => u.pathname === '/host.html' && u.searchParams.has('state'));
  assert.equal(await page.evaluate(() => window.mendLoaded), true);
  const session = await demoSession(proxy.base, 102);
  await page.evaluate(([s, v]) => document.querySelector(s).setAttribute('session', v), [sel(102), session]);
  await page.waitForSelector(`${sel(102)}[data-state="ok"]`);
  await page.waitForFunction(() => !location.search.includes('state='));
  await page.close();
});

test('removed elements stop requesting; re-added ones work again', async () => {
  const page = await hostPage({ ids: [] });
  // 110 (rateLimiting) is watched: a long poll to the proxy, which asks Powens no
  // sooner than next_try (minutes away) and at most once a minute (fair use).
  await addElement(page, 110);
  await page.waitForSelector(`${sel(110)}[data-state="rateLimiting"]`);
  await eventually(async () => (await metric(proxy.base, 'mend_waiters')) === 1, { message: 'one waiter' });
  const reads = await upstreamReads(110);
  await page.waitForTimeout(5 * POLL_MS);
  assert.ok((await upstreamReads(110)) <= reads + 1, 'no polling of a connection Powens retries itself');

  const api = watchApi(page);
  const aborted = [];
  page.on('requestfailed', (r) => { if (r.url().includes('/connections/110')) aborted.push(r.failure()?.errorText); });
  await page.evaluate((s) => document.querySelector(s).remove(), sel(110));
  await eventually(async () => (await metric(proxy.base, 'mend_waiters')) === 0, { message: 'the long poll ended' });
  // (The browser reports the abort through the DevTools protocol, maybe after the proxy saw it.)
  await eventually(() => aborted.length >= 1, { timeout: 3000, message: 'the pending long poll to be aborted' });
  const settled = await upstreamReads(110);
  // A few poll intervals: no request from the page, no polling of Powens.
  await page.waitForTimeout(5 * POLL_MS);
  assert.deepEqual(api.seen, [], 'no request after removal');
  assert.ok((await upstreamReads(110)) <= settled + 1, 'the proxy stopped polling Powens');

  // A new element for the same connection works; so does the same node re-added.
  await page.evaluate(async ([proxyBase]) => {
    const r = await fetch(`${proxyBase}/api/v1/demo/session?connection=110`);
    const el = document.createElement('mend-connection');
    el.setAttribute('connection-id', '110');
    el.setAttribute('session', (await r.json()).session);
    window.kept = el;
    document.getElementById('widgets').append(el);
  }, [proxy.base]);
  await page.waitForSelector(`${sel(110)}[data-state="rateLimiting"]`);
  await eventually(async () => (await metric(proxy.base, 'mend_waiters')) === 1, { message: 'watching again' });
  await page.evaluate(() => window.kept.remove());
  await eventually(async () => (await metric(proxy.base, 'mend_waiters')) === 0, { message: 'stopped again' });
  await page.evaluate(() => document.getElementById('widgets').append(window.kept));
  await eventually(async () => (await metric(proxy.base, 'mend_waiters')) === 1, { message: 'the same node re-added watches' });
  await page.waitForSelector(`${sel(110)}[data-state="rateLimiting"]`);
  const shadow = await page.locator(sel(110)).evaluate((e) => e.shadowRoot.querySelectorAll('.mend-root').length);
  assert.equal(shadow, 1, 'one view in the shadow root after re-adding');
  api.stop();
  assert.deepEqual(page.errors, []);
  await page.close();
  await eventually(async () => (await metric(proxy.base, 'mend_waiters')) === 0, { message: 'closed page: no waiter' });
});

test('a framework re-rendering the element leaves exactly one live widget', async () => {
  const page = await hostPage({ ids: [] });
  const session = await demoSession(proxy.base, 110);
  // Replace the node by a new one with the same attributes, as a virtual DOM does on a
  // key change: at once, then while loading, then after the first answer.
  await page.evaluate((session) => {
    window.render = () => {
      const el = document.createElement('mend-connection');
      el.setAttribute('connection-id', '110');
      el.setAttribute('session', session);
      el.setAttribute('theme', 'light');
      const old = document.querySelector('mend-connection[connection-id="110"]');
      if (old) old.replaceWith(el); else document.getElementById('widgets').append(el);
      window.rendered = (window.rendered ?? []).concat(el);
      return true;
    };
    window.render();
    window.render();
  }, session);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(window.render()))));
  await page.evaluate(() => new Promise((r) => setTimeout(() => r(window.render()), 50)));
  await page.waitForSelector(`${sel(110)}[data-state="rateLimiting"]`);
  await page.evaluate(() => window.render());
  await page.waitForSelector(`${sel(110)}[data-state="rateLimiting"]`);
  await page.evaluate(() => window.render());
  await page.waitForSelector(`${sel(110)}[data-state="rateLimiting"]`);
  assert.equal(await page.locator(sel(110)).count(), 1);
  assert.equal(await page.evaluate(() => window.rendered.length), 6);
  // One live widget: one long poll at the proxy, for a few poll intervals.
  await eventually(async () => (await metric(proxy.base, 'mend_waiters')) === 1, { message: 'exactly one waiter' });
  const api = watchApi(page);
  const eventsBefore = (await events(page)).length;
  await page.waitForTimeout(5 * POLL_MS);
  assert.equal(await metric(proxy.base, 'mend_waiters'), 1, 'still one waiter');
  assert.deepEqual(api.seen, [], 'the live widget waits on its one long poll; the replaced ones are silent');
  api.stop();
  const late = (await events(page)).slice(eventsBefore);
  assert.deepEqual(late.filter((e) => !e.connected), [], 'no event from a replaced element');
  // The replaced elements' shadow roots hold no view any more.
  const views = await page.evaluate(() => window.rendered.map((e) => e.shadowRoot.querySelectorAll('.mend-root').length));
  assert.deepEqual(views, [0, 0, 0, 0, 0, 1]);
  // And the live one still works: refresh() asks the proxy again.
  const api2 = watchApi(page);
  await page.evaluate((s) => document.querySelector(s).refresh(), sel(110));
  await eventually(() => api2.seen.length > 0, { message: 'refresh() requested the status' });
  api2.stop();
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('an origin that is not allowed gets no data', async () => {
  // The proxy does not serve its module to that origin (no CORS header)...
  const r = await fetch(`${proxy.base}/widget/mend.js`, { headers: { origin: stranger.origin } });
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  const ok = await fetch(`${proxy.base}/widget/mend.js`, { headers: { origin: host.origin } });
  assert.equal(ok.headers.get('access-control-allow-origin'), host.origin);

  let page = await browser.newPage();
  const q = new URLSearchParams({ widget: `${proxy.base}/widget/mend.js` });
  await page.goto(`${stranger.origin}/host.html?${q}`);
  assert.notEqual(await page.evaluate(() => window.mendLoaded), true, 'the module is refused cross-origin');
  await page.close();
  // ...and with the widget's files hosted on that origin, the API answers nothing readable.
  page = await browser.newPage();
  await page.goto(`${stranger.origin}/host.html?widget=/widget/mend.js`);
  assert.equal(await page.evaluate(() => window.mendLoaded), true, 'self-hosted widget loaded');
  for (const id of [101, 104, 102]) {
    const session = await demoSession(proxy.base, id);
    await page.evaluate(([s, base, v]) => {
      const el = document.querySelector(s);
      el.setAttribute('api-base', base);
      el.setAttribute('session', v);
    }, [sel(id), proxy.base, session]);
  }
  for (const id of [101, 104, 102]) {
    await page.waitForSelector(`${sel(id)}[data-state="unavailable"]`);
  }
  const text = await page.locator('#widgets').evaluate((w) => [...w.querySelectorAll('mend-connection')]
    .map((e) => e.shadowRoot.textContent).join(' '));
  for (const leaked of ['Banque Exemple', 'Caisse Fictive', 'Crédit Démo']) {
    assert.ok(!text.includes(leaked), `nothing of the connection is shown (${leaked})`);
  }
  assert.deepEqual(await events(page, 'mend:state'), [], 'no state reached the host');
  await page.locator(`${sel(101)} [data-action="retry"]`).waitFor();
  await page.close();
});

// The host cancels mend:redirect and navigates itself; the webview's return carries
// no connection id. The element that emitted the redirect (it remembered the URL's
// state before dispatching the event) checks the return, not the first one.
test('a host that handles mend:redirect itself gets the outcome on the right widget of several', async () => {
  const page = await hostPage({ prevent: true });
  await page.waitForSelector(`${sel(102)}[data-state="SCARequired"]`);
  await page.locator(`${sel(102)} [data-action="reconnect"]`).click();
  const redirect = await eventually(async () => (await events(page, 'mend:redirect'))[0], { message: 'mend:redirect' });
  // The host navigates itself (README, "Embedding": "call preventDefault() to handle the
  // navigation yourself"); the webview sends back `?state=…` only, no connection id.
  await page.goto(redirect.detail.url);
  await page.locator('button.primary').click();
  await page.waitForURL((u) => u.pathname === '/host.html' && u.searchParams.has('state'));
  for (const id of [101, 104, 102]) {
    const session = await demoSession(proxy.base, id);
    await page.evaluate(([s, v]) => document.querySelector(s).setAttribute('session', v), [sel(id), session]);
  }
  await page.waitForSelector(`${sel(102)}[data-state="ok"]`);
  await page.waitForFunction(() => !location.search.includes('state='));
  assert.deepEqual(await events(page, 'mend:error'), [], 'no widget refused the return');
  assert.match(await page.locator(sel(102)).evaluate((e) => e.shadowRoot.textContent), /all set/i);
  await page.close();
});

test('when the glue or the wasm cannot be loaded, every element says so', async () => {
  for (const [what, file] of [['wasm', /_bg\.wasm$/], ['glue', /\/mend-element-[0-9a-f]+\.js$/]]) {
    const page = await browser.newPage();
    await page.route(file, (route) => route.abort());
    await page.goto(`${host.origin}/host.html?${new URLSearchParams({ widget: `${proxy.base}/widget/mend.js` })}`);
    assert.equal(await page.evaluate(() => window.mendLoaded), true, `${what}: mend.js still loads and defines the element`);
    for (const id of [101, 104, 102]) await page.waitForSelector(`${sel(id)}[data-state="unavailable"]`, { state: 'attached' });
    const errors = await events(page, 'mend:error');
    assert.deepEqual(
      errors.map((e) => [e.from, e.detail.code]).sort(),
      [['101', 'load_failed'], ['102', 'load_failed'], ['104', 'load_failed']],
      `${what}: one load_failed per element`,
    );
    await page.close();
  }
});
