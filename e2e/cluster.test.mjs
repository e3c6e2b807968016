// mend-proxy as a cluster: three replicas sharing a real redis-server behind HAProxy,
// one shared Powens (the mend-sandbox binary), driven over HTTP as the widget drives
// the proxy. The same checks run against one replica alone (the in-process default);
// the ones about losing a replica or Redis only make sense with several.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startCluster, session, api, powensLog, until, INTERVAL_MS, RETURN_URI,
} from './cluster-lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const since = (status) => status.state ?? 'ok';

/** A reconnect URL minted on `base`, and its `state`. */
async function mintState(base, jwt, id) {
  const r = await api(base, `/connections/${id}/reconnect-url`, jwt, {
    method: 'POST', body: { redirect_uri: RETURN_URI },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return new URL(r.body.url).searchParams.get('state');
}

/** The return as the widget presents it. */
function callback(base, jwt, id, state) {
  return api(base, '/callback', jwt, {
    method: 'POST',
    body: { state, error: null, error_description: null, id_connection: String(id), connection_id: null },
  });
}

/** Upstream requests `method` about connection `id`. */
async function upstream(c, method, id) {
  const log = await powensLog(c.sandbox);
  return log.filter((r) => r.method === method && r.path.endsWith(`/connections/${id}`));
}

for (const mode of [{ name: 'cluster (3 replicas, Redis, HAProxy)', redis: true }, { name: 'single process', redis: false }]) {
  describe(mode.name, () => {
    let c;
    before(async () => { c = await startCluster({ redis: mode.redis }); });
    after(async () => { await c?.stop(); });
    const other = (i) => c.replicas[(i + 1) % c.replicas.length];

    test('a return is checked on another replica than the one that minted it, and a replay is refused on every one', async () => {
      const jwt = session(102);
      const state = await mintState(c.replicas[0].base, jwt, 102);
      const first = await callback(other(0).base, jwt, 102, state);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.connection_id, 102);
      for (const r of [...c.replicas, { base: c.base }]) {
        const again = await callback(r.base, jwt, 102, state);
        assert.equal(again.status, 422, `replay on ${r.base}: ${JSON.stringify(again.body)}`);
        assert.equal(again.body.error?.code, 'invalid_state');
      }
    });

    test('a decoupled approval reaches a widget long-polling another replica within interval + 1 s', async (t) => {
      const jwt = session(105);
      const resumed = await api(c.replicas[0].base, '/connections/105/resume', jwt, { method: 'POST', body: {} });
      assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
      const seen = since(resumed.body);
      const wait = api(other(0).base, `/connections/105?wait=20&since=${seen}`, jwt);
      await sleep(2 * INTERVAL_MS);
      const approve = await fetch(`${c.sandbox.base}/bank/app`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'connection=105&decision=approve',
        redirect: 'manual',
      });
      assert.ok(approve.status < 400, `bank app: HTTP ${approve.status}`);
      const approvedAt = Date.now();
      const answer = await wait;
      const took = Date.now() - approvedAt;
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.notEqual(since(answer.body), seen);
      t.diagnostic(`the approval reached the other replica's widget in ${took} ms`);
      assert.ok(took <= INTERVAL_MS + 1000, `the change took ${took} ms to reach the other replica`);
    });

    test('a connection watched on every replica is polled upstream by one of them', async (t) => {
      const jwt = session(103);
      const first = await api(c.base, '/connections/103', jwt);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      await fetch(`${c.sandbox.base}/_sandbox/requests`, { method: 'DELETE' });
      const windowMs = 8 * INTERVAL_MS;
      const started = Date.now();
      const waits = c.replicas.map((r) => api(r.base, `/connections/103?wait=${windowMs / 1000}&since=${since(first.body)}`, jwt));
      for (const w of await Promise.all(waits)) assert.equal(w.status, 200);
      const elapsed = Date.now() - started;
      const gets = (await upstream(c, 'GET', 103)).length;
      const oneAtATime = Math.ceil(elapsed / INTERVAL_MS) + 2;
      t.diagnostic(`${gets} upstream reads in ${elapsed} ms with ${c.replicas.length} replica(s) watching`);
      assert.ok(gets >= 2, `watched but polled ${gets} times`);
      assert.ok(gets <= oneAtATime, `${gets} upstream reads in ${elapsed} ms: more than one poller (at most ${oneAtATime} expected)`);
    });

    if (!mode.redis) return;

    test('a replica killed mid-submission: the repair completes and one submission reaches Powens', async (t) => {
      const jwt = session(104);
      const put = await fetch(`${c.sandbox.base}/_sandbox/connections/104/scenario`, {
        method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ slow_ms: 2500 }),
      });
      assert.equal(put.status, 200);
      const victim = c.replicas[0];
      const submit = api(victim.base, '/connections/104/fields', jwt, { method: 'POST', body: { values: { otp: '123456' } } })
        .then((r) => r, (e) => ({ status: 0, error: e }));
      await until('the submission at the bank', async () => (await upstream(c, 'POST', 104)).length === 1, 5000);
      await victim.kill();
      assert.equal((await submit).status, 0, 'the killed replica answered');
      // The widget, cut off, submits again through the balancer: refused, not resent.
      const retry = await api(c.base, '/connections/104/fields', jwt, { method: 'POST', body: { values: { otp: '123456' } } });
      assert.equal(retry.status, 409, JSON.stringify(retry.body));
      t.diagnostic(`the retry through the balancer: 409 ${retry.body.error?.code}`);
      // And its long poll through the balancer sees the repair complete.
      let status;
      await until('the repair seen through the balancer', async () => {
        const r = await api(c.base, '/connections/104?wait=5&since=additionalInformationNeeded', jwt);
        status = r.body;
        return r.status === 200 && (r.body.state === null || r.body.state === 'validating');
      }, 15000);
      assert.ok(status);
      assert.equal((await upstream(c, 'POST', 104)).length, 1, 'submissions that reached Powens');
      c.replicas[0] = await victim.restart();
    });

    test('Redis restarted mid-run: the cluster recovers and nothing is accepted twice', async () => {
      const jwt = session(102);
      const used = await mintState(c.replicas[0].base, jwt, 102);
      assert.equal((await callback(c.replicas[1].base, jwt, 102, used)).status, 200);
      const pending = await mintState(c.replicas[1].base, jwt, 102);

      await c.redis.kill();
      await until('every replica not ready', async () => {
        const rs = await Promise.all(c.replicas.map((r) => fetch(`${r.base}/readyz`)));
        return rs.every((r) => r.status === 503);
      }, 10000);
      // Single use fails closed while Redis is down.
      const down = await callback(c.replicas[2].base, jwt, 102, pending);
      assert.equal(down.status, 503, JSON.stringify(down.body));

      await c.restartRedis();
      await until('every replica ready again', async () => {
        const rs = await Promise.all(c.replicas.map((r) => fetch(`${r.base}/readyz`)));
        return rs.every((r) => r.status === 200);
      }, 15000);
      // Redis came back empty: a state from before is refused everywhere.
      for (const r of c.replicas) {
        const again = await callback(r.base, jwt, 102, used);
        assert.equal(again.status, 422, `replay after the restart on ${r.base}: ${JSON.stringify(again.body)}`);
      }
      // A new repair works once, through the balancer, and only once.
      const fresh = await mintState(c.base, jwt, 102);
      assert.equal((await callback(c.base, jwt, 102, fresh)).status, 200);
      for (const r of c.replicas) assert.equal((await callback(r.base, jwt, 102, fresh)).status, 422);
    });
  });
}
