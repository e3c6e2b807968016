// The cluster harness: one Powens (the mend-sandbox binary, so every replica talks to
// the same bank), then either three mend-proxy replicas sharing a redis-server behind
// HAProxy (health-checked on /readyz), or one replica alone (the in-process default).
// Everything listens on free loopback ports, is started here and stopped by pid.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './lib.mjs';

/** The session secret every replica shares (test value, 32+ bytes). */
const SECRET = 'cluster-suite-session-secret-0123456789abcdef';
/** Where the tests say the user returns (never visited: the tests post the callback). */
export const RETURN_URI = 'https://app.example/bank/return';
/** The suite's poll interval. */
export const INTERVAL_MS = 500;
/** The Bearer token of /metrics on every replica. */
export const METRICS_TOKEN = 'cluster-suite-metrics-token';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function bin(name, envVar) {
  if (process.env[envVar]) return process.env[envVar];
  const proxy = process.env.MEND_PROXY_BIN;
  if (!proxy) throw new Error('MEND_PROXY_BIN is not set: run the suite through `cargo xtask test`');
  return name === 'mend-proxy' ? proxy : path.join(path.dirname(proxy), name);
}

/** A system program, or a clear error saying how to install it. */
function system(program, candidates) {
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`${program} is missing: run \`cargo xtask setup\` (Debian package ${program})`);
}

/** A started process: its pid, its output, stop() (SIGTERM) and kill() (SIGKILL). */
function start(name, file, args, env = {}) {
  const logs = [];
  const child = spawn(file, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => logs.push(d.toString()));
  child.stderr.on('data', (d) => logs.push(d.toString()));
  const exited = new Promise((r) => child.once('exit', r));
  const signal = async (sig) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid, sig);
    await exited;
  };
  return {
    name, child, logs,
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

/** Polls `probe` (an async boolean) until true, or fails naming `what`. */
export async function until(what, probe, timeoutMs = 20000, proc = undefined) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && !proc.alive()) throw new Error(`${proc.name} exited:\n${proc.logs.join('')}`);
    try { if (await probe()) return; } catch { /* not up yet */ }
    await sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${proc ? `\n${proc.logs.join('')}` : ''}`);
}

async function startSandbox() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const p = start('mend-sandbox', bin('mend-sandbox', 'MEND_SANDBOX_BIN'), [
    '--listen', `127.0.0.1:${port}`, '--decoupled-delay', '1', '--validating-delay', '1',
  ], { RUST_LOG: 'warn' });
  await until('mend-sandbox listening', async () => (await fetch(`${base}/_sandbox/connections`)).ok, 20000, p);
  return { ...p, base, port };
}

async function startRedis(port) {
  const p = start('redis-server', system('redis-server', ['/usr/bin/redis-server', '/usr/sbin/redis-server']), [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--protected-mode', 'yes',
  ]);
  await until('redis-server ready', async () => p.logs.join('').includes('Ready to accept connections'), 10000, p);
  return { ...p, port };
}

async function startReplica(name, sandbox, env) {
  const port = env.port ?? await freePort();
  const base = `http://127.0.0.1:${port}`;
  const p = start(name, bin('mend-proxy', 'MEND_PROXY_BIN'), ['serve'], {
    MEND_LISTEN: `127.0.0.1:${port}`,
    POWENS_API_URL: `${sandbox.base}/2.0`,
    POWENS_WEBVIEW_URL: `${sandbox.base}/webview`,
    POWENS_DOMAIN: 'mend-sandbox.biapi.pro',
    POWENS_CLIENT_ID: '10000001',
    POWENS_CLIENT_SECRET: 'mend-sandbox-client-secret',
    MEND_SESSION_SECRET: SECRET,
    MEND_REDIRECT_URIS: RETURN_URI,
    MEND_POLL_INTERVAL: `${INTERVAL_MS}ms`,
    MEND_POWENS_BUDGET: '100000',
    MEND_RATE_LIMIT_UNAUTHENTICATED: '100000',
    MEND_METRICS_TOKEN: METRICS_TOKEN,
    MEND_WIDGET_DIR: process.env.MEND_WIDGET_DIR ?? 'dist',
    RUST_LOG: 'info',
    ...env.vars,
  });
  await until(`${name} healthy`, async () => (await fetch(`${base}/healthz`)).ok, 20000, p);
  return { ...p, base, port, restart: () => startReplica(name, sandbox, { ...env, port }) };
}

async function startHaproxy(dir, replicas) {
  const port = await freePort();
  const cfg = path.join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(port, replicas.map((r) => r.port)));
  const p = start('haproxy', system('haproxy', ['/usr/sbin/haproxy', '/usr/bin/haproxy']), ['-db', '-f', cfg]);
  const base = `http://127.0.0.1:${port}`;
  await until('haproxy with every replica up', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/haproxy-stats;csv`).catch(() => null);
    if (!r) return false;
    const up = (await r.text()).split('\n').filter((l) => l.startsWith('mend,r') && l.includes(',UP,'));
    return up.length === replicas.length;
  }, 20000, p);
  return { ...p, base, port };
}

/** The reference HAProxy configuration of docs/operations.md, on the test's ports. */
export function haproxyConfig(port, backends) {
  return `global
  maxconn 2000
defaults
  mode http
  option forwardfor
  option redispatch
  retries 2
  timeout connect 1s
  timeout client 40s
  timeout server 40s
  timeout http-request 10s
frontend web
  bind 127.0.0.1:${port}
  stats enable
  stats uri /haproxy-stats
  default_backend mend
backend mend
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 300ms fall 2 rise 1 on-marked-down shutdown-sessions
${backends.map((p, i) => `  server r${i + 1} 127.0.0.1:${p} check`).join('\n')}
`;
}

/**
 * Starts a cluster: `{ redis: true }` for Redis + 3 replicas + HAProxy, `{}` for one
 * replica alone. Returns { base (where widgets go), replicas, sandbox, redis,
 * restartRedis(), stop() }.
 */
export async function startCluster({ redis: withRedis }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mend-cluster-'));
  const procs = [];
  const c = { replicas: [], dir };
  try {
    c.sandbox = await startSandbox();
    procs.push(c.sandbox);
    const vars = {};
    if (withRedis) {
      c.redisPort = await freePort();
      c.redis = await startRedis(c.redisPort);
      vars.MEND_REDIS_URL = `redis://127.0.0.1:${c.redisPort}/0`;
      vars.MEND_TRUSTED_PROXIES = '127.0.0.1';
    }
    for (let i = 0; i < (withRedis ? 3 : 1); i++) {
      c.replicas.push(await startReplica(`replica ${i + 1}`, c.sandbox, { vars }));
    }
    if (withRedis) c.balancer = await startHaproxy(dir, c.replicas);
    c.base = withRedis ? c.balancer.base : c.replicas[0].base;
  } catch (e) {
    await stopAll([c.balancer, ...c.replicas, c.redis, c.sandbox]);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  c.restartRedis = async () => {
    await c.redis.kill();
    c.redis = await startRedis(c.redisPort);
  };
  c.stop = async () => {
    await stopAll([c.balancer, ...c.replicas, c.redis, c.sandbox]);
    rmSync(dir, { recursive: true, force: true });
  };
  return c;
}

async function stopAll(procs) {
  for (const p of procs) if (p) await p.stop();
}

/** A widget session for the sandbox's demo user 1, minted by `mend-proxy session`. */
export function session(connection) {
  const out = spawnSync(bin('mend-proxy', 'MEND_PROXY_BIN'), ['session', '--user', '1', '--connection', String(connection)], {
    env: { PATH: process.env.PATH, MEND_SESSION_SECRET: SECRET },
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`mend-proxy session: ${out.stderr}`);
  return out.stdout.trim();
}

/** An /api/v1 call with the widget's session: { status, body }. */
export async function api(base, pathAndQuery, sessionJwt, { method = 'GET', body } = {}) {
  const r = await fetch(`${base}/api/v1${pathAndQuery}`, {
    method,
    headers: {
      authorization: `Bearer ${sessionJwt}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: r.status, body: json };
}

/** What the shared Powens received (its request log). */
export async function powensLog(sandbox) {
  return (await fetch(`${sandbox.base}/_sandbox/requests`)).json();
}
