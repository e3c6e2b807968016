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
 * (e.g. MEND_ALLOWED_ORIGINS). Returns { base, port, stop(), restart(), logs }.
 */
export async function startProxy(env = {}, port = undefined) {
  const bin = process.env.MEND_PROXY_BIN;
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
