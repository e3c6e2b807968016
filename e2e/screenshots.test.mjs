// Screenshots of every demo state (light theme), one PNG per element,
// <connection-id>-<state>.png, and gallery.png, a grid of them all, per language; and
// list.png, the demo's <mend-connections> banner of every connection.
// Fails when one cannot be taken.
//
// Where: MEND_SCREENSHOTS_DIR/<lang>/ (every language, English included, in its own).
// A test run (`cargo xtask test`) points it at target/screenshots/; only `cargo xtask
// screenshots [LANG…]` points it at docs/screenshots/, the tracked copies. Without it,
// e2e/out/screenshots/ (git-ignored). Languages: MEND_SCREENSHOT_LANGS, comma-separated
// (default en).
//
// Deterministic: the sandbox's clock is stopped at FIXED_MS (so every date it hands
// out is the same on each run and nothing settles by itself) and the browser's clock
// shows the same instant in a fixed time zone and locale, so an unchanged widget gives
// the same pictures byte for byte.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProxy, launchBrowser, resetSandbox } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = process.env.MEND_SCREENSHOTS_DIR ?? path.join(here, 'out', 'screenshots');
const LANGS = (process.env.MEND_SCREENSHOT_LANGS ?? 'en').split(',').map((l) => l.trim()).filter(Boolean);
/** 2026-01-15T09:30:00Z: the instant both clocks show. */
const FIXED_MS = 1_768_469_400_000;
const TIME_ZONE = 'Europe/Paris';
/**
 * Added to each element's shadow root before the pictures are taken (a constructed
 * sheet: the page's CSP refuses the <style> Playwright's `style` option would add): an
 * indeterminate <progress> moves by Chromium's own painting, not by a CSS animation that
 * `animations: 'disabled'` would stop, so it is drawn still, as one frame of its sweep.
 */
const STILL = `progress:indeterminate { appearance: none; border: 0; border-radius: 0.25rem;
  background: linear-gradient(90deg, transparent 15%, var(--mend-accent, #1f5fbf) 15% 45%, transparent 45%) #e4e6eb; }
progress:indeterminate::-webkit-progress-bar { background: transparent; }`;

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

/** Stops the sandbox's clock at FIXED_MS and dates the demo data set from it. */
async function stopSandboxClock() {
  const r = await fetch(`${proxy.base}/sandbox/_sandbox/clock`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ now_ms: FIXED_MS }),
  });
  assert.equal(r.status, 200, 'the sandbox clock stops');
  assert.deepEqual(await r.json(), { now_ms: FIXED_MS, stopped: true });
  await resetSandbox(proxy.base);
}

const sel = (id) => `mend-connection[connection-id="${id}"]`;

/** The demo page in `lang`, light theme, at the fixed instant the pictures show. */
async function openDemo(lang) {
  const context = await browser.newContext({
    viewport: { width: 1000, height: 800 },
    colorScheme: 'light',
    locale: lang === 'en' ? 'en-GB' : lang,
    timezoneId: TIME_ZONE,
  });
  const page = await context.newPage();
  await page.clock.setFixedTime(FIXED_MS);
  await page.goto(`${proxy.base}/widget/`);
  await page.getByLabel('Language').selectOption(lang);
  await page.getByLabel('Theme').selectOption('light');
  return { context, page };
}

async function assertPng(file) {
  const s = await stat(file).catch(() => null);
  assert.ok(s, `${file} was written`);
  assert.ok(s.size > 1024, `${file} is more than 1 KB (${s.size} bytes)`);
}

for (const lang of LANGS) {
  test(`a screenshot of every demo state, and a gallery of them (${lang})`, async () => {
    const out = path.join(OUT, lang);
    await mkdir(out, { recursive: true });
    await stopSandboxClock();
    const demo = await (await fetch(`${proxy.base}/api/v1/demo/connections`)).json();
    assert.ok(demo.length >= 16, 'the demo data set');
    const { context, page } = await openDemo(lang);
    // What each element shows when its state is on screen (105 is resumed at once and
    // waits for the bank app, its host saying `validating`). With the sandbox clock
    // stopped, nothing turns fine by itself while the pictures are taken.
    const shown = (c) => (c.id === 105 ? 'validating' : (c.state ?? 'ok'));
    for (const c of demo) {
      await page.waitForSelector(`${sel(c.id)}[data-state="${shown(c)}"][theme="light"]`, { timeout: 15000 });
      // In that language: its catalogue is in (the widget stays hidden until then).
      await page.waitForFunction(([s, l]) => document.querySelector(s).shadowRoot.querySelector(`section.mend[lang="${l}"]:not([hidden])`), [sel(c.id), lang]);
    }
    await page.evaluate((css) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      for (const el of document.querySelectorAll('mend-connection')) {
        el.shadowRoot.adoptedStyleSheets = [...el.shadowRoot.adoptedStyleSheets, sheet];
      }
    }, STILL);
    // Fonts and the style sheet are in; nothing is still loading.
    await page.evaluate(() => document.fonts.ready.then(() => true));
    // The whole page in the viewport: no scrolling, so every element sits at the same
    // (sub)pixel position on every run and its edges are drawn the same.
    const height = await page.evaluate(() => Math.ceil(document.documentElement.scrollHeight));
    await page.setViewportSize({ width: 1000, height });
    const shots = [];
    for (const c of demo) {
      const el = page.locator(sel(c.id));
      const file = path.join(out, `${c.id}-${c.state ?? 'ok'}.png`);
      const box = await el.boundingBox();
      await el.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
      assert.deepEqual(await el.boundingBox(), box, `${c.id} did not move while taken (a clipped picture)`);
      assert.equal(await el.getAttribute('data-state'), shown(c), `${c.id} still in its state when taken`);
      await assertPng(file);
      shots.push({ id: c.id, state: c.state ?? 'ok', title: c.title, file });
    }
    await context.close();

    // The gallery: the screenshots in a grid, with their state as caption.
    shots.sort((a, b) => a.id - b.id);
    const tiles = await Promise.all(shots.map(async (s) => ({ ...s, data: (await readFile(s.file)).toString('base64') })));
    const grid = await browser.newPage({ viewport: { width: 1000, height: 600 }, colorScheme: 'light' });
    await grid.setContent(`<!doctype html><html lang="${lang}"><head><style>
        body { margin: 0; padding: 16px; font: 13px/1.3 system-ui, sans-serif; background: #f4f5f7; color: #1d2330; }
        h1 { font-size: 18px; margin: 0 0 12px; }
        .grid { display: grid; grid-template-columns: repeat(2, 1fr); gap: 12px; }
        figure { margin: 0; background: #fff; border: 1px solid #d8dbe2; border-radius: 6px; padding: 8px; }
        figcaption { margin-bottom: 6px; font-weight: 600; }
        figcaption code { font-weight: 400; }
        img { width: 100%; display: block; }
      </style></head><body><h1>&lt;mend-connection&gt; in every Powens state (sandbox demo, ${lang}, light)</h1><div class="grid">${
  tiles.map((t) => `<figure><figcaption>#${t.id} <code>${t.state}</code></figcaption><img src="data:image/png;base64,${t.data}" alt=""></figure>`).join('')
}</div></body></html>`);
    await grid.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
    const gallery = path.join(out, 'gallery.png');
    await grid.screenshot({ path: gallery, fullPage: true });
    await assertPng(gallery);
    await grid.close();
  });
}

for (const lang of LANGS) {
  test(`a screenshot of <mend-connections>, the banner for the whole app (${lang})`, async () => {
    const out = path.join(OUT, lang);
    await mkdir(out, { recursive: true });
    // 105 is resumed at once and waits for the bank app (`validating`). It once
    // stayed `decoupled` (phase `waiting`) in about one run in ten: the demo page's
    // own 105 had remembered its approval when it sent the resume, the link's
    // navigation aborted that resume, and the list's 105 then waited for a bank app
    // never asked. An approval is remembered only once its resume is answered now.
    await stopSandboxClock();
    const { context, page } = await openDemo(lang);
    await page.getByRole('link', { name: 'The banner for the whole app' }).click();
    await page.waitForFunction((l) => {
      const list = document.querySelector('mend-connections');
      const entries = [...(list?.shadowRoot?.querySelectorAll('mend-connection') ?? [])];
      return list?.dataset.state === 'shown' && entries.length > 0 && entries.every((e) => e.getAttribute('theme') === 'light'
        && e.dataset.state !== 'loading' && e.shadowRoot?.querySelector(`section.mend[lang="${l}"]:not([hidden])`));
    }, lang, { timeout: 15000 });
    await page.waitForSelector('mend-connections mend-connection[connection-id="105"][data-state="validating"]', { timeout: 10000 });
    await page.evaluate((css) => {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      for (const el of document.querySelector('mend-connections').shadowRoot.querySelectorAll('mend-connection')) {
        el.shadowRoot.adoptedStyleSheets = [...el.shadowRoot.adoptedStyleSheets, sheet];
      }
    }, STILL);
    await page.evaluate(() => document.fonts.ready.then(() => true));
    const height = await page.evaluate(() => Math.ceil(document.documentElement.scrollHeight));
    await page.setViewportSize({ width: 1000, height });
    const el = page.locator('mend-connections');
    const file = path.join(out, 'list.png');
    const box = await el.boundingBox();
    await el.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
    assert.deepEqual(await el.boundingBox(), box, 'the list did not move while taken');
    await assertPng(file);
    await context.close();
  });
}
