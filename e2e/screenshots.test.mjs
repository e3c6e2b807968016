// Screenshots of every demo state in each of the widget's seven languages (light
// theme), one PNG per element in docs/screenshots/<lang>/<connection-id>-<state>.png,
// and docs/screenshots/<lang>/gallery.png, a grid of them all. Fails when one cannot
// be taken.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProxy, launchBrowser, resetSandbox } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(here, '..', 'docs', 'screenshots');

let proxy;
let browser;

const LANGS = ['en', 'fr', 'de', 'es', 'it', 'nl', 'pt'];

before(async () => {
  proxy = await startProxy();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
});

const sel = (id) => `mend-connection[connection-id="${id}"]`;

async function assertPng(file) {
  const s = await stat(file).catch(() => null);
  assert.ok(s, `${file} was written`);
  assert.ok(s.size > 1024, `${file} is more than 1 KB (${s.size} bytes)`);
}

// 106 is `validating` for the sandbox's 3 s after a reset, then fine: on a loaded
// machine the page may miss it, so a language whose 106 turned fine first is taken
// again, once, from a fresh reset.
for (const lang of LANGS) test(`a screenshot of every demo state, and a gallery of them (${lang})`, async () => {
  try {
    await shoot(lang);
  } catch (e) {
    if (e.name !== 'TimeoutError' && !/^106 /.test(e.message)) throw e;
    await shoot(lang);
  }
});

async function shoot(lang) {
  const out = path.join(OUT, lang);
  await mkdir(out, { recursive: true });
  await resetSandbox(proxy.base);
  const demo = await (await fetch(`${proxy.base}/api/v1/demo/connections`)).json();
  assert.ok(demo.length >= 16, 'the demo data set');
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 }, colorScheme: 'light', locale: 'en-GB' });
  // In that language from the first paint (a reset's 3 s of `validating` for 106 leave
  // no time to switch languages first on a loaded machine).
  await page.goto(`${proxy.base}/widget/?lang=${lang}`);
  await page.getByLabel('Theme').selectOption('light');
  // What each element shows when its state is on screen (105 is resumed at once and
  // waits for the bank app, its host saying `validating`).
  const shown = (c) => (c.id === 105 ? 'validating' : (c.state ?? 'ok'));
  // 106 turns fine by itself a few seconds after the reset: take it first.
  const order = [...demo].sort((a, b) => (b.id === 106) - (a.id === 106));
  const shots = [];
  for (const c of order) {
    const el = page.locator(sel(c.id));
    await page.waitForSelector(`${sel(c.id)}[data-state="${shown(c)}"][theme="light"][lang="${lang}"]`, { timeout: 15000 });
    await page.waitForFunction(([s, l]) => document.querySelector(s).shadowRoot.querySelector(`section.mend[lang="${l}"]:not([hidden])`), [sel(c.id), lang]);
    await el.scrollIntoViewIfNeeded();
    // Fonts and the style sheet are in; nothing is still loading.
    await page.evaluate(() => document.fonts.ready.then(() => true));
    const file = path.join(out, `${c.id}-${c.state ?? 'ok'}.png`);
    const box = await el.boundingBox();
    await el.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
    assert.deepEqual(await el.boundingBox(), box, `${c.id} did not move while taken (a clipped picture)`);
    assert.equal(await el.getAttribute('data-state'), shown(c), `${c.id} still in its state when taken`);
    await assertPng(file);
    // 106 turning fine changes its height and moves the others: let it settle first.
    if (c.id === 106) await page.waitForSelector(`${sel(106)}[data-state="ok"]`, { timeout: 15000 });
    shots.push({ id: c.id, state: c.state ?? 'ok', title: c.title, file });
  }
  await page.close();

  // The gallery: the screenshots in a grid, with their state as caption.
  shots.sort((a, b) => a.id - b.id);
  const tiles = await Promise.all(shots.map(async (s) => ({ ...s, data: (await readFile(s.file)).toString('base64') })));
  const grid = await browser.newPage({ viewport: { width: 1000, height: 600 }, colorScheme: 'light' });
  await grid.setContent(`<!doctype html><html><head><style>
      body { margin: 0; padding: 16px; font: 13px/1.3 system-ui, sans-serif; background: #f4f5f7; color: #1d2330; }
      h1 { font-size: 18px; margin: 0 0 12px; }
      .grid { display: grid; grid-template-columns: repeat(2, 1fr); gap: 12px; }
      figure { margin: 0; background: #fff; border: 1px solid #d8dbe2; border-radius: 6px; padding: 8px; }
      figcaption { margin-bottom: 6px; font-weight: 600; }
      figcaption code { font-weight: 400; }
      img { width: 100%; display: block; }
    </style></head><body><h1>&lt;mend-connection&gt; in every Powens state (sandbox demo, lang=${lang}, light)</h1><div class="grid">${
  tiles.map((t) => `<figure><figcaption>#${t.id} <code>${t.state}</code></figcaption><img src="data:image/png;base64,${t.data}" alt=""></figure>`).join('')
}</div></body></html>`);
  await grid.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
  const gallery = path.join(out, 'gallery.png');
  await grid.screenshot({ path: gallery, fullPage: true });
  await assertPng(gallery);
  await grid.close();
}
