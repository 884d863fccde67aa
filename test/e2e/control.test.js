'use strict';
// Whole-tree control (docs/api.md, "Extensions"): stop with escalation,
// freeze/thaw, usage, run() (its timeout and abort: run.test.js), list().
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('ctl');
const ct = require('../..');

function spawnIn(script) {
  const { child, contract } = ct.spawn('sh', ['-c', script],
    { stdio: 'ignore' });
  return { child, c: contract };
}

async function members(c, n) {
  await h.until(() => c.status().pr_members.length >= n, 5000, `${n} members`);
  return c.status().pr_members;
}

const { sleepers } = h;

const reaper = process.env.ILLUMOS_CONTRACT_MEMBERSHIP === 'reaper';

test('features report freeze and usage', () => {
  const f = ct.features;
  // Reaper membership has no freezer (docs/linux.md, "Membership: cgroup or reaper").
  assert.strictEqual(f.freeze, !reaper);
  assert.strictEqual(f.usage, true);
  assert.strictEqual(typeof f.memory, 'boolean');
  assert.strictEqual(f.holderDeath, true, 'ct-keeper is installed');
});

test('stop() of a cooperative tree needs no SIGKILL', async () => {
  const { c } = spawnIn('(setsid sleep 100 &); sleep 100 & sleep 100');
  const pids = await members(c, 3);
  assert.deepStrictEqual(await c.stop({ timeout: h.ms(5000) }), { forced: false });
  assert.ok(pids.every((p) => !h.alive(p)));
  assert.deepStrictEqual(c.status().pr_members, []);
  c.dispose();
});

test('stop() escalates to SIGKILL for members that ignore SIGTERM', async () => {
  const { c } = spawnIn('trap "" TERM; (setsid sh -c \'trap "" TERM; ' +
    'while :; do sleep 1; done\' &); while :; do sleep 1; done');
  const pids = await sleepers(c, 2);
  const t0 = Date.now();
  assert.deepStrictEqual(await c.stop({ timeout: 300 }), { forced: true });
  assert.ok(Date.now() - t0 >= 290, 'waited for the timeout first');
  for (const p of pids) assert.ok(!h.alive(p), `pid ${p} gone`);
  c.dispose();
});

test('stop() of an empty contract resolves at once', async () => {
  const { c } = spawnIn('exit 0');
  await h.once(c, 'pr_empty');
  assert.deepStrictEqual(await c.stop(), { forced: false });
  c.dispose();
});

test('concurrent stop() calls share one escalation', async () => {
  const { c } = spawnIn('trap "" TERM; while :; do sleep 1; done');
  await sleepers(c, 1);
  const a = c.stop({ timeout: 200 });
  const b = c.stop({ timeout: 60000 });
  assert.strictEqual(a, b);
  assert.deepStrictEqual(await b, { forced: true });
  c.dispose();
});

test('stop() checks its options', () => {
  const { c } = spawnIn('exit 0');
  assert.throws(() => c.stop(null), (e) => e.code === 'ERR_INVALID_ARG_TYPE');
  assert.throws(() => c.stop({ timeout: -1 }),
    (e) => e.code === 'ERR_OUT_OF_RANGE');
  assert.throws(() => c.stop({ signal: 'SIGBOGUS' }),
    (e) => e.code === 'ERR_UNKNOWN_SIGNAL');
  c.dispose();
  assert.throws(() => c.stop(), (e) => e.code === 'ERR_CONTRACT_DISPOSED');
});

test('without a freezer, freeze() and thaw() reject with ENOTSUP', { skip: !reaper },
  async () => {
    const { c } = spawnIn('sleep 100');
    await members(c, 1);
    await assert.rejects(c.freeze(), (e) => e.code === 'ENOTSUP');
    await assert.rejects(c.thaw(), (e) => e.code === 'ENOTSUP');
    assert.deepStrictEqual(await c.stop({ timeout: h.ms(5000) }), { forced: false });
    c.dispose();
  });

test('freeze() stops every member until thaw()', { skip: reaper }, async (t) => {
  const log = path.join(os.tmpdir(), `ict-freeze-${process.pid}`);
  t.after(() => fs.rmSync(log, { force: true }));
  fs.writeFileSync(log, '');
  // A member (a setsid grandchild) printing every 10 ms.
  const { c } = spawnIn(`(setsid sh -c 'while :; do echo x >> ${log}; ` +
    'sleep 0.01; done\' &); sleep 100');
  await members(c, 3);
  await h.until(() => fs.statSync(log).size > 0, 5000, 'output');
  await c.freeze();
  assert.strictEqual(c.status().frozen, true);
  const size = fs.statSync(log).size;
  await new Promise((r) => setTimeout(r, 200)); // observe the silence
  assert.strictEqual(fs.statSync(log).size, size, 'nothing printed frozen');
  await c.freeze(); // already frozen: resolves too
  await c.thaw();
  assert.strictEqual(c.status().frozen, false);
  await h.until(() => fs.statSync(log).size > size, 5000, 'output again');
  // stop() of a frozen tree: the signal is delivered after a thaw.
  await c.freeze();
  assert.deepStrictEqual(await c.stop({ timeout: h.ms(5000) }), { forced: false });
  c.dispose();
  fs.rmSync(log, { force: true });
});

// A member (or anyone of our uid) may SIGKILL the anchor: the contract can
// then never be seen empty.  What waits for empty must settle, with
// EOWNERDEAD, and the loop must not stay held.

// The members that are sleepers (a subshell that forks one comes and goes).
async function sleeping(c, n) {
  const comm = (p) => {
    try { return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim(); } catch {
      return '';
    }
  };
  return (await sleepers(c, n)).filter((p) => comm(p) === 'sleep');
}

// /proc/<pid>/stat's state and parent, or null once it is gone (reaped).
function procStat(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]
      .split(' ');
    return { state: f[0], ppid: Number(f[1]) };
  } catch {
    return null;
  }
}

// A member that kills its anchor (docs/security.md, "A killed anchor"):
// the tree comes back to the holder (a child subreaper), which stops it,
// lists it and kills it on stop(); before, it ran on under init, out of
// reach of stop(), noorphan and the keeper.
test('a killed anchor: stop(), whenEmpty() and await using settle with ' +
  'EOWNERDEAD, and the tree is held and killed', { skip: !reaper },
async () => {
  // The program, a setsid daemon and a double-forked one.
  const { child, c } = spawnIn('setsid sleep 100 & (sleep 100 &); ' +
    'exec sleep 100');
  const pids = await sleeping(c, 3);
  const anchor = procStat(child.pid).ppid;
  assert.notStrictEqual(anchor, process.pid, 'the program has an anchor');
  try {
    const lost = h.once(c, 'pr_lost');
    const waiting = c.whenEmpty();
    process.kill(anchor, 'SIGKILL');
    await lost;
    await assert.rejects(waiting, (e) => e.code === 'EOWNERDEAD' &&
      e.errno === os.constants.errno.EOWNERDEAD && e.ctid === c.ctid);
    // Held: stopped where they are, every one ours or a member's child.
    for (const pid of pids) {
      const st = procStat(pid);
      assert.ok(st !== null, `member ${pid} runs`);
      assert.strictEqual(st.state, 'T', `member ${pid} is stopped`);
      assert.ok(st.ppid === process.pid || pids.includes(st.ppid),
        `member ${pid} came back to us (its parent ${st.ppid})`);
    }
    assert.deepStrictEqual(c.members().map((m) => m.pid).sort(),
      pids.slice().sort(), 'members() lists the tree it held');
    await assert.rejects(c.stop(), (e) => e.code === 'EOWNERDEAD');
    await h.until(() => pids.every((pid) => procStat(pid) === null),
      5000, 'every member killed and reaped');
    await assert.rejects(c.whenEmpty(), (e) => e.code === 'EOWNERDEAD');
    await assert.rejects(c[Symbol.asyncDispose](),
      (e) => e.code === 'EOWNERDEAD');
    assert.throws(() => c.status(), (e) => e.code === 'ERR_CONTRACT_DISPOSED',
      'await using disposed it all the same');
  } finally {
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
});

// What comes back to the holder from outside any contract (a daemon of a
// plain child) is a stranger: never stopped, never signalled, reaped.
test('a killed anchor: a daemon of a child outside any contract is not ' +
  'taken for its tree', { skip: !reaper }, async () => {
  const plain = cp.spawn('sh', ['-c', 'setsid sleep 100 & echo $!'],
    { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = h.once(plain, 'exit');
  const stranger = Number(await new Promise((resolve) => {
    plain.stdout.once('data', resolve);
  }));
  await exited;
  const { child, c } = spawnIn('setsid sleep 100 & exec sleep 100');
  const pids = await sleeping(c, 2);
  try {
    await h.until(() => procStat(stranger)?.ppid === process.pid, 5000,
      'the stranger handed to us');
    const lost = h.once(c, 'pr_lost');
    process.kill(procStat(child.pid).ppid, 'SIGKILL');
    await lost;
    assert.strictEqual(procStat(pids[0]).state, 'T', 'the tree is held');
    await assert.rejects(c.stop(), (e) => e.code === 'EOWNERDEAD');
    await h.until(() => pids.every((pid) => procStat(pid) === null),
      5000, 'the tree killed');
    const st = procStat(stranger);
    assert.ok(st !== null && st.state === 'S', `the stranger runs on: ${
      JSON.stringify(st)}`);
    assert.ok(!c.members().some((m) => m.pid === stranger));
    process.kill(stranger, 'SIGKILL');
    await h.until(() => procStat(stranger) === null, 5000,
      'the stranger reaped by us');
  } finally {
    for (const pid of pids.concat(stranger)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    c.dispose();
  }
});

// run() of a tree whose anchor is killed: it can never be seen empty, so
// run() rejects with EOWNERDEAD, carrying what it knew (the program's
// exit, reported before, and its output); before, it rejected with the
// contract's bare error, no command, output or exit.
test('a killed anchor: run() rejects with EOWNERDEAD and what it knows',
  { skip: !reaper }, async () => {
    const p = ct.run('sh', ['-c', 'echo out; echo err >&2; ' +
      'setsid sleep 100 & exit 3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const said = Promise.all([h.once(p.child.stdout, 'data'),
      h.once(p.child.stderr, 'data')]);
    const exited = h.once(p.child, 'exit');
    p.catch(() => {}); // asserted below, once the anchor is killed
    // Once the program is reaped, its orphan is the anchor's child.
    await Promise.all([said, exited]);
    const pids = await members(p.contract, 1);
    const anchor = Number(fs.readFileSync(`/proc/${pids[0]}/stat`, 'utf8')
      .split(') ')[1].split(' ')[1]);
    try {
      assert.notStrictEqual(anchor, process.pid, 'the tree has an anchor');
      process.kill(anchor, 'SIGKILL');
      let timer;
      const e = await Promise.race([p.then(() => null, (err) => err),
        new Promise((resolve) => {
          timer = setTimeout(() => resolve('hung'), h.ms(10000));
        })]);
      clearTimeout(timer);
      assert.ok(e instanceof Error, `run() settled with ${e}`);
      assert.strictEqual(e.code, 'EOWNERDEAD');
      assert.strictEqual(e.errno, os.constants.errno.EOWNERDEAD);
      assert.strictEqual(e.ctid, p.contract.ctid);
      assert.strictEqual(e.exitCode, 3, 'the program\'s exit, reported');
      assert.strictEqual(e.signal, null);
      assert.strictEqual(e.command,
        "sh -c 'echo out; echo err >&2; setsid sleep 100 & exit 3'");
      assert.strictEqual(e.stdout, 'out\n');
      assert.strictEqual(e.stderr, 'err\n');
      assert.strictEqual(typeof e.durationMs, 'number');
      // Its tree came back to us: run()'s (cleanup) ends with it.
      await h.until(() => pids.every((pid) => procStat(pid) === null),
        h.ms(5000), 'the tree killed with run()');
    } finally {
      for (const pid of h.descendants(anchor).concat(pids)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  });

test('usage() counts an exited setsid grandchild after pr_empty', async () => {
  const { c } = spawnIn('(setsid sh -c \'i=0; while [ $i -lt 300000 ]; ' +
    'do i=$((i+1)); done\' &); exit 0');
  await h.once(c, 'pr_empty', 30000);
  const u = c.usage();
  assert.ok(u.userCPUTime + u.systemCPUTime > 50000,
    `only ${JSON.stringify(u)} µs`);
  assert.ok(Number.isInteger(u.userCPUTime));
  c.dispose();
});

test('usage() while the tree runs: what was reaped, by the anchor or a ' +
  'member, and what the live members ran', async () => {
  const burn = 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done';
  // An orphan that exits (reaped by the anchor under reaper membership),
  // a subshell sh reaps, and sh's own loop; then it waits, alive.
  const { child, contract: c } = ct.spawn('sh', ['-c',
    `(setsid sh -c '${burn}; echo orphan' &); (${burn}); ${burn}; ` +
    'echo ready; exec sleep 100'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  await h.until(() => /orphan/.test(out) && /ready/.test(out), 30000,
    'the three loops');
  await sleepers(c, 1);
  const live = c.usage();
  const liveTotal = live.userCPUTime + live.systemCPUTime;
  assert.ok(Number.isInteger(live.userCPUTime) &&
    Number.isInteger(live.systemCPUTime), JSON.stringify(live));
  await c.stop();
  const end = c.usage();
  const endTotal = end.userCPUTime + end.systemCPUTime;
  // The sleep adds next to nothing: the running figure had all three
  // loops (each about a third), within the clock tick of /proc's counts.
  assert.ok(liveTotal >= 0.8 * endTotal,
    `while running ${liveTotal} µs, at the end ${endTotal} µs`);
  assert.ok(liveTotal <= endTotal + 50000,
    `while running ${liveTotal} µs, at the end ${endTotal} µs`);
  c.dispose();
});

test('run() waits for a backgrounded grandchild; code of the first child',
  async (t) => {
    const mark = path.join(os.tmpdir(), `ict-run-${process.pid}`);
    t.after(() => fs.rmSync(mark, { force: true }));
    fs.rmSync(mark, { force: true });
    const r = await ct.run('sh', ['-c', `(sleep 0.3; touch ${mark}) & exit 3`],
      { stdio: 'ignore', reject: false });
    assert.ok(fs.existsSync(mark), 'the grandchild finished first');
    assert.strictEqual(r.code, 3);
    assert.strictEqual(r.exitCode, 3);
    assert.strictEqual(r.signal, null);
    assert.strictEqual(r.timedOut, false);
    assert.strictEqual(r.aborted, false);
    assert.strictEqual(r.forced, false);
    assert.ok(r.ctid > 0 && r.pid > 0);
    assert.strictEqual(typeof r.usage.userCPUTime, 'number');
    assert.ok(!fs.existsSync(path.join(root, String(r.ctid))));
    fs.rmSync(mark, { force: true });
  });

test('run() with an already-aborted signal never starts the program',
  async () => {
    const mark = path.join(os.tmpdir(), `ict-never-${process.pid}`);
    await assert.rejects(ct.run('touch', [mark],
      { signal: AbortSignal.abort() }), (e) => e.name === 'AbortError');
    assert.ok(!fs.existsSync(mark));
  });

test('run() of a missing program rejects with ENOENT and leaves nothing',
  async () => {
    const before = h.contractDirs(root);
    await assert.rejects(ct.run('/nonexistent/prog', [], { stdio: 'ignore' }),
      (e) => e.code === 'ENOENT');
    assert.deepStrictEqual(h.contractDirs(root), before);
  });

test('spawn() with a timeout stops the whole contract', async () => {
  const { child, contract } = ct.spawn('sh', ['-c',
    '(setsid sleep 100 &); sleep 100'], { stdio: 'ignore', timeout: 100 });
  // Both members must be up before the 100 ms timer can fire, or on a
  // loaded machine the tree is stopped before it is whole and never has
  // 2 members: wait for them with the event loop (and so the timer) held.
  const deadline = Date.now() + h.ms(5000);
  while (contract.status().pr_members.length < 2) {
    assert.ok(Date.now() < deadline, 'timed out waiting for 2 members');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  }
  const pids = contract.status().pr_members;
  await h.once(contract, 'pr_empty', 5000);
  assert.ok(pids.every((p) => !h.alive(p)));
  await h.until(() => child.exitCode !== null || child.signalCode !== null);
  contract.dispose();
});

test('list() gives the visible contracts in ascending order', async () => {
  const a = spawnIn('sleep 100');
  const b = spawnIn('sleep 100');
  const ids = ct.list();
  assert.ok(ids.includes(a.c.ctid) && ids.includes(b.c.ctid));
  assert.deepStrictEqual(ids, [...ids].sort((x, y) => x - y));
  assert.deepStrictEqual(ct.list('process'), ids);
  assert.deepStrictEqual(ct.list('device'), []);
  await Promise.all([a.c.stop(), b.c.stop()]);
  a.c.dispose();
  b.c.dispose();
  assert.ok(!ct.list().includes(a.c.ctid));
});
