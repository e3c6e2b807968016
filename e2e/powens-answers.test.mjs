// The answers of the real Powens a user meets (docs/sandbox.md, connections 117–125),
// in a real browser against the real mend-proxy in sandbox mode: what the widget
// shows (data-state, data-phase, data-panel, data-tone, data-action, the bank's words
// as text), that its buttons work again after a refusal, and, from the sandbox's
// request log, that nothing was sent twice. And a connection deleted by Powens'
// signed webhook while the widget watches it.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startProxy, launchBrowser, resetSandbox, eventually, axeViolations } from './lib.mjs';

let proxy;
let browser;

before(async () => {
  proxy = await startProxy();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

beforeEach(async () => {
  await resetSandbox(proxy.base);
});

/** Each test is bounded: a hang fails it instead of stalling the suite. */
const TIMEOUT = { timeout: 90000 };
const sel = (id) => `mend-connection[connection-id="${id}"]`;
const sandbox = (base, path, init) => fetch(`${base}/sandbox/_sandbox${path}`, init);
const putJson = (body) => ({
  method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

/** The sandbox's log position now: later requests are the test's. */
async function mark(base = proxy.base) {
  const log = await (await sandbox(base, '/requests')).json();
  return log.reduce((n, r) => Math.max(n, r.seq), 0);
}

/** What the proxy sent to Powens about connection `id` since `after`. */
async function calls(id, after, base = proxy.base) {
  const log = await (await sandbox(base, `/requests?after=${after}`)).json();
  return log.filter((r) => new RegExp(`/connections/${id}(/|$)`).test(r.path));
}

/** Sets connection `id`'s scenario knobs (docs/sandbox.md, "Scenarios"). */
async function scenario(id, knobs) {
  const r = await sandbox(proxy.base, `/connections/${id}/scenario`, putJson(knobs));
  assert.equal(r.status, 200, `scenario of ${id}`);
}

/**
 * Opens connection `id` alone on the demo page (`/widget/c/ID`) and waits for `state`. The page
 * records the widget's events (`page.events()`) and every `data-phase` it took
 * (`page.phases()`).
 */
async function open(id, state, base = proxy.base) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/widget/c/${id}`);
  await page.waitForSelector(`${sel(id)}[data-state="${state}"]`, { timeout: 15000 });
  await page.evaluate((s) => {
    const el = document.querySelector(s);
    window.__events = [];
    window.__phases = [el.dataset.phase];
    for (const n of ['mend:error', 'mend:state', 'mend:resolved']) {
      el.addEventListener(n, (e) => window.__events.push({ name: n, ...e.detail }));
    }
    new MutationObserver(() => window.__phases.push(el.dataset.phase))
      .observe(el, { attributes: true, attributeFilter: ['data-phase'] });
  }, sel(id));
  page.errors = errors;
  page.events = () => page.evaluate(() => window.__events);
  page.errorCodes = async () => (await page.events()).filter((e) => e.name === 'mend:error').map((e) => e.code);
  page.phases = () => page.evaluate(() => window.__phases);
  page.el = page.locator(sel(id));
  return page;
}

async function waitState(page, id, state, timeout = 15000) {
  await page.waitForSelector(`${sel(id)}[data-state="${state}"]`, { timeout });
}

async function waitPhase(page, id, phase, timeout = 15000) {
  await page.waitForSelector(`${sel(id)}[data-phase="${phase}"]`, { timeout });
}

/** The notice above the panel: its tone, role and the bank's words (text), if any. */
async function notice(page) {
  const n = page.el.locator('.mend__notice');
  await n.waitFor();
  const bank = page.el.locator('[part="bank-message"] q');
  return {
    tone: await n.getAttribute('data-tone'),
    role: await n.getAttribute('role'),
    bank: (await bank.count()) ? await bank.textContent() : null,
  };
}

/** Whether the button of `action` can be pressed (no action in flight). */
async function usable(page, action) {
  const b = page.el.locator(`[data-action="${action}"]`);
  await b.waitFor();
  return (await b.getAttribute('aria-disabled')) === null && (await b.getAttribute('aria-busy')) === null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const writes = (log) => log.filter((r) => r.method === 'POST' || r.method === 'PUT');

test('117: a sync Powens refuses (409) is said, the button works again, nothing is retried', TIMEOUT, async () => {
  const page = await open(117, 'ok');
  const from = await mark();
  await page.el.locator('[data-action="sync"]').click();
  assert.deepEqual(await notice(page), { tone: 'alert', role: 'alert', bank: null });
  assert.deepEqual(await page.errorCodes(), ['sync_refused']);
  await waitPhase(page, 117, 'showing');
  assert.equal(await page.el.getAttribute('data-state'), 'ok', 'nothing changed');
  assert.ok(await usable(page, 'sync'), 'the button is usable again');
  await sleep(2500);
  const syncs = writes(await calls(117, from));
  assert.equal(syncs.length, 1, `one sync, no retry storm: ${JSON.stringify(syncs)}`);
  assert.equal(syncs[0].status, 409);
  assert.ok((await calls(117, from)).length <= 3, 'no storm of reads either');
  // Pressed again, it asks again: once.
  await page.el.locator('[data-action="sync"]').click();
  await eventually(async () => writes(await calls(117, from)).length === 2, { message: 'a second sync' });
  await waitPhase(page, 117, 'showing');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('118: a code that turns into wrongpass shows the way to the credentials, with the bank\'s words', TIMEOUT, async () => {
  const page = await open(118, 'additionalInformationNeeded');
  const from = await mark();
  await page.el.locator('input').first().fill('123456');
  await page.el.locator('[data-action="submit"]').click();
  await waitState(page, 118, 'wrongpass');
  assert.deepEqual(await notice(page), {
    tone: 'alert', role: 'alert', bank: 'Vos identifiants ne sont plus valides',
  });
  assert.deepEqual(await page.errorCodes(), ['credentials_rejected']);
  // Not the OTP form again: the way to enter the credentials again (the Reconnect
  // webview, since Powens lists no fields for them here), and it repairs it.
  assert.equal(await page.el.locator('input[name="otp"]').count(), 0);
  await page.el.locator('[data-panel="redirect"]').waitFor();
  assert.ok(await usable(page, 'reconnect'));
  await sleep(1000);
  assert.equal(writes(await calls(118, from)).length, 1, 'the code was sent once, nothing retried');
  await page.el.locator('[data-action="reconnect"]').click();
  await page.waitForSelector('h1');
  await page.locator('input[name="login"]').fill('demo');
  await page.locator('input[type="password"]').first().fill('1234');
  await page.locator('button.primary').click();
  await page.waitForURL((u) => u.pathname.startsWith('/widget/'));
  await waitState(page, 118, 'ok');
  await page.close();
});

test('119: a sync the bank\'s website refuses shows websiteUnavailable and the bank\'s words', TIMEOUT, async () => {
  const page = await open(119, 'ok');
  const from = await mark();
  await page.el.locator('[data-action="sync"]').click();
  await waitState(page, 119, 'websiteUnavailable');
  const n = await notice(page);
  assert.equal(n.bank, 'Le site de votre banque est momentanément indisponible');
  assert.deepEqual(await page.errorCodes(), ['bank_refused']);
  await page.el.locator('[data-panel="notice"]').waitFor();
  assert.equal(await page.el.locator('time[datetime]').count() >= 1, true, 'the next try is dated');
  await sleep(2000);
  assert.equal(writes(await calls(119, from)).length, 1, 'the sync is not retried');
  await page.close();
});

test('120: the bank\'s own words are shown as text, never as HTML, and the state stays', TIMEOUT, async () => {
  const page = await open(120, 'actionNeeded');
  await page.el.locator('[data-action="sync"]').click();
  assert.equal((await notice(page)).bank, 'Merci de valider les nouvelles conditions dans votre espace client');
  await waitPhase(page, 120, 'showing');
  assert.equal(await page.el.getAttribute('data-state'), 'actionNeeded');
  assert.ok(await usable(page, 'sync'));
  // Words that look like markup stay words.
  const words = '<img src="x" onerror="window.__pwned=1"><b>Conditions</b>';
  await scenario(120, { refuse: { on: ['sync'], code: 'bankMessage', message: words } });
  const from = await mark();
  await page.el.locator('[data-action="sync"]').click();
  await eventually(async () => (await notice(page)).bank === words, { message: 'the new words' });
  assert.equal(await page.el.locator('.mend__notice img, .mend__notice b').count(), 0, 'no element made of them');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(writes(await calls(120, from)).length, 1);
  await page.close();
});

test('121: a slow bank is said calmly, the code is sent once, and the repair shows', TIMEOUT, async () => {
  await scenario(121, { slow_ms: 7000 });
  const page = await open(121, 'additionalInformationNeeded');
  const from = await mark();
  await page.el.locator('input').first().fill('123456');
  await page.el.locator('[data-action="submit"]').click();
  await page.el.locator('[data-slow]').waitFor({ timeout: 6500 });
  assert.equal(await page.el.getAttribute('data-phase'), 'busy');
  assert.equal(await page.el.locator('[data-action="submit"]').getAttribute('aria-busy'), 'true');
  assert.equal(await page.el.locator('.mend__live').textContent(), await page.el.locator('[data-slow]').textContent(),
    'announced in the live region');
  assert.deepEqual(await axeViolations(page, {}, { include: [['mend-connection']] }), [], 'accessible while slow');
  await page.el.locator('[data-action="submit"]').click({ force: true });
  await waitState(page, 121, 'ok', 20000);
  assert.equal(await page.el.locator('[data-slow]').count(), 0);
  assert.equal((await notice(page)).tone, 'ok');
  const posts = writes(await calls(121, from));
  assert.equal(posts.length, 1, 'sent once, never again');
  assert.equal(posts[0].status, 200);
  assert.ok(!(await page.phases()).includes('unavailable'));
  await page.close();
});

test('121: when the wait ends before the bank answers, the widget reads again instead of an outage', TIMEOUT, async () => {
  await scenario(121, { slow_ms: 3000 });
  const page = await open(121, 'additionalInformationNeeded');
  const from = await mark();
  // A gateway in front of the proxy that gives up first (bare 504), while the bank
  // goes on and takes the code.
  await page.route('**/api/v1/connections/121/fields', async (route) => {
    await route.fetch();
    await route.fulfill({ status: 504, contentType: 'text/plain', body: 'Gateway Timeout' });
  });
  await page.el.locator('input').first().fill('123456');
  await page.el.locator('[data-action="submit"]').click();
  await waitState(page, 121, 'ok', 20000);
  assert.equal((await notice(page)).tone, 'ok', 'the repair is announced');
  assert.ok(!(await page.phases()).includes('unavailable'), `no outage: ${await page.phases()}`);
  assert.deepEqual(await page.errorCodes(), ['upstream_timeout']);
  assert.equal(writes(await calls(121, from)).length, 1, 'the code is not sent again');
  await page.close();
});

test('121: a submission lost on the network is followed by a read, and can be sent again', TIMEOUT, async () => {
  await scenario(121, { slow_ms: 0 });
  const page = await open(121, 'additionalInformationNeeded');
  const from = await mark();
  await page.route('**/api/v1/connections/121/fields', (route) => route.abort('failed'));
  await page.el.locator('input').first().fill('123456');
  await page.el.locator('[data-action="submit"]').click();
  assert.deepEqual(await notice(page), { tone: 'alert', role: 'alert', bank: null });
  await waitPhase(page, 121, 'showing');
  assert.equal(await page.el.getAttribute('data-state'), 'additionalInformationNeeded');
  assert.ok(!(await page.phases()).includes('unavailable'));
  assert.deepEqual(await page.errorCodes(), ['network']);
  assert.equal(writes(await calls(121, from)).length, 0);
  await page.unroute('**/api/v1/connections/121/fields');
  await page.el.locator('input').first().fill('123456');
  assert.ok(await usable(page, 'submit'));
  await page.el.locator('[data-action="submit"]').click();
  await waitState(page, 121, 'ok');
  assert.equal(writes(await calls(121, from)).length, 1);
  await page.close();
});

test('122: nulls in the connection and a legacy error body are read as Powens meant them', TIMEOUT, async () => {
  const page = await open(122, 'additionalInformationNeeded');
  const from = await mark();
  // The field's null label and required still make a usable field.
  const input = page.el.locator('input').first();
  assert.equal(await input.getAttribute('name'), 'otp');
  assert.ok((await page.el.locator('label').first().textContent()).trim().length > 0, 'the field is labelled');
  await input.fill('123456');
  await page.el.locator('[data-action="submit"]').click();
  await waitState(page, 122, 'wrongpass');
  assert.equal((await notice(page)).bank, 'Wrong credentials');
  assert.deepEqual(await page.errorCodes(), ['credentials_rejected']);
  assert.equal(writes(await calls(122, from)).length, 1);
  assert.ok(!(await page.phases()).includes('unavailable'));
  await page.close();
});

test('123: after the webview, a read that lags behind settles to fine without a click', TIMEOUT, async () => {
  const page = await open(123, 'SCARequired');
  await page.el.locator('[data-action="reconnect"]').click();
  await page.waitForSelector('h1');
  await page.locator('button.primary').click();
  await page.waitForURL((u) => u.pathname.startsWith('/widget/'));
  // Back on the demo page: reads still say SCARequired for 4 s, then validating.
  await waitState(page, 123, 'ok', 30000);
  await page.close();
});

test('124: a fine connection whose bank access ends soon offers to renew it', TIMEOUT, async () => {
  const page = await open(124, 'ok');
  const panel = page.el.locator('[data-panel="notice"]');
  assert.equal(await panel.getAttribute('data-tone'), 'calm');
  const when = await panel.locator('time[datetime]').evaluateAll((ts) => ts.map((t) => t.getAttribute('datetime')));
  const days = when.map((d) => (Date.parse(d) - Date.now()) / 86400000);
  assert.ok(days.some((d) => d > 9 && d < 11), `renew before ~10 days from now: ${when}`);
  const first = page.el.locator('[data-action]').first();
  assert.equal(await first.getAttribute('data-action'), 'reconnect', 'renewing comes first');
  const webview = page.waitForRequest(/\/sandbox\/webview\/[a-z]{2}\/reconnect\?/);
  await first.click();
  assert.equal(new URL((await webview).url()).searchParams.get('connection_id'), '124');
  // Closed only once the webview is in: Chromium can acknowledge a close that races a
  // navigation's commit without closing, and page.close() then waits forever (a Chromium
  // bug Playwright tracks; this test timed out that way about one run in five).
  await page.waitForURL(/\/sandbox\/webview\//);
  await page.close();
});

test('125: a token Powens revoked (403) is renewed once and the connection shows', TIMEOUT, async () => {
  const from = await mark();
  const page = await open(125, 'ok');
  assert.equal(await page.el.getAttribute('data-phase'), 'showing');
  const reads = (await calls(125, from)).filter((r) => r.method === 'GET');
  assert.deepEqual(reads.map((r) => r.status).slice(0, 2), [403, 200], 'refused, then read with a new token');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a connection Powens deletes (signed webhook) while watched says "not found"', TIMEOUT, async () => {
  const secret = 'e2e-webhook-secret-0123456789';
  const hooked = await startProxy({ POWENS_WEBHOOK_SECRET: secret });
  try {
    const page = await open(110, 'rateLimiting', hooked.base);
    // The widget watches rateLimiting with a long poll; give it time to start one.
    await sleep(1000);
    const path = '/webhooks/powens/connection-deleted';
    const body = JSON.stringify({ id: 110, id_user: 1 });
    const date = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const signature = createHmac('sha256', secret).update(`POST.${path}.${date}.${body}`).digest('base64');
    const forged = await fetch(`${hooked.base}${path}`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'BI-Signature-Date': date, 'BI-Signature': 'AAAA' },
    });
    assert.equal(forged.status, 401, 'a bad signature changes nothing');
    await sleep(500);
    assert.equal(await page.el.getAttribute('data-state'), 'rateLimiting');
    const r = await fetch(`${hooked.base}${path}`, {
      method: 'POST', body, headers: { 'content-type': 'application/json', 'BI-Signature-Date': date, 'BI-Signature': signature },
    });
    assert.equal(r.status, 204);
    await waitPhase(page, 110, 'not-found', 5000);
    assert.equal(await page.el.getAttribute('data-state'), 'unavailable');
    assert.deepEqual(await page.errorCodes(), ['not_found']);
    assert.equal(await page.el.locator('[data-panel="notice"]').count(), 1);
    await page.close();
  } finally {
    await hooked.stop();
  }
});
