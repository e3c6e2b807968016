// Timing: how long <mend-connection> takes from being connected to showing its first
// state (data-state leaving `loading`), over 20 fresh page loads (cache warm after the
// first), beside a plain-JS page that fetches the same status and renders it into a
// div. Prints a table and writes e2e/out/timing.json. The figures are reported, not
// asserted (timed assertions flake on a shared 2-core machine); a widget that never
// shows a state fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProxy, launchBrowser, serveStatic, demoSession } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const LOADS = 20;
let host;
let proxy;
let browser;

before(async () => {
  host = await serveStatic(path.join(here, 'fixtures'));
  proxy = await startProxy({ MEND_ALLOWED_ORIGINS: host.origin, RUST_LOG: 'warn' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await host?.close();
});

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const round = (x) => Math.round(x * 10) / 10;
const summary = (xs) => ({ median: round(quantile(xs, 0.5)), p90: round(quantile(xs, 0.9)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) });

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
    proxy: process.env.MEND_PROXY_BIN,
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
  const out = path.join(here, 'out');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'timing.json'), `${JSON.stringify(result, null, 2)}\n`);
});
