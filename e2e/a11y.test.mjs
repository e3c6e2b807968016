// Accessibility: axe-core finds nothing on the demo page in any state, light and dark
// (the `theme` attribute, and `auto` following the system's dark scheme), including
// refused values, the unavailable and session-expired panels; and a repair can be
// done with the keyboard alone, focus landing somewhere sensible after each change;
// and <mend-connections> in every language.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startProxy, launchBrowser, resetSandbox, axeViolations, signSession, eventually } from './lib.mjs';

const SECRET = 'e2e-a11y-session-secret-0123456789abcdef-xyz';
let proxy;
let browser;

before(async () => {
  proxy = await startProxy({ MEND_SESSION_SECRET: SECRET });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

beforeEach(async () => {
  await resetSandbox(proxy.base);
});

const sel = (id) => `mend-connection[connection-id="${id}"]`;

const report = (violations) => violations
  .map((v) => `- ${v.id} (${v.impact}): ${v.help}\n    ${v.targets.join('\n    ')}`).join('\n');

// The widgets (every <mend-connection>, shadow DOM included); the demo page's own
// chrome around them is checked in a test of its own.
const WIDGETS = { include: [['mend-connection']] };

async function assertNoViolations(page, what, context = WIDGETS) {
  const violations = await axeViolations(page, {}, context);
  assert.equal(violations.length, 0, `axe found violations (${what}):\n${report(violations)}`);
}

/** The demo page with every element past `loading`. */
async function demoPage({ colorScheme = 'light' } = {}) {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 }, colorScheme });
  await page.goto(`${proxy.base}/widget/`);
  await page.waitForSelector(`${sel(116)}[data-state="additionalInformationNeeded"]`);
  await page.waitForFunction(() => {
    const els = [...document.querySelectorAll('mend-connection')];
    return els.length >= 16 && els.every((e) => e.dataset.state && e.dataset.state !== 'loading');
  });
  return page;
}

/** Puts the page's elements in the states that only a user or a failure brings. */
async function moreStates(page) {
  // Refused values: 104 (wrong format) and 116 (several fields) show their errors.
  for (const [id, value] of [[104, '12ab'], [116, 'x']]) {
    const el = page.locator(sel(id));
    await el.locator('input').first().fill(value);
    await el.locator('[data-action="submit"]').click();
    await el.locator('[aria-invalid="true"]').first().waitFor();
  }
  // A wrong code the bank refuses: its message shown beside the form.
  // (104 again, with a well-formed but wrong code.)
  await page.locator(sel(104)).locator('input').first().fill('000000');
  await page.locator(`${sel(104)} [data-action="submit"]`).click();
  await page.waitForFunction((s) => document.querySelector(s).shadowRoot.textContent.includes('Incorrect code'), sel(104));
  // Session expired (113), unavailable (112: nothing listens there) and not found
  // (114: an API that answers 404).
  const now = Math.floor(Date.now() / 1000);
  const expired = await signSession(SECRET, { iat: now - 300, exp: now - 120 });
  // The demo renews its own cards' sessions on mend:session-expired (as a host should),
  // so the expired panel is shown by an extra element the demo does not manage.
  await page.evaluate(([v]) => {
    const el = document.createElement('mend-connection');
    el.id = 'expired-113';
    el.setAttribute('connection-id', '113');
    el.setAttribute('session', v);
    document.body.append(el);
  }, [expired]);
  await page.waitForSelector('#expired-113[data-phase="session-expired"]');
  // Through locators, which wait for the element (the demo may be re-rendering it).
  await page.locator(sel(112)).evaluate((e) => e.setAttribute('api-base', 'http://127.0.0.1:9'));
  await page.waitForSelector(`${sel(112)}[data-phase="unavailable"]`);
  await page.locator(sel(114)).evaluate((e) => e.setAttribute('api-base', `${location.origin}/nowhere`));
  await page.waitForSelector(`${sel(114)}[data-phase="not-found"]`);
}

for (const theme of ['light', 'dark']) {
  test(`axe: no violation in the widgets in every demo state (theme=${theme})`, async () => {
    const page = await demoPage();
    await page.getByLabel('Theme').selectOption(theme);
    await page.waitForFunction((t) => [...document.querySelectorAll('mend-connection')]
      .every((e) => e.getAttribute('theme') === t), theme);
    await assertNoViolations(page, `theme=${theme}, as loaded`);
    await moreStates(page);
    await assertNoViolations(page, `theme=${theme}, errors, expired, unavailable`);
    if (theme === 'light') {
      // A positive control: axe does look inside the shadow roots.
      await page.locator(sel(101)).evaluate((e) => e.shadowRoot.append(document.createElement('button')));
      const seen = await axeViolations(page, {}, WIDGETS);
      assert.ok(seen.some((v) => v.id === 'button-name'), 'axe sees a nameless button in a shadow root');
    }
    await page.close();
  });
}

test('axe: no violation in the widgets with theme=auto on a dark system', async () => {
  const page = await demoPage({ colorScheme: 'dark' });
  assert.equal(await page.locator(sel(101)).getAttribute('theme'), 'auto');
  assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), true);
  // The widget really is dark: its panel's background is darker than its text.
  const lum = await page.locator(sel(104)).evaluate((e) => {
    const panel = e.shadowRoot.querySelector('.mend');
    const rgb = (c) => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    const l = (c) => rgb(c).reduce((a, b) => a + b, 0) / 3;
    let bg = getComputedStyle(panel).backgroundColor;
    for (let n = panel; n && /rgba\(0, 0, 0, 0\)|transparent/.test(bg); n = n.parentElement) bg = getComputedStyle(n).backgroundColor;
    return { bg: l(bg), fg: l(getComputedStyle(e.shadowRoot.querySelector('.mend__title')).color) };
  });
  assert.ok(lum.bg < lum.fg, `dark panel under prefers-color-scheme: dark (${JSON.stringify(lum)})`);
  await assertNoViolations(page, 'theme=auto, dark system');
  await moreStates(page);
  await assertNoViolations(page, 'theme=auto, dark system, errors, expired, unavailable');
  await page.close();
});

// The other six languages: each catalogue fetched on demand, the widget's own words
// (headings, buttons, live region, accessible names) in that language, and axe clean.
for (const lang of ['fr', 'de', 'es', 'it', 'nl', 'pt']) {
  test(`axe: no violation in the widgets in every demo state, lang=${lang}, all of it translated`, async () => {
    const page = await demoPage();
    const english = await page.locator(sel(101)).evaluate((e) => ({
      live: e.shadowRoot.querySelector('[aria-live]').textContent,
      button: e.shadowRoot.querySelector('[data-action]').textContent.trim(),
    }));
    const catalogues = [];
    page.on('request', (r) => { if (/\/mend-[a-z]{2}-[0-9a-f]{16}\.json$/.test(r.url())) catalogues.push(r.url()); });
    await page.getByLabel('Language').selectOption(lang);
    await page.waitForFunction((l) => [...document.querySelectorAll('mend-connection')].every((e) => {
      const section = e.shadowRoot?.querySelector('section.mend');
      return section && section.getAttribute('lang') === l && !section.hidden && e.dataset.state !== 'loading';
    }), lang);
    assert.deepEqual(catalogues.map((u) => u.match(/mend-([a-z]{2})-/)[1]), [lang], 'one catalogue, fetched once for the page');
    const shown = await page.locator(sel(101)).evaluate((e) => ({
      live: e.shadowRoot.querySelector('[aria-live]').textContent,
      button: e.shadowRoot.querySelector('[data-action]').textContent.trim(),
      time: e.shadowRoot.querySelector('time')?.textContent ?? '',
    }));
    assert.notEqual(shown.live, english.live, `the live region speaks ${lang}`);
    assert.notEqual(shown.button, english.button, `the buttons speak ${lang}`);
    await assertNoViolations(page, `lang=${lang}, as loaded`);
    await moreStates(page);
    await assertNoViolations(page, `lang=${lang}, errors, expired, unavailable`);
    await page.close();
  });
}

// <mend-connections> on the demo's banner page (/widget/list, reached as a user does,
// by its link): axe clean in every language and both themes, a region named by its
// heading, entries in that language, one live region speaking for the list.
const LIST = { include: [['mend-connections']] };
for (const lang of ['en', 'fr', 'de', 'es', 'it', 'nl', 'pt']) {
  test(`axe: no violation in <mend-connections>, lang=${lang}, light and dark`, async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    await page.goto(`${proxy.base}/widget/`);
    await page.getByLabel('Language').selectOption(lang);
    await page.getByRole('link', { name: 'The banner for the whole app' }).click();
    for (const theme of ['light', 'dark']) {
      await page.getByLabel('Theme').selectOption(theme);
      await page.waitForFunction(([l, t]) => {
        const list = document.querySelector('mend-connections');
        const section = list?.shadowRoot?.querySelector('section.mend-list');
        const entries = [...(list?.shadowRoot?.querySelectorAll('mend-connection') ?? [])];
        return list.dataset.state === 'shown' && section.getAttribute('lang') === l && !section.hidden
          && entries.length > 0 && entries.every((e) => e.getAttribute('theme') === t && e.dataset.state !== 'loading'
            && e.shadowRoot?.querySelector(`section.mend[lang="${l}"]:not([hidden])`));
      }, [lang, theme], { timeout: 15000 });
      await assertNoViolations(page, `<mend-connections>, lang=${lang}, theme=${theme}`, LIST);
    }
    const heading = await page.locator('mend-connections h2').textContent();
    assert.equal(await page.getByRole('region', { name: heading }).count(), 1, 'a region named by its heading');
    if (lang !== 'en') assert.notEqual(heading, 'Your bank connections', `the heading speaks ${lang}`);
    const speaking = await page.locator('mend-connections').evaluate((list) => [list.shadowRoot,
      ...[...list.shadowRoot.querySelectorAll('mend-connection')].map((e) => e.shadowRoot)]
      .flatMap((r) => [...r.querySelectorAll('[role=status]')])
      .filter((e) => e.getAttribute('aria-live') !== 'off' && e.textContent.trim() && !e.closest('[hidden]')).length);
    assert.equal(speaking, 1, 'one live region speaks for the whole list');
    await page.close();
  });
}

test("axe: no violation in the demo page's own chrome (light and dark system)", async () => {
  for (const colorScheme of ['light', 'dark']) {
    const page = await demoPage({ colorScheme });
    await assertNoViolations(page, `demo page, ${colorScheme} system`, { include: [['body']], exclude: [['mend-connection']] });
    await page.close();
  }
});

/** The element and the node focused inside its shadow root. */
const focused = (page) => page.evaluate(() => {
  const host = document.activeElement;
  const inner = host?.shadowRoot?.activeElement;
  return {
    host: host?.tagName.toLowerCase(),
    id: host?.getAttribute('connection-id'),
    tag: inner?.tagName.toLowerCase(),
    cls: inner?.className ?? '',
    action: inner?.dataset?.action ?? null,
    name: inner?.getAttribute('name') ?? null,
    text: inner?.textContent?.trim().slice(0, 80) ?? '',
  };
});

async function tabTo(page, predicate, what, max = 80) {
  for (let i = 0; i < max; i += 1) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (predicate(f)) return f;
  }
  throw new Error(`Tab never reached ${what}`);
}

// Buttons are aria-disabled (not disabled) while busy, so the focus is still in the
// widget when the new panel comes, and moves to its heading.
test('keyboard only: the OTP repair of 104, with focus on the new panel', async () => {
  const page = await demoPage();
  // Enter a wrong code first, with Enter in the field.
  const input = await tabTo(page, (f) => f.id === '104' && f.tag === 'input', "104's code field");
  assert.equal(input.name, 'otp');
  await page.keyboard.type('000000');
  await page.keyboard.press('Enter');
  await page.waitForFunction((s) => document.querySelector(s).shadowRoot.textContent.includes('Incorrect code'), sel(104));
  let f = await focused(page);
  assert.equal(f.id, '104', 'focus stays in the widget after a refused code');
  assert.ok(['input', 'h2', 'h3'].includes(f.tag), `focus on the field or the heading, not lost: ${JSON.stringify(f)}`);
  // Back to the field (it may be focused already), the right code, then the submit button with Space.
  if (f.tag !== 'input') f = await tabTo(page, (x) => x.id === '104' && x.tag === 'input', "104's code field", 5);
  await page.keyboard.press('Control+A');
  await page.keyboard.type('123456');
  f = await tabTo(page, (x) => x.id === '104' && x.action === 'submit', 'the submit button', 5);
  await page.keyboard.press('Space');
  await page.waitForSelector(`${sel(104)}[data-state="ok"]`);
  // After the change, focus is on the new panel's heading (or its first control).
  f = await eventually(async () => { const x = await focused(page); return x.tag ? x : null; }, { timeout: 3000, message: 'focus in a widget' })
    .catch(async () => focused(page));
  assert.equal(f.id, '104', `focus stays in the repaired widget: ${JSON.stringify(f)}`);
  assert.ok(/mend__title/.test(f.cls) || f.action === 'sync' || f.action === 'dismiss',
    `focus on the new panel's heading or first control: ${JSON.stringify(f)}`);
  // Screen readers hear the change too.
  const live = await page.locator(sel(104)).evaluate((e) => e.shadowRoot.querySelector('[aria-live]')?.textContent ?? '');
  assert.ok(live.trim().length > 0, 'the live region announces the new state');
  await page.close();
});
