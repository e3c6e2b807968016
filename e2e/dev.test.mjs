// `cargo xtask dev` stops everything it started, whatever ends it: SIGTERM (an IDE, a
// process manager, `timeout`), SIGINT (Ctrl-C), SIGHUP (a closed terminal) or its
// parent dying. Each test starts the real command (the xtask binary that runs this
// suite, MEND_XTASK_BIN) on free ports with its own dist folder, ends it, and checks
// that no process it started is left and that its ports are free again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, eventually } from './lib.mjs';

const XTASK = process.env.MEND_XTASK_BIN;
const skip = XTASK ? false : 'MEND_XTASK_BIN is not set: run the suite through `cargo xtask test`';

/** pid → [ppid, state, command] of every process, from /proc. */
async function processes() {
  const table = new Map();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    table.set(Number(name), [Number(ppid), state, stat.slice(stat.indexOf('(') + 1, close)]);
  }
  return table;
}

/** Every live descendant of `pid`, as { pid, command }. */
async function descendants(pid) {
  const table = await processes();
  const found = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift();
    for (const [p, [ppid, state, command]] of table) {
      if (ppid === parent && state !== 'Z') {
        found.push({ pid: p, command });
        queue.push(p);
      }
    }
  }
  return found;
}

async function alive(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat !== null && !/\) [ZX] /.test(stat);
}

function listening(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function ok(url) {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3000) })).ok;
  } catch {
    return false;
  }
}

/**
 * Starts `xtask dev --release` (through `sh` when `viaShell`, so the test can kill its
 * parent). Returns { child, xtaskPid, proxyPort, trunkPort, logs, cleanup() }.
 */
async function startDev({ viaShell = false } = {}) {
  const proxyPort = await freePort();
  const trunkPort = await freePort();
  const dist = await mkdtemp(path.join(tmpdir(), 'mend-dev-test-'));
  const env = {
    ...process.env,
    MEND_LISTEN: `127.0.0.1:${proxyPort}`,
    TRUNK_SERVE_PORT: String(trunkPort),
    TRUNK_BUILD_DIST: dist,
    RUST_LOG: 'warn',
  };
  const child = viaShell
    ? spawn('sh', ['-c', '"$0" dev --release & wait', XTASK], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(XTASK, ['dev', '--release'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  child.stdout.on('data', (d) => logs.push(d.toString()));
  child.stderr.on('data', (d) => logs.push(d.toString()));
  let xtaskPid = child.pid;
  if (viaShell) {
    const kids = await eventually(async () => {
      const found = (await descendants(child.pid)).filter((p) => p.command === 'xtask');
      return found.length > 0 && found;
    }, { timeout: 10000, message: 'xtask under sh' });
    xtaskPid = kids[0].pid;
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child, xtaskPid, proxyPort, trunkPort, logs, exited,
    cleanup: () => rm(dist, { recursive: true, force: true }),
  };
}

/** Waits for the proxy to answer and for trunk (building) to run. */
async function untilStarted(dev) {
  await eventually(() => ok(`http://127.0.0.1:${dev.proxyPort}/healthz`), {
    timeout: 120000, interval: 250, message: `the dev proxy (logs: ${dev.logs.join('').slice(-2000)})`,
  });
  return eventually(async () => {
    const all = await descendants(dev.xtaskPid);
    return all.some((p) => p.command === 'trunk') && all.some((p) => p.command === 'mend-proxy') && all;
  }, { timeout: 20000, message: 'trunk and mend-proxy among its processes' });
}

/** After xtask ended: none of `started` is alive, and both ports are free. */
async function assertAllStopped(dev, started) {
  await eventually(async () => {
    const left = [];
    for (const p of started) if (await alive(p.pid)) left.push(p);
    return left.length === 0;
  }, { timeout: 15000, message: 'every process it started to be gone' }).catch(async (e) => {
    const left = [];
    for (const p of started) if (await alive(p.pid)) left.push(`${p.pid} ${p.command}`);
    throw new Error(`${e.message}; still alive: ${left.join(', ')}`);
  });
  assert.equal(await listening(dev.proxyPort), false, `port ${dev.proxyPort} (proxy) is free`);
  assert.equal(await listening(dev.trunkPort), false, `port ${dev.trunkPort} (trunk) is free`);
}

test('SIGTERM once the demo is served stops the proxy, trunk and all they started', { skip, timeout: 600000 }, async () => {
  const dev = await startDev();
  try {
    await untilStarted(dev);
    await eventually(() => ok(`http://127.0.0.1:${dev.trunkPort}/widget/`), {
      timeout: 480000, interval: 500, message: 'trunk serving the demo',
    });
    assert.ok(await ok(`http://127.0.0.1:${dev.trunkPort}/widget/mend.js`), 'trunk serves the element');
    const started = await descendants(dev.xtaskPid);
    process.kill(dev.xtaskPid, 'SIGTERM');
    const { code } = await dev.exited;
    assert.equal(code, 143, `exit status 128 + SIGTERM (logs: ${dev.logs.join('').slice(-1500)})`);
    await assertAllStopped(dev, started);
    assert.match(dev.logs.join(''), /signal SIGTERM: stopping everything it started/);
  } finally {
    dev.child.kill('SIGKILL');
    await dev.cleanup();
  }
});

for (const [signal, code] of [['SIGINT', 130], ['SIGHUP', 129]]) {
  test(`${signal} while trunk is still building stops everything too`, { skip, timeout: 180000 }, async () => {
    const dev = await startDev();
    try {
      const started = await untilStarted(dev);
      process.kill(dev.xtaskPid, signal);
      assert.equal((await dev.exited).code, code);
      await assertAllStopped(dev, started);
    } finally {
      dev.child.kill('SIGKILL');
      await dev.cleanup();
    }
  });
}

test('when its parent dies, xtask dev stops everything and ends', { skip, timeout: 180000 }, async () => {
  const dev = await startDev({ viaShell: true });
  try {
    const started = await untilStarted(dev);
    // The shell is killed outright: xtask gets no signal, only a new parent.
    process.kill(dev.child.pid, 'SIGKILL');
    await eventually(async () => !(await alive(dev.xtaskPid)), { timeout: 20000, message: 'xtask to end' });
    await assertAllStopped(dev, started);
  } finally {
    dev.child.kill('SIGKILL');
    await dev.cleanup();
  }
});
