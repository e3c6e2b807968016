// Every state of docs/widget.md ("States and panels"), repaired all the way in a real browser against the
// real mend-proxy in sandbox mode, asserting what the screen shows and what the
// sandbox says the proxy really sent to Powens.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy, launchBrowser, sandboxRequests, resetSandbox } from './lib.mjs';

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

/**
 * Waits (at most 5 s) until the sandbox's request log stops growing. Every demo page
 * shows 105, whose widget resumes its decoupled approval by itself: a resume the proxy
 * was still sending for an earlier test's page (closed, but the bank's work goes on)
 * would otherwise land after the reset and count as this test's.
 */
async function settled(base) {
  let last = -1;
  for (let i = 0; i < 25; i += 1) {
    const n = (await sandboxRequests(base)).length;
    if (n === last) return;
    last = n;
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeEach(async () => {
  await settled(proxy.base);
  await resetSandbox(proxy.base);
});

const sel = (id) => `mend-connection[connection-id="${id}"]`;

/** Opens the demo page and waits until element `id` shows `state`. */
async function demo(id, state) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${proxy.base}/widget/`);
  await page.waitForSelector(`${sel(id)}[data-state="${state}"]`, { timeout: 15000 });
  page.errors = errors;
  return page;
}

async function waitState(page, id, state, timeout = 15000) {
  await page.waitForSelector(`${sel(id)}[data-state="${state}"]`, { timeout });
}

/** Calls to Powens the proxy made for `connectionId` (control routes excluded). */
async function powensCalls(connectionId) {
  const log = await sandboxRequests(proxy.base);
  return log.filter((r) => r.path.includes(`/connections/${connectionId}`));
}

test('the demo page shows every sandbox connection in its state', async () => {
  const page = await demo(101, 'ok');
  const expected = {
    101: 'ok', 102: 'SCARequired', 103: 'webauthRequired', 104: 'additionalInformationNeeded',
    107: 'actionNeeded', 108: 'passwordExpired', 109: 'wrongpass',
    110: 'rateLimiting', 111: 'websiteUnavailable', 112: 'bug', 113: 'notSupported',
    114: 'someFutureState',
  };
  for (const [id, state] of Object.entries(expected)) {
    await waitState(page, id, state);
  }
  // 105 (decoupled) is resumed in the background as soon as it is shown, so it is
  // waiting for the bank app; 106 (validating) turns fine by itself.
  await page.waitForSelector(`${sel(105)}[data-state="decoupled"], ${sel(105)}[data-state="validating"]`);
  await waitState(page, 106, 'ok');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('additionalInformationNeeded: typing the OTP repairs the connection', async () => {
  const page = await demo(104, 'additionalInformationNeeded');
  const el = page.locator(sel(104));
  const input = el.locator('input').first();
  assert.equal(await input.getAttribute('autocomplete'), 'one-time-code');
  await input.fill('123456');
  await el.locator('[data-action="submit"]').click();
  await waitState(page, 104, 'ok');
  const posts = (await powensCalls(104)).filter((r) => r.method === 'POST');
  assert.equal(posts.length, 1, 'one submission reached Powens');
  assert.deepEqual(JSON.parse(posts[0].body), { otp: '123456' }, 'exactly the typed value was sent');
  await page.close();
});

test('additionalInformationNeeded: a wrong OTP is shown and can be corrected', async () => {
  const page = await demo(104, 'additionalInformationNeeded');
  const el = page.locator(sel(104));
  await el.locator('input').first().fill('000000');
  await el.locator('[data-action="submit"]').click();
  // Still asking, with the bank's message shown; the user can try again.
  await page.waitForFunction(
    (s) => document.querySelector(s)?.shadowRoot?.textContent.includes('Incorrect code'),
    sel(104),
  );
  await waitState(page, 104, 'additionalInformationNeeded');
  await el.locator('input').first().fill('123456');
  await el.locator('[data-action="submit"]').click();
  await waitState(page, 104, 'ok');
  const bodies = (await powensCalls(104)).filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body));
  assert.deepEqual(bodies, [{ otp: '000000' }, { otp: '123456' }]);
  await page.close();
});

test('an invalid OTP is refused in the browser and never reaches Powens', async () => {
  const page = await demo(104, 'additionalInformationNeeded');
  const el = page.locator(sel(104));
  await el.locator('input').first().fill('12ab');
  await el.locator('[data-action="submit"]').click();
  await el.locator('[aria-invalid="true"]').first().waitFor();
  const posts = (await powensCalls(104)).filter((r) => r.method === 'POST');
  assert.equal(posts.length, 0);
  await page.close();
});

/** Opens the demo page on the decoupled connection; the widget resumes it by itself. */
async function decoupledWaiting() {
  const page = await demo(105, 'validating');
  return page;
}

test('decoupled: resumed in the background, approved in the bank app, resolved', async () => {
  const page = await decoupledWaiting();
  const bank = await browser.newPage();
  await bank.goto(`${proxy.base}/sandbox/bank/app`);
  await bank.locator('button[data-connection="105"][value="approve"]').click();
  await bank.close();
  await waitState(page, 105, 'ok');
  const posts = (await powensCalls(105)).filter((r) => r.method === 'POST');
  assert.equal(posts.length, 1);
  assert.match(posts[0].query, /background=true/);
  assert.deepEqual(JSON.parse(posts[0].body), { resume: true });
  await page.close();
});

test('decoupled: a refusal in the bank app is shown and can be retried', async () => {
  const page = await decoupledWaiting();
  const el = page.locator(sel(105));
  const bank = await browser.newPage();
  await bank.goto(`${proxy.base}/sandbox/bank/app`);
  await bank.locator('button[data-connection="105"][value="refuse"]').click();
  await bank.close();
  await waitState(page, 105, 'decoupled');
  await el.locator('[data-action="resume"]').waitFor();
  await page.close();
});

test('validating: the widget waits and shows the outcome without a click', async () => {
  // The sandbox's clock is held while the panel is looked at: on a loaded machine
  // the demo's 3 s of validating can be over before the page has even loaded.
  const clock = (init) => fetch(`${proxy.base}/sandbox/_sandbox/clock`, init);
  assert.equal((await clock({
    method: 'PUT', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ now_ms: Date.now() }),
  })).status, 200);
  let page;
  try {
    await resetSandbox(proxy.base);
    page = await demo(106, 'validating');
    assert.equal(await page.locator(`${sel(106)} [data-action]`).count(), 0, 'nothing to click');
  } finally {
    assert.equal((await clock({ method: 'DELETE' })).status, 200);
  }
  await waitState(page, 106, 'ok', 30000);
  await page.close();
});

for (const [id, state, password] of [[102, 'SCARequired'], [108, 'passwordExpired', 'n3w-Secret!'], [109, 'wrongpass', '1234']]) {
  test(`${state}: the Reconnect webview repairs it and the return is checked`, async () => {
    const page = await demo(id, state);
    const webview = page.waitForRequest(/\/sandbox\/webview\/[a-z]{2}\/reconnect\?/);
    await page.locator(`${sel(id)} [data-action="reconnect"]`).click();
    const url = new URL((await webview).url());
    for (const p of ['domain', 'client_id', 'code', 'connection_id', 'redirect_uri', 'state']) {
      assert.ok(url.searchParams.get(p), `webview URL carries ${p}`);
    }
    assert.equal(url.searchParams.get('connection_id'), String(id));
    // Fill whatever the webview asks (credentials for wrongpass/passwordExpired).
    await page.waitForSelector('h1');
    if (password) {
      await page.locator('input[name="login"]').fill('demo');
      await page.locator('input[type="password"]').first().fill(password);
    }
    await page.locator('button.primary').click();
    await page.waitForURL((u) => u.pathname.startsWith('/widget/'));
    await waitState(page, id, 'ok');
    await page.waitForFunction(() => !location.search.includes('state='));
    await page.close();
  });
}

test('webauthRequired: the bank page repairs it', async () => {
  const page = await demo(103, 'webauthRequired');
  await page.locator(`${sel(103)} [data-action="webauth"]`).click();
  await page.waitForURL(/\/sandbox\/bank\/authorize/);
  await page.getByRole('button', { name: /authori[sz]e/i }).click();
  await page.waitForURL((u) => u.pathname.startsWith('/widget/'));
  await waitState(page, 103, 'ok');
  await page.waitForFunction(() => !location.search.includes('state='));
  const log = await sandboxRequests(proxy.base);
  assert.ok(log.some((r) => r.path.endsWith('/webauth-url') && r.query.includes('id_connection=103')));
  await page.close();
});

test('webauthRequired: denying at the bank is shown, and the user can try again', async () => {
  const page = await demo(103, 'webauthRequired');
  await page.locator(`${sel(103)} [data-action="webauth"]`).click();
  await page.waitForURL(/\/sandbox\/bank\/authorize/);
  await page.getByRole('button', { name: /deny/i }).click();
  await page.waitForURL((u) => u.pathname.startsWith('/widget/'));
  await waitState(page, 103, 'webauthRequired');
  await page.locator(`${sel(103)} [data-action="webauth"]`).waitFor();
  await page.close();
});

test('ok: "refresh now" synchronises with the user present', async () => {
  const page = await demo(101, 'ok');
  await page.locator(`${sel(101)} [data-action="sync"]`).click();
  await page.waitForFunction(async () => true);
  for (let i = 0; i < 50; i += 1) {
    const puts = (await powensCalls(101)).filter((r) => r.method === 'PUT');
    if (puts.length) {
      assert.equal(puts.length, 1);
      break;
    }
    assert.ok(i < 49, 'a PUT sync reached Powens');
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitState(page, 101, 'ok');
  await page.close();
});

for (const [id, state] of [[110, 'rateLimiting'], [111, 'websiteUnavailable'], [112, 'bug']]) {
  test(`${state}: a calm notice, nothing required; the widget sees Powens' retry succeed`, async () => {
    const page = await demo(id, state);
    const actions = await page.locator(`${sel(id)} [data-action]`).evaluateAll(
      (els) => els.map((e) => e.dataset.action),
    );
    for (const a of actions) assert.ok(['retry', 'dismiss', 'sync'].includes(a), `unexpected action ${a}`);
    // Powens retries by itself at next_try; fast-forward that in the sandbox.
    const r = await fetch(`${proxy.base}/sandbox/_sandbox/connections/${id}/retry-now`, { method: 'POST' });
    assert.equal(r.status, 204);
    await waitState(page, id, 'ok');
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

for (const [id, state] of [[113, 'notSupported'], [114, 'someFutureState']]) {
  test(`${state}: a neutral notice, nothing to do, no crash`, async () => {
    const page = await demo(id, state);
    const actions = await page.locator(`${sel(id)} [data-action]`).evaluateAll(
      (els) => els.map((e) => e.dataset.action),
    );
    for (const a of actions) assert.ok(['retry', 'dismiss', 'sync'].includes(a), `unexpected action ${a}`);
    const text = await page.locator(sel(id)).evaluate((e) => e.shadowRoot.textContent);
    assert.ok(text.trim().length > 0, 'something is said');
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

test('actionNeeded: the bank message is shown; after accepting at the bank, "I\'ve done it" repairs it', async () => {
  const page = await demo(107, 'actionNeeded');
  const el = page.locator(sel(107));
  assert.match(await el.evaluate((e) => e.shadowRoot.textContent), /Accept the new terms/);
  const bank = await browser.newPage();
  await bank.goto(`${proxy.base}/sandbox/bank/app`);
  await bank.locator('button[data-connection="107"][value="accept_terms"]').click();
  await bank.close();
  await el.locator('[data-action="sync"]').click();
  await waitState(page, 107, 'ok');
  const puts = (await powensCalls(107)).filter((r) => r.method === 'PUT');
  assert.equal(puts.length, 1, 'one sync with the user present');
  await page.close();
});

test('multi-source: the sources that differ are shown, and the webview repairs the connection', async () => {
  const page = await demo(115, 'SCARequired');
  const text = await page.locator(sel(115)).evaluate((e) => e.shadowRoot.textContent);
  // The connection's state leads; sources are listed where they differ from it.
  assert.match(text, /directaccess/, 'the source that differs is named');
  assert.doesNotMatch(text, /openapi/, 'a source in the same state as the connection is not repeated');
  await page.locator(`${sel(115)} [data-action="reconnect"]`).click();
  await page.waitForSelector('h1');
  await page.locator('button.primary').click();
  await page.waitForURL((u) => u.pathname.startsWith('/widget/'));
  await waitState(page, 115, 'ok');
  await page.close();
});

test('a form with every field type is built, validated and sent exactly', async () => {
  const page = await demo(116, 'additionalInformationNeeded');
  const el = page.locator(sel(116));
  assert.equal(await el.locator('input[name="pin"]').getAttribute('type'), 'password');
  assert.equal(await el.locator('input[name="birth_date"]').getAttribute('type'), 'date');
  assert.equal(await el.locator('select[name="website"]').count(), 1);
  assert.equal(await el.locator('input[name="device_token"]').getAttribute('type'), 'text', 'unknown types are text');
  await el.locator('input[name="customer_number"]').fill('12345678');
  await el.locator('input[name="pin"]').fill('4321');
  await el.locator('input[name="birth_date"]').fill('1990-04-01');
  await el.locator('select[name="website"]').selectOption('pro');
  await el.locator('input[name="amount"]').fill('42');
  await el.locator('[data-action="submit"]').click();
  await waitState(page, 116, 'ok');
  const posts = (await powensCalls(116)).filter((r) => r.method === 'POST');
  assert.equal(posts.length, 1);
  const sent = JSON.parse(posts[0].body);
  assert.equal(sent.customer_number, '12345678');
  assert.equal(sent.pin, '4321');
  assert.equal(sent.birth_date, '1990-04-01');
  assert.equal(sent.website, 'pro');
  assert.equal(sent.amount, '42');
  await page.close();
});
