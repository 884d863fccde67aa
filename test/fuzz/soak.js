'use strict';
// Soak (docs/building.md, "Reliability"): a mixed workload across processes sharing one contract
// root, for N minutes, then counts of events expected vs delivered and
// resources at start vs end.
//
//   npm run soak -- --minutes N [--peers K] [--spawn atfork|shim]
//
// This process (the "main" one) and K peer node processes (default 3) each
// create contracts running small trees that fork, exit, dump core (with
// `ulimit -c 0`, so no core file is written), get signalled, stopped
// (with and without SIGKILL escalation) and frozen; each contract is
// announced to the others, who observe it; some are abandoned by their
// creator and adopted by another process, which then stops them.
//
// Checked (each process checks its contracts as it is done with them;
// main adds everything up and pairs hand-offs with adoptions):
//   - every contract gets exactly one pr_empty at its (final) holder, and
//     one at every process that managed to observe it;
//   - per contract held from birth: pr_exit count == pr_fork count, and
//     the tree's known shape (forks, cores, signals) where no pr_lost came;
//   - resources: fds and RSS of every process after a warm-up vs at the
//     end, contract directories, keepers and processes in the jail.
const path = require('path');
const cp = require('child_process');
const util = require('util');
const common = require('./common');

function parseArgs(argv) {
  const { values: v } = util.parseArgs({ args: argv, options: {
    minutes: { type: 'string', short: 'm', default: '2' },
    peers: { type: 'string', default: '3' },
    spawn: { type: 'string' },
    peer: { type: 'boolean', default: false },
  } });
  const o = { minutes: Number(v.minutes), peers: Number(v.peers),
    peer: v.peer, spawn: v.spawn };
  if (!(o.minutes > 0)) throw new Error('--minutes must be > 0');
  return o;
}

// Every contract gets a cookie of its own (pid, sequence): contract ids
// are reused once a directory is gone, the cookie tells contracts apart.
const TEMPLATE = {
  type: 'process',
  critical: { pr_empty: true },
  informative: { pr_fork: true, pr_exit: true, pr_core: true, pr_signal: true },
};
let seq = 0;
function nextCookie() {
  return String((BigInt(process.pid) << 32n) + BigInt(++seq));
}

// The workload of one process (main or peer).  send(msg) reaches the other
// processes (through main); returns {start(), finish(), onMessage(msg)}.
function workload({ role, send, maxLive }) {
  const fs = require('fs');
  const ct = require(path.join(__dirname, '..', '..'));
  const root = process.env.ILLUMOS_CONTRACT_ROOT;
  const me = process.pid;
  // Aggregates only (a soak makes 100,000s of contracts): per-contract
  // checks are made here, when a contract is done with; what goes to main
  // is sums, the keys of hand-offs (to pair them up), and problems.
  const agg = { contracts: 0, pr_fork: 0, pr_exit: 0, pr_core: 0, pr_signal: 0,
    pr_empty: 0, pr_lost: 0, lostContracts: 0, shapeChecked: 0, mismatches: 0,
    expect: { pr_fork: 0, pr_exit: 0, pr_core: 0, pr_signal: 0 },
    got: { pr_fork: 0, pr_exit: 0, pr_core: 0, pr_signal: 0 },
    holderExpected: 0, observes: 0, obsEmpties: 0 };
  const handedOff = []; // cookies we abandoned for another process
  const adoptedKeys = []; // cookies we adopted
  const openRecs = new Map(); // record -> its Contract, until done with
  const problems = [];
  const counts = { created: 0, handoffsOut: 0, adopts: 0, adoptFailed: 0,
    observes: 0, observeMissed: 0, observeENOENT: 0, observeReused: 0,
    stops: 0, forced: 0, freezes: 0, lostEvents: 0 };
  let live = 0;
  let stopping = false;
  const inflight = new Set();
  const { setTimeout: sleep } = require('timers/promises');
  const R = Math.random;

  function track(p) {
    inflight.add(p);
    p.catch((e) => problems.push(`${role}: ${e.stack || e}`))
      .finally(() => inflight.delete(p));
    return p;
  }

  function onceEvent(c, name, ms) {
    return common.onceWithin(c, name, ms,
      `${role}: no ${name} from contract ${c.ctid} within ${ms} ms`);
  }
  async function until(cond, ms, what) {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) {
        throw new Error(`${role}: timed out waiting for ${typeof what === 'function'
          ? what() : what}`);
      }
      await sleep(5);
    }
  }
  // Waiting for a tree of ours to be up; on a timeout, what we see of it.
  function treeUp(c, n, exact) {
    return until(() => {
      const m = c.status().pr_members.length;
      return exact ? m === n : m >= n;
    }, 10000, () => {
      let st = null;
      try { st = c.status(); } catch (err) { st = err.code; }
      let procs = null;
      try {
        procs = fs.readFileSync(path.join(root, String(c.ctid), 'cgroup.procs'), 'utf8')
          .trim().split('\n').join(' ');
      } catch (err) { procs = err.code; }
      return `the tree of ${c.ctid}: status ${JSON.stringify(st && { state: st.state,
        holder: st.holder, members: st.pr_members, cookie: st.cookie })}; cgroup.procs: ` +
        `${procs}; this process had under id ${c.ctid}: ` +
        `${JSON.stringify(history.get(c.ctid))}`;
    });
  }

  // Which contracts this process had under each id (ids are reused).
  const history = new Map(); // ctid -> [{cookie, as, open}]
  function opened(c, cookie, as) {
    const h = { cookie, as, open: true };
    let list = history.get(c.ctid);
    if (list === undefined) {
      history.set(c.ctid, list = []);
      if (history.size > 5000) history.delete(history.keys().next().value);
    }
    list.push(h);
    if (list.length > 4) list.shift();
    return () => { h.open = false; };
  }

  // pr_empty of c within ms; on a timeout, say what c and its directory
  // look like, and what else this process had under that id.  Never an
  // unhandled rejection, even when awaited late.
  function emptied(c, ms, what) {
    const p = onceEvent(c, 'pr_empty', ms).catch((e) => {
      let st = null;
      try { st = c.status(); } catch (err) { st = err.code; }
      let events = null;
      try {
        events = fs.readFileSync(path.join(root, String(c.ctid), 'cgroup.events'), 'utf8')
          .replace(/\n/g, ' ');
      } catch (err) { events = err.code; }
      throw new Error(`${e.message} (${what}); status ${JSON.stringify(st && {
        state: st.state, holder: st.holder, members: st.pr_members, frozen: st.frozen,
        lost: st.lost, cookie: st.cookie })}; cgroup.events: ${events}; this process ` +
        `had under id ${c.ctid}: ${JSON.stringify(history.get(c.ctid))}`);
    });
    p.catch(() => {}); // reported where awaited
    return p;
  }

  // Count every event of c into rec (held: acks critical ones).
  function count(c, rec, held) {
    for (const n of ['pr_fork', 'pr_exit', 'pr_core', 'pr_signal', 'pr_empty', 'pr_lost']) {
      c.on(n, (ev) => {
        rec[n] = (rec[n] || 0) + 1;
        if (n === 'pr_signal') {
          (rec.signals = rec.signals || []).push([ev.signal, ev.sender || 0]);
        }
        if (n === 'pr_lost') counts.lostEvents++;
        if (held && !ev.flags.info) {
          try { c.ack(ev.evid); } catch (e) {
            problems.push(`${role}: ack of ${ev.type} ${ev.evid} of ${c.ctid}: ${e.code}`);
          }
        }
      });
    }
  }

  function newRecord(c, kind, adopted, cookie) {
    const rec = { key: cookie, ctid: c.ctid, kind, holder: me, adopted: Boolean(adopted),
      handedOff: false, pr_fork: 0, pr_exit: 0, pr_core: 0, pr_signal: 0,
      pr_empty: 0, pr_lost: 0, expect: {} };
    openRecs.set(rec, c);
    count(c, rec, true);
    return rec;
  }

  // A contract we held is done with: check it, add it up, forget it.
  function finalize(rec) {
    if (!openRecs.delete(rec)) return;
    const what = `contract ${rec.ctid} (${rec.kind}, cookie ${rec.key})`;
    agg.contracts++;
    for (const k of ['pr_fork', 'pr_exit', 'pr_core', 'pr_signal', 'pr_empty', 'pr_lost']) {
      agg[k] += rec[k];
    }
    if (rec.handedOff) { // its pr_empty is the adopter's
      handedOff.push(rec.key);
      return;
    }
    agg.holderExpected++;
    if (rec.adopted) adoptedKeys.push(rec.key);
    if (rec.pr_empty !== 1) problems.push(`${what}: ${rec.pr_empty} pr_empty at its holder`);
    if (rec.pr_lost > 0) {
      agg.lostContracts++;
      return;
    }
    if (rec.adopted) {
      if (rec.pr_exit < rec.expect.pr_exit) {
        agg.mismatches++;
        problems.push(`${what}: ${rec.pr_exit} pr_exit for ${rec.expect.pr_exit} members`);
      }
      return;
    }
    if (rec.pr_fork !== rec.pr_exit) {
      agg.mismatches++;
      problems.push(`${what}: ${rec.pr_fork} pr_fork, ${rec.pr_exit} pr_exit`);
    }
    const e = rec.expect;
    if (e.pr_fork === undefined) return;
    agg.shapeChecked++;
    for (const k of ['pr_fork', 'pr_exit', 'pr_core', 'pr_signal']) {
      agg.expect[k] += e[k];
      agg.got[k] += rec[k];
      if (rec[k] !== e[k]) problems.push(`${what}: ${rec[k]} ${k}, expected ${e[k]}`);
    }
    if (e.sig && !(rec.signals || []).every(([sg, from]) => sg === e.sig && from === me)) {
      problems.push(`${what}: signals ${JSON.stringify(rec.signals)}, expected ` +
        `${e.sig} from ${me}`);
    }
  }

  function close(c, rec) {
    try { c.dispose(); } catch { /* disposed already */ }
    finalize(rec);
  }

  function spawnTree(kind, script) {
    const cookie = nextCookie();
    const { child, contract } = ct.spawn('sh', ['-c', script],
      { stdio: 'ignore', template: { ...TEMPLATE, cookie } });
    child.on('error', (e) => problems.push(`${role}: spawn ${kind}: ${e.code}`));
    counts.created++;
    const rec = newRecord(contract, kind, false, cookie);
    const closed = opened(contract, cookie, 'created');
    const dispose = contract.dispose.bind(contract);
    contract.dispose = () => { closed(); dispose(); };
    send({ type: 'observe', ctid: contract.ctid, cookie });
    return { child, c: contract, rec };
  }

  // ---- scenarios: each resolves once its contract is disposed ----

  async function tree() {
    const k = 1 + Math.floor(R() * 6);
    const { c, rec } = spawnTree('tree', `i=0; while [ $i -lt ${k} ]; do ` +
      `sleep 0.0${Math.floor(R() * 10)} & i=$((i+1)); done; wait`);
    rec.expect = { pr_fork: k + 1, pr_exit: k + 1, pr_core: 0, pr_signal: 0 };
    await emptied(c, 30000, 'tree');
    close(c, rec);
  }

  async function core() {
    const { c, rec } = spawnTree('core',
      'ulimit -c 0; sleep 0.05 & kill -SEGV $$');
    rec.expect = { pr_fork: 2, pr_exit: 2, pr_core: 1, pr_signal: 0 };
    await emptied(c, 30000, 'core');
    close(c, rec);
  }

  async function signal() {
    const { c, rec } = spawnTree('signal', 'sleep 100 & sleep 100 & wait');
    await treeUp(c, 3, true);
    const empty = emptied(c, 30000, 'signal');
    c.sigsend('SIGTERM');
    rec.expect = { pr_fork: 3, pr_exit: 3, pr_core: 0, pr_signal: 3, sig: 15 };
    await empty;
    close(c, rec);
  }

  async function stop() {
    const { c, rec } = spawnTree('stop',
      'trap "" TERM; sleep 100 & sleep 100 & wait');
    await treeUp(c, 3, true);
    // The trap is set once the shell forked (it runs first).
    const empty = emptied(c, 30000, 'stop');
    const r = await c.stop({ timeout: 100 + Math.floor(R() * 200) });
    counts.stops++;
    if (r.forced) counts.forced++;
    else problems.push(`${role}: stop of ${c.ctid} needed no SIGKILL`);
    rec.expect = { pr_fork: 3, pr_exit: 3, pr_core: 0, pr_signal: 3, sig: 9 };
    await empty;
    close(c, rec);
  }

  async function freeze() {
    const { c, rec } = spawnTree('freeze', 'while :; do sleep 0.02; done');
    await treeUp(c, 2, false);
    await c.freeze();
    if (c.status().frozen !== true) problems.push(`${role}: ${c.ctid} not frozen`);
    await sleep(20);
    await c.thaw();
    counts.freezes++;
    if (R() < 0.5) await c.freeze(); // stop() of a frozen tree too
    const empty = emptied(c, 30000, 'freeze');
    const r = await c.stop({ timeout: 2000 });
    counts.stops++;
    if (r.forced) counts.forced++;
    await empty;
    close(c, rec);
  }

  // Abandon a tree for another process to adopt and stop.
  async function handoff() {
    const { c, rec } = spawnTree('handoff', 'sleep 100 & sleep 100 & wait');
    await treeUp(c, 3, true);
    c.abandon();
    rec.handedOff = true;
    counts.handoffsOut++;
    send({ type: 'adopt', ctid: c.ctid, cookie: rec.key });
    close(c, rec);
  }

  async function adopt(ctid, cookie) {
    let c;
    try {
      c = ct.adopt(ctid);
    } catch (e) {
      counts.adoptFailed++;
      problems.push(`${role}: adopt(${ctid}): ${e.code} ${e.message}`);
      return;
    }
    counts.adopts++;
    if (c.status().cookie !== cookie) {
      problems.push(`${role}: adopt(${ctid}) took another contract (cookie ` +
        `${c.status().cookie}, not ${cookie})`);
    }
    const rec = newRecord(c, 'adopted', true, cookie);
    const closed = opened(c, cookie, 'adopted');
    rec.expect = { pr_exit: 3 };
    const empty = emptied(c, 30000, 'adopted');
    const r = await c.stop({ timeout: 2000 });
    counts.stops++;
    if (r.forced) counts.forced++;
    await empty;
    close(c, rec);
    closed();
  }

  async function observe(ctid, cookie) {
    let c;
    try {
      c = ct.observe(ctid);
    } catch (e) {
      counts.observeMissed++; // gone already: nothing to count
      // Gone while we opened it: the id is no contract any more (ESRCH),
      // though a race with the removal gives ENOENT.
      if (e.code === 'ENOENT') counts.observeENOENT++;
      else if (e.code !== 'ESRCH') problems.push(`${role}: observe(${ctid}): ${e.code}`);
      return;
    }
    counts.observes++;
    let actual = null;
    try { actual = c.status().cookie; } catch {}
    const closed = opened(c, actual, 'observed');
    const rec = { ctid, cookie, reused: actual !== cookie, empties: 0 };
    if (rec.reused) counts.observeReused++; // the id names a newer contract
    agg.observes++;
    c.on('pr_empty', () => rec.empties++);
    try {
      await onceEvent(c, 'pr_empty', 20000).catch((e) => {
        // What the observer sees then, and what is on disk.
        let st = null;
        try { st = c.status(); } catch (err) { st = err.code; }
        let events = null;
        try {
          events = fs.readFileSync(path.join(root, String(ctid), 'cgroup.events'), 'utf8')
            .replace(/\n/g, ' ');
        } catch (err) { events = err.code; }
        throw new Error(`${e.message}; status ${JSON.stringify(st && {
          state: st.state, members: st.pr_members, frozen: st.frozen, lost: st.lost,
          cookie: st.cookie })}; cgroup.events: ${events}; this process had under ` +
          `id ${ctid}: ${JSON.stringify(history.get(ctid))}`);
      });
      // Later events for it would arrive before this barrier resolves.
      await sleep(50);
    } finally {
      c.dispose();
      closed();
      agg.obsEmpties += rec.empties;
      if (rec.empties !== 1) {
        problems.push(`observer of ${ctid}${rec.reused ? ' (the id of a newer contract by ' +
          'then)' : ''}: ${rec.empties} pr_empty`);
      }
    }
  }

  const SCENARIOS = role === 'main'
    ? [[tree, 30], [core, 15], [signal, 15], [stop, 10], [freeze, 8], [handoff, 10]]
    : [[tree, 30], [core, 15], [signal, 10], [stop, 5], [freeze, 5], [handoff, 10]];
  const TOTAL = SCENARIOS.reduce((a, [, w]) => a + w, 0);
  function pickScenario() {
    let r = R() * TOTAL;
    for (const [fn, w] of SCENARIOS) {
      r -= w;
      if (r < 0) return fn;
    }
    return tree;
  }

  function launch(fn) {
    live++;
    return track(fn().finally(() => { live--; }));
  }

  async function loop() {
    while (!stopping) {
      if (live < maxLive) launch(pickScenario());
      await sleep(live < maxLive ? 2 + Math.floor(R() * 20) : 5);
    }
  }

  function onMessage(msg) {
    if (msg.type === 'observe') track(observe(msg.ctid, msg.cookie));
    else if (msg.type === 'adopt') track(adopt(msg.ctid, msg.cookie));
  }

  function measure() {
    return { fds: common.fdCount(), rssMB: common.rssMB(),
      heapMB: process.memoryUsage().heapUsed / 1048576 };
  }

  // One whole scenario, then nothing held and the keeper gone: what stays
  // open for good (event sources, libuv's signal pipe) is open for the
  // baseline.
  async function prewarm() {
    await tree();
    await until(() => common.keepersOf(me).length === 0, 10000, 'our keeper to leave');
    await until(() => !common.fdList().some((f) => f.includes('[pidfd]')), 5000,
      "the keeper's pidfd to close");
    for (let i = 0; i < 3; i++) {
      if (global.gc) global.gc();
      await sleep(20);
    }
    return measure();
  }

  let looping = null;
  return {
    prewarm,
    start() { looping = loop(); },
    stopCreating() { stopping = true; },
    // Resolves when none of our own scenarios runs any more: from then on
    // we send no announcement or hand-off.
    async quiet() {
      stopping = true;
      await looping;
      const deadline = Date.now() + 90000;
      while (live > 0 && Date.now() < deadline) await sleep(20);
      if (live > 0) problems.push(`${role}: ${live} scenarios never ended`);
    },
    async finish() {
      stopping = true;
      await looping;
      const deadline = Date.now() + 90000;
      while (inflight.size > 0 && Date.now() < deadline) await sleep(20);
      if (inflight.size > 0) problems.push(`${role}: ${inflight.size} scenarios never ended`);
      // What a failed scenario left open: killed, disposed and counted now.
      for (const [rec, c] of [...openRecs]) {
        try { c.sigsend(9); } catch { /* empty, or not ours any more */ }
        try {
          require('fs').writeFileSync(path.join(root, String(rec.ctid), 'cgroup.kill'), '1');
        } catch { /* gone */ }
        close(c, rec);
      }
      // Nothing held any more: the keeper leaves ~2 s later.
      try {
        await until(() => common.keepersOf(me).length === 0, 10000, 'our keeper to leave');
        await until(() => !common.fdList().some((f) => f.includes('[pidfd]')), 5000,
          "the keeper's pidfd to close");
      } catch (e) {
        problems.push(e.message);
      }
      for (let i = 0; i < 3; i++) {
        if (global.gc) global.gc();
        await sleep(20);
      }
    },
    measure,
    onMessage,
    report() {
      return { role, pid: me, agg, handedOff, adoptedKeys, problems, counts };
    },
    root,
  };
}

// ---- a peer: runs a workload, talks to main over IPC ----

let finishing = false;

async function peer() {
  // Main gone (it crashed?): nothing to report to, stop at once.
  process.on('disconnect', () => {
    if (!finishing) process.exit(3);
  });
  const w = workload({ role: `peer ${process.pid}`, maxLive: 4,
    send: (m) => { if (process.connected) process.send(m); } });
  let start = null;
  const queued = [];
  let going = false;
  process.on('message', async (msg) => {
    if (msg.type === 'go') {
      going = true;
      for (const m of queued.splice(0)) w.onMessage(m);
      w.start();
    } else if (msg.type === 'stop-creating') {
      await w.quiet();
      process.send({ type: 'quiet' });
    } else if (msg.type === 'finish') {
      finishing = true;
      await w.finish();
      process.send({ type: 'report', report: { ...w.report(), start, end: w.measure() } },
        () => process.disconnect()); // then exit by itself (main checks)
    } else if (going) {
      w.onMessage(msg);
    } else {
      queued.push(msg); // not during the baseline
    }
  });
  start = await w.prewarm();
  process.send({ type: 'ready' });
}

// ---- main ----

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.peer) return peer();
  const peers = [];
  const jail = common.makeJail('soak');
  // Whatever happens to this process, nothing stays behind.
  process.on('exit', () => {
    for (const p of peers) if (p.exitCode === null) p.kill('SIGKILL');
    common.removeJail(jail);
  });
  process.env.ILLUMOS_CONTRACT_ROOT = jail.root;
  if (opts.spawn) process.env.ILLUMOS_CONTRACT_SPAWN = opts.spawn;
  const t0 = Date.now();
  const { setTimeout: sleep } = require('timers/promises');
  let exitCode = 0;
  try {
    for (let i = 0; i < opts.peers; i++) {
      const env = { ...process.env };
      delete env.NODE_TEST_CONTEXT;
      const p = cp.spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"',
        jail.run, process.execPath, '--expose-gc', '--max-semi-space-size=1',
        __filename, '--peer'], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      p.exited = new Promise((r) => p.on('exit', (code, sig) => r({ code, sig })));
      p.on('error', (e) => console.error(`peer ${p.pid}: ${e.message}`)); // EPIPE
      peers.push(p);
    }
    const w = workload({ role: 'main', maxLive: 8, send: (m) => {
      const others = peers.filter((p) => p.connected);
      if (m.type === 'adopt') { // one adopter, at random
        if (others.length) others[Math.floor(Math.random() * others.length)].send(m);
        else w.onMessage(m); // no peer: adopt it back ourselves
      } else {
        for (const p of others) p.send(m);
      }
    } });
    // Peers' messages: announcements go to everyone else, main included.
    const reports = [];
    let quiet = 0;
    let ready = 0;
    for (const p of peers) {
      p.on('message', (m) => {
        if (m.type === 'report') {
          reports.push(m.report);
          return;
        }
        if (m.type === 'ready') {
          ready++;
          return;
        }
        if (m.type === 'quiet') {
          quiet++;
          return;
        }
        const others = peers.filter((q) => q !== p && q.connected);
        if (m.type === 'adopt') {
          const all = [null, ...others]; // null: main adopts
          const to = all[Math.floor(Math.random() * all.length)];
          if (to === null) w.onMessage(m);
          else to.send(m);
        } else {
          w.onMessage(m);
          for (const q of others) q.send(m);
        }
      });
    }
    const resources = () => ({ dirs: common.contractDirs(jail.root).length,
      keepers: common.keepersOf().filter((k) => {
        try {
          return require('fs').readFileSync(`/proc/${k}/cmdline`, 'utf8')
            .split('\0')[1] === jail.root;
        } catch {
          return false;
        }
      }).length,
      processes: common.processesUnder(jail.dir).length });
    console.log(`soak: ${opts.minutes} min, main ${process.pid} + ${opts.peers} peers ` +
      `(${peers.map((p) => p.pid).join(' ')}), root ${jail.root}`);
    // Every process warms up (one contract, then the keeper gone) and
    // takes its baseline; then all start together.
    // Main's fds at the start include one IPC channel per peer, closed at
    // the end: not counted.
    const startMain = await w.prewarm();
    startMain.fds -= peers.length;
    const rdeadline = Date.now() + 30000;
    while (ready < peers.length && Date.now() < rdeadline) await sleep(20);
    const startRes = resources();
    for (const p of peers) p.send({ type: 'go' });
    w.start();
    const before = startRes;
    const t1 = Date.now();
    const end = t1 + opts.minutes * 60000;
    let last = Date.now();
    while (Date.now() < end) {
      await sleep(1000);
      if (Date.now() - last >= 30000) {
        last = Date.now();
        const r = w.report();
        console.log(`  ${((Date.now() - t0) / 1000).toFixed(0)} s: main created ` +
          `${r.counts.created}, ${JSON.stringify(resources())}`);
      }
    }
    // Stop creating everywhere, then let every process finish its
    // scenarios (adoptions and observations of others' trees included).
    const stopAt = Date.now();
    // Two phases: once no process runs a scenario of its own, nobody
    // announces or hands off anything more; then all finish adopting and
    // observing, and report.
    for (const p of peers) if (p.connected) p.send({ type: 'stop-creating' });
    await w.quiet();
    const qdeadline = Date.now() + 120000;
    while (quiet < peers.length && Date.now() < qdeadline) await sleep(20);
    for (const p of peers) if (p.connected) p.send({ type: 'finish' });
    await w.finish();
    // A peer exits by itself once it reported (nothing may hold its event
    // loop); after 20 s it is killed and that is a problem.
    const problems = [];
    const lateness = new AbortController();
    const late = sleep(20000, null, { signal: lateness.signal })
      .catch(() => null);
    const exits = await Promise.all(peers.map((p) => Promise.race([p.exited, late])));
    lateness.abort();
    // Main's own end, with the peers' IPC channels closed as at the start.
    const endMain = w.measure();
    reports.push({ ...w.report(), start: startMain, end: endMain });
    for (const [i, p] of peers.entries()) {
      if (exits[i] === null) {
        problems.push(`peer ${p.pid} did not exit by itself within 20 s of reporting`);
        p.kill('SIGKILL');
        exits[i] = await p.exited;
        continue;
      }
      if (exits[i].sig) problems.push(`peer ${p.pid} died of ${exits[i].sig}`);
      else if (exits[i].code !== 0) problems.push(`peer ${p.pid} exited ${exits[i].code}`);
    }
    // The holders are gone: so are their keepers, at once.
    await common.until(() => peers.every((p) => common.keepersOf(p.pid).length === 0),
      3000, 'keepers').catch(() => {});
    for (const p of peers) {
      if (common.keepersOf(p.pid).length) problems.push(`peer ${p.pid}'s keeper is still there`);
    }
    if (reports.length !== peers.length + 1) {
      problems.push(`${reports.length} reports from ${peers.length + 1} processes`);
    }
    await common.until(() => common.processesUnder(jail.dir).filter(
      (x) => x.pid !== process.pid).length === 0, 5000, 'the jail to empty').catch(() => {});
    const endRes = resources();

    // ---- accounting ----
    const A = { contracts: 0, pr_fork: 0, pr_exit: 0, pr_core: 0, pr_signal: 0,
      pr_empty: 0, pr_lost: 0, lostContracts: 0, shapeChecked: 0, mismatches: 0,
      holderExpected: 0, observes: 0, obsEmpties: 0,
      expect: { pr_fork: 0, pr_exit: 0, pr_core: 0, pr_signal: 0 },
      got: { pr_fork: 0, pr_exit: 0, pr_core: 0, pr_signal: 0 } };
    const counts = {};
    const handed = new Map();
    const adoptedBy = new Map();
    for (const r of reports) {
      problems.push(...r.problems);
      for (const [k, v] of Object.entries(r.counts)) counts[k] = (counts[k] || 0) + v;
      for (const [k, v] of Object.entries(r.agg)) {
        if (typeof v === 'number') A[k] += v;
        else for (const [kk, vv] of Object.entries(v)) A[k][kk] += vv;
      }
      for (const key of r.handedOff) handed.set(key, (handed.get(key) || 0) + 1);
      for (const key of r.adoptedKeys) adoptedBy.set(key, (adoptedBy.get(key) || 0) + 1);
    }
    // Every contract handed off was adopted by exactly one process.
    for (const [key, n] of handed) {
      if (adoptedBy.get(key) !== n) {
        problems.push(`handed-off contract (cookie ${key}) adopted ${adoptedBy.get(key) || 0} times`);
      }
    }
    for (const key of adoptedBy.keys()) {
      if (!handed.has(key)) problems.push(`adopted contract (cookie ${key}) was never handed off`);
    }
    const created = reports.reduce((a, r) => a + r.counts.created, 0);

    const secs = (Date.now() - t0) / 1000;
    const fmt = (o) => ['pr_fork', 'pr_exit', 'pr_core', 'pr_signal']
      .map((k) => `${k} ${A.got[k]}/${A.expect[k]}`).join(', ');
    console.log(`\nsoak: ${secs.toFixed(0)} s, ${reports.length} processes`);
    console.log(`  contracts created ${created} (${reports.map((r) =>
      `${r.role.split(' ')[0]} ${r.counts.created}`).join(', ')}), held to the end ` +
      `by their creator or an adopter: ${A.holderExpected}`);
    console.log(`  pr_empty at the (final) holder: expected ${A.holderExpected} (one per ` +
      `contract), delivered ${A.pr_empty}`);
    console.log(`  per contract pr_fork == pr_exit: ${A.mismatches} mismatches; ` +
      `${A.lostContracts} contracts saw pr_lost (${counts.lostEvents} pr_lost events)`);
    console.log(`  all held contracts: pr_fork ${A.pr_fork}, pr_exit ${A.pr_exit}, ` +
      `pr_core ${A.pr_core}, pr_signal ${A.pr_signal}, pr_empty ${A.pr_empty}`);
    console.log(`  ${A.shapeChecked} trees of known shape: ${fmt()} (delivered/expected)`);
    console.log(`  handoffs: abandoned ${counts.handoffsOut}, adopted ${counts.adopts}, ` +
      `adopt failures ${counts.adoptFailed}`);
    console.log(`  observers: opened ${A.observes} (missed ${counts.observeMissed}, ` +
      `already gone, ${counts.observeENOENT} of them ENOENT rather than ESRCH; ` +
      `${counts.observeReused} found a newer contract under the id), pr_empty expected ` +
      `${A.observes}, delivered ${A.obsEmpties}`);
    console.log(`  stops ${counts.stops} (forced ${counts.forced}), freeze/thaw ${counts.freezes}`);
    console.log('  resources            start        end');
    for (const r of reports) {
      console.log(`  ${r.role.padEnd(11)} fds ${String(r.start && r.start.fds).padStart(5)} ` +
        `${String(r.end.fds).padStart(10)}   RSS ${r.start ? r.start.rssMB.toFixed(1) : '?'} ` +
        `-> ${r.end.rssMB.toFixed(1)} MB, heap ${r.start ? r.start.heapMB.toFixed(1) : '?'} ` +
        `-> ${r.end.heapMB.toFixed(1)} MB`);
      if (r.start && r.end.fds !== r.start.fds) {
        problems.push(`${r.role}: fds ${r.start.fds} -> ${r.end.fds}`);
      }
      if (r.start && r.end.rssMB - r.start.rssMB > 30) {
        problems.push(`${r.role}: RSS grew ${(r.end.rssMB - r.start.rssMB).toFixed(1)} MB`);
      }
    }
    console.log(`  root at start / at the end: contract dirs ${before.dirs} / ` +
      `${endRes.dirs}; keepers ${before.keepers} / ${endRes.keepers}; processes in the ` +
      `jail ${before.processes} (the peers) / ${endRes.processes}; workload ran ` +
      `${((stopAt - t1) / 1000).toFixed(0)} s`);
    if (endRes.dirs !== 0) problems.push(`${endRes.dirs} contract directories left`);
    if (endRes.keepers !== 0) problems.push(`${endRes.keepers} keepers left`);
    if (endRes.processes !== 0) problems.push(`${endRes.processes} processes left in the jail`);
    if (problems.length) {
      // Grouped by kind (numbers and cookies blanked out), with examples.
      const groups = new Map();
      for (const p of problems) {
        const kind = p.split('\n')[0].replace(/(peer|main) \d+/g, '$1 N')
          .replace(/\d+/g, 'N').replace(/status \{.*/, '...').slice(0, 140);
        if (!groups.has(kind)) groups.set(kind, []);
        groups.get(kind).push(p.split('\n')[0]);
      }
      console.log(`soak: FAIL, ${problems.length} problem(s) of ${groups.size} kind(s)`);
      for (const [kind, list] of groups) {
        console.log(`  - ${list.length} x ${kind}`);
        for (const ex of list.slice(0, 3)) console.log(`      e.g. ${ex.slice(0, 700)}`);
      }
      exitCode = 1;
    } else {
      console.log('soak: PASS');
    }
  } finally {
    for (const p of peers) if (p.exitCode === null) p.kill('SIGKILL');
    common.removeJail(jail);
  }
  process.exitCode = exitCode;
  // Everything was disposed: nothing may hold the event loop.
  setTimeout(() => {
    console.log('soak: main did not exit by itself: something holds its event loop');
    process.exit(exitCode || 1);
  }, 10000).unref();
}

if (common.isMain(module)) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 2;
  });
}
