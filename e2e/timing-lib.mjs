// Figures of e2e/timing.test.mjs: quantiles, and the host-embedded pages' marks read
// back from the page (fixtures/first-state-probe.js, the page's own `element-parsed`
// mark, resource and navigation timing) and laid out as a breakdown table.

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
export const round = (x) => Math.round(x * 10) / 10;
export const median = (xs) => round(quantile(xs, 0.5));
export const summary = (xs) => ({
  median: median(xs), p90: round(quantile(xs, 0.9)), min: round(Math.min(...xs)), max: round(Math.max(...xs)),
});

/**
 * The marks of one host-embedded page, in ms since navigation start: the probe's,
 * `html` (the page received), `parsed` (the element parsed), and `<file>-start`,
 * `<file>-end` and `<file>-bytes` (transfer size: 0 from the cache, or when the server
 * sends no Timing-Allow-Origin) for the files the widget or the baseline loads.
 */
export async function embeddedMarks(page) {
  return page.evaluate(() => {
    const files = {
      entry: /\/mend\.js$/,
      glue: /\/mend-element-[0-9a-f]+\.js$/,
      wasm: /_bg\.wasm$/,
      css: /\/mend-[0-9a-f]+\.css$/,
      status: /\/api\/v1\/connections\/101$/,
      script: /\/embedded-baseline\.js$/,
    };
    const marks = { ...window.probe.marks, state: window.probe.state };
    // Status reads of connection 101 (not its long polls, which have a query).
    marks.statusReads = performance.getEntriesByType('resource')
      .filter((e) => /\/api\/v1\/connections\/101$/.test(e.name)).length;
    marks.html = performance.getEntriesByType('navigation')[0]?.responseEnd;
    marks.parsed = performance.getEntriesByName('element-parsed')[0]?.startTime;
    for (const e of performance.getEntriesByType('resource')) {
      const file = Object.keys(files).find((k) => files[k].test(new URL(e.name).pathname));
      if (!file || marks[`${file}-start`] != null) continue;
      marks[`${file}-start`] = e.startTime;
      marks[`${file}-end`] = e.responseEnd;
      marks[`${file}-bytes`] = e.transferSize;
    }
    return marks;
  });
}

// [label, start mark or null, end mark]: a span, or a point in time.
const WIDGET_STEPS = [
  ['HTML received', null, 'html'],
  ['element parsed', null, 'parsed'],
  ['mend.js (entry; a revalidation if not fresh)', 'entry-start', 'entry-end'],
  ['glue JS (immutable, from cache)', 'glue-start', 'glue-end'],
  ['wasm (immutable, from cache)', 'wasm-start', 'wasm-end'],
  ['compile', 'compile-start', 'compile-end'],
  ['instantiate (and compile, if streamed at once)', 'instantiate-start', 'instantiate-end'],
  ['define: upgrade, connectedCallback', 'define-start', 'define-end'],
  ['status request', 'status-start', 'status-end'],
  ['stylesheet (shadow root)', 'css-start', 'css-end'],
  ['mounted (container in the shadow root)', null, 'mounted'],
  ['first state (data-state)', null, 'shown'],
  ['next frame (first paint of it)', null, 'frame'],
];
const BASELINE_STEPS = [
  ['HTML received', null, 'html'],
  ['element parsed', null, 'parsed'],
  ['script (no-cache, revalidated)', 'script-start', 'script-end'],
  ['status request', 'status-start', 'status-end'],
  ['first state (data-state)', null, 'shown'],
  ['next frame (first paint of it)', null, 'frame'],
];

/** Median per step of `runs` (marks of embeddedMarks), as rows of numbers or null. */
export function breakdown(runs, baseline = false) {
  const med = (key) => {
    const xs = runs.map((m) => m[key]).filter((x) => typeof x === 'number');
    return xs.length === runs.length ? median(xs) : null;
  };
  const span = (a, b) => {
    const xs = runs.filter((m) => typeof m[a] === 'number' && typeof m[b] === 'number').map((m) => m[b] - m[a]);
    return xs.length === runs.length ? median(xs) : null;
  };
  return (baseline ? BASELINE_STEPS : WIDGET_STEPS).map(([label, from, to]) => ({
    step: label,
    from: from ? med(from) : null,
    to: med(to),
    takes: from ? span(from, to) : null,
    after_parsed: span('parsed', to),
  }));
}

/** A Markdown table of `breakdown` rows. */
export function breakdownTable(title, rows) {
  const f = (x) => (x == null ? '—' : String(x));
  return [
    `| ${title} (median ms) | from | to | takes | to, after element parsed |`,
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.step} | ${f(r.from)} | ${f(r.to)} | ${f(r.takes)} | ${f(r.after_parsed)} |`),
  ].join('\n');
}
