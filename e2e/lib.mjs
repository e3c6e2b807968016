// Shared helpers for the end-to-end suite: start the real mend-proxy binary in
// sandbox mode (it serves the release widget from MEND_WIDGET_DIR) and drive Debian's
// Chromium with playwright-core. Run through `cargo xtask test`, which builds both.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';

/** A free TCP port on the loopback interface. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHealth(base, child, logs, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`mend-proxy exited with ${child.exitCode}:\n${logs.join('')}`);
    }
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`mend-proxy did not become healthy in ${timeoutMs} ms:\n${logs.join('')}`);
}

/**
 * Starts mend-proxy in sandbox mode on a free port. `env` adds variables
 * (e.g. MEND_ALLOWED_ORIGINS). `bin` overrides MEND_PROXY_BIN (the timing suite's
 * release proxy). Returns { base, port, stop(), restart(), logs }.
 */
export async function startProxy(env = {}, port = undefined, bin = process.env.MEND_PROXY_BIN) {
  if (!bin) throw new Error('MEND_PROXY_BIN is not set: run the suite through `cargo xtask test`');
  port = port ?? await freePort();
  const base = `http://127.0.0.1:${port}`;
  const logs = [];
  const child = spawn(bin, ['serve'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MEND_LISTEN: `127.0.0.1:${port}`,
      MEND_WIDGET_DIR: process.env.MEND_WIDGET_DIR ?? 'dist',
      MEND_POLL_INTERVAL: '300ms',
      // The suite loads the demo page (25 connections) far more often than a user
      // would; fair use has its own tests (crates/proxy/tests/api/budget.rs).
      MEND_POWENS_BUDGET: '100000',
      // The demo page asks for a session per connection at each load, without one.
      MEND_RATE_LIMIT_UNAUTHENTICATED: '100000',
      MEND_METRICS_TOKEN: METRICS_TOKEN,
      RUST_LOG: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => logs.push(d.toString()));
  child.stderr.on('data', (d) => logs.push(d.toString()));
  await waitForHealth(base, child, logs);
  const proxy = {
    base,
    port,
    logs,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
  return proxy;
}

/** Launches headless Debian Chromium with the flags this closed network needs. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

/** The sandbox's request log (what the proxy really sent to Powens). */
export async function sandboxRequests(base) {
  const r = await fetch(`${base}/sandbox/_sandbox/requests`);
  if (!r.ok) throw new Error(`request log: HTTP ${r.status}`);
  return r.json();
}

/** Restores the sandbox's demo data set and clears its log. */
export async function resetSandbox(base) {
  const r = await fetch(`${base}/sandbox/_sandbox/reset`, { method: 'POST' });
  if (!r.ok) throw new Error(`reset: HTTP ${r.status}`);
}

// --- Helpers for the embedding, CSP, accessibility, screenshot and timing suites ---

/**
 * Serves the files of `root` (a folder) over HTTP on a free loopback port, as a host
 * application of another origin would. `headers` are added to every answer (e.g. a
 * Content-Security-Policy). `mounts` maps a URL prefix to another folder
 * (e.g. {'/widget/': 'dist'} to self-host the widget). `replace` maps a placeholder to
 * the text that replaces it in HTML pages (read at each request, so it may be filled in
 * later, e.g. once the proxy's origin is known). Returns { origin, port, close() }.
 */
export async function serveStatic(root, { headers = {}, mounts = {}, replace = {} } = {}) {
  const { createServer: createHttp } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const path = await import('node:path');
  const types = {
    '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
    '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png',
  };
  const server = createHttp(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    let dir = root;
    let rel = url.pathname;
    for (const [prefix, folder] of Object.entries(mounts)) {
      if (rel.startsWith(prefix)) { dir = folder; rel = rel.slice(prefix.length - 1); break; }
    }
    if (rel.endsWith('/')) rel += 'index.html';
    const file = path.resolve(dir, `.${decodeURIComponent(rel)}`);
    if (!file.startsWith(path.resolve(dir))) { res.writeHead(403).end(); return; }
    try {
      let body = await readFile(file);
      if (file.endsWith('.html') && Object.keys(replace).length) {
        body = Object.entries(replace).reduce((t, [k, v]) => t.replaceAll(k, v), body.toString());
      }
      res.writeHead(200, {
        'content-type': types[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
        ...headers,
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

/** A sandbox-mode demo session for connection `id` (or every demo connection). */
export async function demoSession(base, id) {
  const r = await fetch(`${base}/api/v1/demo/session${id ? `?connection=${id}` : ''}`);
  if (!r.ok) throw new Error(`demo session: HTTP ${r.status}`);
  return (await r.json()).session;
}

/**
 * Signs a widget session (HS256 JWT) with `secret`, as an integrator's backend does.
 * `claims` overrides the defaults { sub: '1', iat: now, exp: now + 900 }.
 */
export async function signSession(secret, claims = {}) {
  const { createHmac } = await import('node:crypto');
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: '1', iat: now, exp: now + 900, ...claims })}`;
  // In sandbox mode the proxy signs sessions with a key derived from MEND_SESSION_SECRET
  // (so a sandbox can never mint sessions a production proxy accepts): derive it too.
  const key = createHmac('sha256', secret).update('mend-sandbox-session-key-v1').digest('hex');
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** The `MEND_METRICS_TOKEN` of the proxies `startProxy` starts (`/metrics` needs it). */
export const METRICS_TOKEN = 'e2e-metrics-token-0123456789';

/** The value of a Prometheus gauge or counter (summed over label sets matching `labels`). */
export async function metric(base, name, labels = '') {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (!res.ok) throw new Error(`/metrics: HTTP ${res.status}`);
  const text = await res.text();
  let sum = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const m = line.match(/^([a-z_]+)(\{[^}]*\})?\s+(\S+)/);
    if (!m || m[1] !== name || (labels && !(m[2] ?? '').includes(labels))) continue;
    sum += Number(m[3]);
    seen = true;
  }
  return seen ? sum : null;
}

/** Polls `fn` until it returns a truthy value (then returns it) or throws after `timeout` ms. */
export async function eventually(fn, { timeout = 10000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * Runs axe-core (from node_modules) on `page` (or on `context`, an axe context such as
 * { include: [['mend-connection']] }) and returns its violations, each as
 * { id, impact, help, targets }. Open shadow roots are included by axe itself.
 */
export async function axeViolations(page, options = {}, context = null) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    // Evaluated through the DevTools protocol rather than added as a <script>, so the
    // pages' strict CSP (no inline script) neither blocks it nor reports it.
    const { createRequire } = await import('node:module');
    const { readFile } = await import('node:fs/promises');
    const src = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    await page.evaluate(`${src}\n;void 0`);
  }
  const result = await page.evaluate(([ctx, opts]) => window.axe.run(ctx ?? document, opts), [context, {
    resultTypes: ['violations'],
    ...options,
  }]);
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 5),
  }));
}
