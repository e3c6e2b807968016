// Timing: how long <mend-connection> takes to show its first state (data-state leaving
// `loading`), beside plain JS that fetches the same status and renders it into a div,
// over 20 page loads each (cache warm after the first), interleaved so that both see
// the same machine load. Two measures:
//
// - connected → first state: timing.html imports mend.js, then appends the element
//   (the module's load is left out);
// - as a host page embeds it (README, "Embedding"): embedded.html has the module in
//   its head (`async`) and the element in its body; navigation → first state and
//   element parsed → first state, with a breakdown of where the time goes (resource
//   timing, and the marks of fixtures/first-state-probe.js); embedded-deferred.html,
//   the same without `async`, is measured beside it.
//
// Prints tables and writes e2e/out/timing.json and e2e/out/first-state.json. The
// figures are reported, not asserted (timed assertions flake on a shared 2-core
// machine; `cargo xtask bench first-state` runs this with the release proxy); a widget
// that never shows a state, or shows the wrong one, fails. MEND_TIMING_PROXY_BIN, when
// set, is the proxy measured (`cargo xtask bench first-state` sets the release build;
// `cargo xtask test` measures its debug build); else MEND_PROXY_BIN.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProxy, launchBrowser, serveStatic, demoSession } from './lib.mjs';
import { breakdown, breakdownTable, embeddedMarks, summary, round } from './timing-lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const LOADS = 20;
const PROXY_BIN = process.env.MEND_TIMING_PROXY_BIN || process.env.MEND_PROXY_BIN;
const replace = {}; // embedded*.html's placeholders, once the proxy is up
let host;
let proxy;
let browser;

before(async () => {
  host = await serveStatic(path.join(here, 'fixtures'), { replace });
  proxy = await startProxy({ MEND_ALLOWED_ORIGINS: host.origin, RUST_LOG: 'warn' }, undefined, PROXY_BIN);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await host?.close();
});

async function save(name, result) {
  const out = path.join(here, 'out');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, name), `${JSON.stringify(result, null, 2)}\n`);
}

/** One fresh page of `url`; its marks once it shows a state. */
async function measure(context, url) {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => window.timing?.shown != null, null, { timeout: 15000 })
    .catch(async (e) => {
      const marks = await page.evaluate(() => window.timing).catch(() => null);
      throw new Error(`never showed a state (${JSON.stringify(marks)}): ${e.message}`);
    });
  const marks = await page.evaluate(() => window.timing);
  await page.close();
  return marks;
}

test(`first state shown: the widget vs plain JS, median of ${LOADS} loads`, async () => {
  const session = await demoSession(proxy.base, 101);
  const widgetUrl = `${host.origin}/timing.html?${new URLSearchParams({ widget: `${proxy.base}/widget/mend.js`, id: '101', session })}`;
  const baseUrl = `${host.origin}/baseline.html?${new URLSearchParams({ api: proxy.base, id: '101', session })}`;
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  const runs = { widget: [], baseline: [] };
  // Interleaved, so both see the same machine load.
  for (let i = 0; i < LOADS; i += 1) {
    runs.widget.push(await measure(context, widgetUrl));
    runs.baseline.push(await measure(context, baseUrl));
  }
  await context.close();
  for (const [name, marks] of Object.entries(runs)) {
    for (const m of marks) assert.equal(m.state, 'ok', `${name} showed connection 101's state`);
  }
  const figures = {};
  for (const [name, marks] of Object.entries(runs)) {
    figures[name] = {
      connected_to_state_ms: summary(marks.map((m) => m.shown - m.connected)),
      navigation_to_state_ms: summary(marks.map((m) => m.shown)),
      first_load_navigation_to_state_ms: round(marks[0].shown),
    };
  }
  const ratio = (k, q) => round(figures.widget[k][q] / figures.baseline[k][q]);
  const result = {
    date: new Date().toISOString(),
    loads: LOADS,
    proxy: PROXY_BIN,
    widget_dir: process.env.MEND_WIDGET_DIR ?? 'dist',
    figures,
    ratio: {
      connected_to_state: { median: ratio('connected_to_state_ms', 'median'), p90: ratio('connected_to_state_ms', 'p90') },
      navigation_to_state: { median: ratio('navigation_to_state_ms', 'median'), p90: ratio('navigation_to_state_ms', 'p90') },
    },
  };
  const row = (label, k) => `| ${label} | ${figures.widget[k].median} | ${figures.widget[k].p90} | ${figures.baseline[k].median} | ${figures.baseline[k].p90} | ${ratio(k, 'median')}× |`;
  const table = [
    `| ${LOADS} loads, ms | widget median | widget p90 | plain JS median | plain JS p90 | ratio (median) |`,
    '|---|---|---|---|---|---|',
    row('connected → first state', 'connected_to_state_ms'),
    row('navigation start → first state', 'navigation_to_state_ms'),
  ].join('\n');
  console.log(`\n${table}\n(first, cold load: widget ${figures.widget.first_load_navigation_to_state_ms} ms, plain JS ${figures.baseline.first_load_navigation_to_state_ms} ms)\n`);
  await save('timing.json', result);
});

/** One fresh page of `url` with the probe; its marks once it shows a state. */
async function measureEmbedded(context, url) {
  const page = await context.newPage();
  await page.addInitScript({ path: path.join(here, 'fixtures', 'first-state-probe.js') });
  await page.goto(url);
  await page.waitForFunction(() => window.probe?.marks.frame != null, null, { timeout: 15000 })
    .catch(async (e) => {
      const marks = await page.evaluate(() => window.probe).catch(() => null);
      throw new Error(`never showed a state (${JSON.stringify(marks)}): ${e.message}`);
    });
  const marks = await embeddedMarks(page);
  await page.close();
  return marks;
}

test(`first state as a host page embeds it: the widget vs plain JS, median of ${LOADS} loads`, async () => {
  replace.__MEND_JS__ = `${proxy.base}/widget/mend.js`;
  replace.__API__ = proxy.base;
  replace.__SESSION__ = await demoSession(proxy.base, 101);
  const urls = {
    widget: `${host.origin}/embedded.html`,
    deferred: `${host.origin}/embedded-deferred.html`,
    baseline: `${host.origin}/embedded-baseline.html`,
  };
  const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
  const runs = { widget: [], deferred: [], baseline: [] };
  for (let i = 0; i < LOADS; i += 1) {
    for (const k of Object.keys(urls)) runs[k].push(await measureEmbedded(context, urls[k]));
  }
  await context.close();
  for (const [name, marks] of Object.entries(runs)) {
    for (const m of marks) {
      assert.equal(m.state, 'ok', `${name} showed connection 101's state`);
      assert.equal(m.statusReads, 1, `${name} read the status once (the widget adopts mend.js's request)`);
    }
  }
  // The first load of each is cold (nothing cached yet): reported apart.
  const warm = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.slice(1)]));
  const figures = {};
  for (const [name, marks] of Object.entries(warm)) {
    figures[name] = {
      navigation_to_state_ms: summary(marks.map((m) => m.shown)),
      parsed_to_state_ms: summary(marks.map((m) => m.shown - m.parsed)),
      first_load_navigation_to_state_ms: round(runs[name][0].shown),
    };
  }
  const nav = round(figures.widget.navigation_to_state_ms.median / figures.baseline.navigation_to_state_ms.median);
  const parsed = figures.widget.parsed_to_state_ms.median;
  const rows = { widget: breakdown(warm.widget), baseline: breakdown(warm.baseline, true) };
  await save('first-state.json', {
    date: new Date().toISOString(),
    loads: LOADS,
    proxy: PROXY_BIN,
    widget_dir: process.env.MEND_WIDGET_DIR ?? 'dist',
    figures,
    ratio_navigation_to_state_median: nav,
    breakdown: rows,
    runs,
  });
  const f = figures;
  console.log([
    '',
    `First state as a host page embeds it (${LOADS - 1} warm loads each, after a cold one; proxy ${PROXY_BIN}):`,
    '',
    '| ms | widget median | widget p90 | plain JS median | plain JS p90 | target |',
    '|---|---|---|---|---|---|',
    `| navigation → first state | ${f.widget.navigation_to_state_ms.median} | ${f.widget.navigation_to_state_ms.p90} | ${f.baseline.navigation_to_state_ms.median} | ${f.baseline.navigation_to_state_ms.p90} | ${nav}× of plain JS (target ≤ 1.3×: ${nav <= 1.3 ? 'met' : 'NOT met'}) |`,
    `| element parsed → first state | ${parsed} | ${f.widget.parsed_to_state_ms.p90} | ${f.baseline.parsed_to_state_ms.median} | ${f.baseline.parsed_to_state_ms.p90} | ≤ 100 ms: ${parsed <= 100 ? 'met' : 'NOT met'} |`,
    `| the widget, module not \`async\` | ${f.deferred.navigation_to_state_ms.median} | ${f.deferred.navigation_to_state_ms.p90} | | | ${round(f.deferred.navigation_to_state_ms.median / f.baseline.navigation_to_state_ms.median)}× (parsed → state ${f.deferred.parsed_to_state_ms.median}) |`,
    `(first, cold load: widget ${f.widget.first_load_navigation_to_state_ms} ms, plain JS ${f.baseline.first_load_navigation_to_state_ms} ms)`,
    '',
    breakdownTable('widget', rows.widget),
    '',
    breakdownTable('plain JS', rows.baseline),
    '',
  ].join('\n'));
});
