// <mend-connections> against the real proxy (sandbox mode, the demo data set): one
// request for the user's connections, entries that ask for nothing more, a repair done
// from the list, one long poll per changing connection however the page combines the
// list and single elements (counted from the page's own requests), a session set as a
// property, and nothing left running once the elements are removed.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startProxy, launchBrowser, resetSandbox, serveStatic, signSession, metric, eventually,
} from './lib.mjs';

const SECRET = 'list-e2e-session-secret-of-32-bytes-or-more!';
// The states the list shows in full (and counts), and the ones it shows as a calm line.
const FULL = ['SCARequired', 'webauthRequired', 'additionalInformationNeeded', 'decoupled',
  'actionNeeded', 'passwordExpired', 'wrongpass'];

let tmp;
let proxy;
let site;
let browser;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mend-list-'));
  site = await serveStatic(tmp);
  proxy = await startProxy({ MEND_SESSION_SECRET: SECRET, MEND_ALLOWED_ORIGINS: site.origin });
  fs.writeFileSync(path.join(tmp, 'index.html'), `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>List host</title>
  <link rel="icon" href="data:,">
  <script type="module" src="${proxy.base}/widget/mend.js"></script>
</head>
<body><main id="app"></main></body>
</html>
`);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await site?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// The sandbox's clock stopped (as for the screenshots): nothing turns fine by itself
// between what the test reads of the list and what the page does.
beforeEach(async () => {
  const r = await fetch(`${proxy.base}/sandbox/_sandbox/clock`, {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ now_ms: Date.now() }),
  });
  assert.equal(r.status, 200);
  await resetSandbox(proxy.base);
});

let sessions = 0;
function freshSession() {
  sessions += 1;
  return signSession(SECRET, { exp: Math.floor(Date.now() / 1000) + 900 + sessions });
}

/** The user's connections as the proxy lists them (what the list should show). */
async function listed(session) {
  const r = await fetch(`${proxy.base}/api/v1/connections`, { headers: { authorization: `Bearer ${session}` } });
  assert.equal(r.status, 200);
  return (await r.json()).connections;
}

/** Opens the host page; records the page's requests to the proxy and what went wrong. */
async function open() {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e}`));
  const requests = [];
  page.on('request', (r) => {
    if (r.url().startsWith(`${proxy.base}/api/`)) {
      requests.push({ path: new URL(r.url()).pathname + new URL(r.url()).search, method: r.method() });
    }
  });
  await page.goto(`${site.origin}/`);
  await page.waitForFunction(() => customElements.get('mend-connections') && customElements.get('mend-connection'));
  return { page, problems, requests };
}

/** Puts `html` in the page's main element, and `session` on every mend element in it. */
async function put(page, html, session) {
  await page.evaluate(([h, s]) => {
    const app = document.getElementById('app');
    app.innerHTML = h;
    for (const el of app.querySelectorAll('mend-connections, mend-connection')) el.session = s;
    window.events = [];
    for (const t of ['mend:state', 'mend:resolved', 'mend:error', 'mend:session-expired']) {
      document.addEventListener(t, (e) => window.events.push({ type: t, detail: e.detail }));
    }
  }, [html, session]);
}

const entry = (id) => `mend-connections mend-connection[connection-id="${id}"]`;

test('one request lists who needs the user; the entries ask for nothing more', async () => {
  const session = await freshSession();
  const all = await listed(session);
  const full = all.filter((c) => FULL.includes(c.state)).map((c) => c.id);
  const calm = all.filter((c) => (c.state && !FULL.includes(c.state)) || (!c.state && c.renew)).map((c) => c.id);
  assert.ok(full.length > 3 && calm.length > 1, `the demo set has both (${full} / ${calm})`);
  const { page, problems, requests } = await open();
  try {
    await put(page, '<mend-connections></mend-connections>', session);
    await page.waitForSelector('mend-connections[data-state="shown"]', { timeout: 15000 });
    await eventually(() => page.locator('mend-connections mend-connection:not([data-state="loading"])').count()
      .then((n) => n === full.length + calm.length), { message: 'every entry started' });
    const list = page.locator('mend-connections');
    // data-count follows the entries: 105 (decoupled) is resumed at once and then waits
    // for the bank app as `validating`, no longer the user's to act on.
    const states = await page.locator('mend-connections mend-connection').evaluateAll((els) => els.map((e) => e.dataset.state));
    assert.equal(await list.getAttribute('data-count'), String(states.filter((s) => FULL.includes(s)).length));
    assert.ok(Number(await list.getAttribute('data-count')) >= full.length - 1);
    const ids = await page.locator('mend-connections mend-connection').evaluateAll(
      (els) => els.map((e) => [Number(e.getAttribute('connection-id')), e.hasAttribute('compact')]),
    );
    assert.deepEqual(ids.filter(([, c]) => !c).map(([id]) => id).sort(), [...full].sort(), 'in full: the ones needing the user');
    assert.deepEqual(ids.filter(([, c]) => c).map(([id]) => id).sort(), [...calm].sort(), 'one calm line each: the rest but the fine');
    for (const c of all.filter((x) => full.includes(x.id) || calm.includes(x.id))) {
      const want = c.id === 105 ? 'validating' : (c.state ?? 'ok');
      assert.equal(await page.locator(entry(c.id)).getAttribute('data-state'), want, `entry ${c.id}`);
    }
    assert.equal(await page.locator('mend-connections .mend-list__summary').isVisible(), true);
    assert.equal(await page.locator('mend-connections .mend-list > .mend__notice').isVisible(), false,
      'no "can\'t reach" notice once the list is read');
    const gets = requests.filter((r) => r.method === 'GET' && !r.path.includes('wait='));
    assert.deepEqual(gets.map((r) => r.path), ['/api/v1/connections'], 'one request, no status request per entry');
    // A list landmark named by its heading; one announcement for the list.
    assert.equal(await page.getByRole('region', { name: 'Your bank connections' }).count(), 1);
    assert.equal(await page.getByRole('heading', { name: 'Your bank connections' }).count(), 1);
    const polite = await page.evaluate(() => {
      const roots = [document.querySelector('mend-connections').shadowRoot,
        ...[...document.querySelector('mend-connections').shadowRoot.querySelectorAll('mend-connection')].map((e) => e.shadowRoot)];
      return roots.flatMap((r) => [...r.querySelectorAll('[role=status]')])
        .filter((e) => e.getAttribute('aria-live') !== 'off' && e.textContent.trim() && !e.closest('[hidden]'))
        .map((e) => e.textContent);
    });
    const count = await list.getAttribute('data-count');
    assert.deepEqual(polite, [`${count} bank connections need your attention`], 'one live region speaks');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a repair completes from the list, the count follows, the events bubble out', async () => {
  const { page, problems } = await open();
  try {
    const session = await freshSession();
    await put(page, '<mend-connections></mend-connections>', session);
    await page.waitForSelector(`${entry(104)}[data-state="additionalInformationNeeded"]`, { timeout: 15000 });
    const before = Number(await page.locator('mend-connections').getAttribute('data-count'));
    await page.locator(`${entry(104)} input`).first().fill('123456');
    await page.locator(`${entry(104)} [data-action="submit"]`).click();
    await page.waitForSelector(`${entry(104)}[data-state="ok"]`, { timeout: 15000 });
    await eventually(async () => Number(await page.locator('mend-connections').getAttribute('data-count')) === before - 1,
      { message: 'data-count one less' });
    assert.equal(await page.locator(entry(104)).count(), 1, 'the repaired entry stays in sight');
    const events = await page.evaluate(() => window.events);
    assert.deepEqual(events.filter((e) => e.type === 'mend:resolved').map((e) => e.detail), [{ connectionId: 104 }]);
    assert.ok(events.some((e) => e.type === 'mend:state' && e.detail.connectionId === 104 && e.detail.state === null));
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('one long poll per changing connection, however the page combines the elements', async () => {
  const session = await freshSession();
  const all = await listed(session);
  // What the widget watches on its own: the states that change without the user.
  const watched = all.filter((c) => ['validating', 'rateLimiting', 'websiteUnavailable', 'bug'].includes(c.state)).map((c) => c.id);
  assert.ok(watched.length >= 2, `watched demo connections: ${watched}`);
  const { page, problems, requests } = await open();
  try {
    // The list, and each watched connection twice more as a single element.
    const singles = watched.flatMap((id) => [id, id]).map((id) => `<mend-connection connection-id="${id}"></mend-connection>`).join('');
    await put(page, `<mend-connections></mend-connections>${singles}`, session);
    await page.waitForSelector('mend-connections[data-state="shown"]', { timeout: 15000 });
    await page.waitForTimeout(2500);
    const polls = requests.filter((r) => r.path.includes('wait='));
    const per = {};
    for (const r of polls) {
      const id = Number(r.path.match(/connections\/(\d+)\?/)[1]);
      per[id] = (per[id] ?? 0) + 1;
    }
    for (const id of watched) assert.equal(per[id], 1, `one long poll of ${id} for three elements (${JSON.stringify(per)})`);
    // Any other is a list entry alone (105, resumed, waits for the bank app): one each too.
    for (const [id, n] of Object.entries(per)) assert.equal(n, 1, `one long poll of ${id} (${JSON.stringify(per)})`);
    // At the proxy: one wait per connection watched (105's may have ended already).
    const waiters = await metric(proxy.base, 'mend_waiters');
    assert.ok(waiters >= watched.length && waiters <= Object.keys(per).length, `${waiters} waits at the proxy (${JSON.stringify(per)})`);

    // Removing the list leaves the single elements' watches as they are...
    await page.evaluate(() => document.querySelector('mend-connections').remove());
    await page.waitForTimeout(500);
    assert.equal(await metric(proxy.base, 'mend_waiters'), watched.length);
    // ...and removing everything stops everything.
    const from = requests.length;
    await page.evaluate(() => { document.getElementById('app').innerHTML = ''; });
    await eventually(async () => (await metric(proxy.base, 'mend_waiters')) === 0, { message: 'no wait left at the proxy' });
    await page.waitForTimeout(1500);
    assert.deepEqual(requests.slice(from), [], 'no request after the removal');
    assert.deepEqual(problems, []);
  } finally {
    await page.close();
  }
});

test('a session set as a property is used; a refused one is reported with no connection id', async () => {
  const { page, problems } = await open();
  try {
    await put(page, '<mend-connections></mend-connections>', 'not-a-session');
    await page.waitForSelector('mend-connections[data-state="session-expired"]', { timeout: 15000 });
    const expired = await page.evaluate(() => window.events.filter((e) => e.type === 'mend:session-expired'));
    assert.deepEqual(expired.map((e) => e.detail), [{ connectionId: null }]);
    const session = await freshSession();
    await page.evaluate((s) => { document.querySelector('mend-connections').session = s; }, session);
    await page.waitForSelector('mend-connections[data-state="shown"]', { timeout: 15000 });
    assert.equal(await page.locator('mend-connections').getAttribute('session'), session, 'the property reflects to the attribute');
    assert.equal(await page.evaluate(() => document.querySelector('mend-connections').session), session);
    // The 401 of the first try is the only error the browser logged.
    assert.ok(problems.every((p) => /status of 401/.test(p)), problems.join('\n'));
  } finally {
    await page.close();
  }
});
