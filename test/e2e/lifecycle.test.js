'use strict';
// Process contracts end to end, in the cell of the test matrix it is run
// in (test/matrix.js: ILLUMOS_CONTRACT_MEMBERSHIP x ILLUMOS_CONTRACT_SPAWN;
// run directly, the host's own choice).
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const { once } = require('events');
const h = require('../lib/helpers');

const anchored = process.env.ILLUMOS_CONTRACT_MEMBERSHIP === 'reaper';
const root = h.useRoot('life');
const ct = require('../..');
const mode = anchored ? 'reaper' : process.env.ILLUMOS_CONTRACT_SPAWN;

// child.pid is the program's under both memberships: under reaper, the
// one the anchor recorded (user.ct.program), never the anchor's own.
function program(child, c) {
  if (anchored) {
    const rec = path.join(root, String(c.ctid), 'user.ct.program');
    assert.strictEqual(child.pid, Number(fs.readFileSync(rec, 'utf8')));
    const anchor = path.join(root, String(c.ctid), 'user.ct.anchor');
    assert.notStrictEqual(child.pid,
      Number(fs.readFileSync(anchor, 'utf8').split(' ')[0]));
  }
  return child.pid;
}

test('latest() before any contract throws ESRCH', () => {
  assert.throws(() => ct.latest(), (e) => e instanceof Error &&
    e.code === 'ESRCH' && e.errno === 3 && typeof e.syscall === 'string' &&
    /not created/.test(e.message));
});

test(`the mechanism in use is the one asked for (${mode || 'probed'})`, () => {
  ct.set_template({ type: 'process' });
  ct.clear_template();
  if (mode) assert.strictEqual(ct.features.spawn, mode);
  else assert.ok(['atfork', 'shim'].includes(ct.features.spawn));
  assert.strictEqual(ct.features.membership, anchored ? 'reaper' : 'cgroup');
});

function spawnIn(cmd, args, opts = {}) {
  ct.set_template({ type: 'process', ...(opts.template || {}) });
  let child;
  try {
    child = cp.spawn(cmd, args, { stdio: 'ignore', ...opts.spawn });
  } finally {
    ct.clear_template();
  }
  return { child, c: ct.latest() };
}

test('status() has the full shape of a process contract', async () => {
  const { child, c } = spawnIn('sleep', ['30'],
    { template: { cookie: '0xdeadbeef', param: { noorphan: true } } });
  const st = c.status();
  const pid = await program(child, c);
  assert.strictEqual(st.ctid, c.ctid);
  assert.strictEqual(st.type, 'process');
  assert.strictEqual(st.state, 'owned');
  assert.strictEqual(st.holder, process.pid);
  assert.strictEqual(st.cookie, '3735928559');
  assert.strictEqual(st.nevid, '0');
  assert.strictEqual(typeof st.zoneid, 'number');
  assert.strictEqual(st.nevents, 0);
  assert.deepStrictEqual(st.pr_members, [pid]);
  assert.deepStrictEqual(st.pr_contracts, []);
  assert.deepStrictEqual(st.critical, { negend: false, pr_empty: true,
    pr_fork: false, pr_exit: false, pr_core: false, pr_signal: false,
    pr_hwerr: true });
  assert.deepStrictEqual(st.informative, { negend: false, pr_empty: false,
    pr_fork: false, pr_exit: false, pr_core: true, pr_signal: true,
    pr_hwerr: false });
  assert.deepStrictEqual(st.pr_fatal, { negend: false, pr_empty: false,
    pr_fork: false, pr_exit: false, pr_core: false, pr_signal: false,
    pr_hwerr: true });
  assert.deepStrictEqual(st.pr_param,
    { inherit: false, noorphan: true, pgrponly: false, regent: false });
  for (const k of ['pr_svc_fmri', 'pr_svc_aux', 'pr_svc_creator']) {
    assert.strictEqual(typeof st[k], 'string', k);
  }
  assert.strictEqual(typeof st.pr_svc_ctid, 'number');
  assert.ok(fs.existsSync(path.join(root, String(c.ctid))));
  const empty = h.once(c, 'pr_empty');
  c.sigsend('SIGKILL');
  const ev = await empty;
  assert.strictEqual(ev.ctid, c.ctid);
  assert.strictEqual(ev.type, 'pr_empty');
  assert.strictEqual(ev.pid, pid);
  assert.deepStrictEqual(ev.flags, { info: false, ack: false, neg: false });
  assert.match(ev.evid, /^\d+$/);
  assert.strictEqual(c.status().nevents, 1, 'critical until acked');
  c.ack(ev.evid);
  assert.strictEqual(c.status().nevents, 0);
  assert.deepStrictEqual(c.status().pr_members, []);
  c.dispose();
});

test('a daemonized grandchild keeps the contract non-empty', async (t) => {
  const mark = path.join(os.tmpdir(), `ict-mark-${process.pid}`);
  t.after(() => fs.rmSync(mark, { force: true }));
  fs.rmSync(mark, { force: true });
  // Double fork + setsid: the daemon is reparented away from us.
  const { child, c } = spawnIn('sh', ['-c',
    `(setsid sh -c 'sleep 0.4; echo done > ${mark}' &) ; exit 0`]);
  const emptied = h.once(c, 'pr_empty', 10000);
  // The same under both memberships: 'exit' is the program's, while the
  // daemon still runs.
  const [code] = await h.once(child, 'exit');
  assert.strictEqual(code, 0);
  assert.ok(c.status().pr_members.length > 0, 'the daemon is a member');
  assert.ok(!fs.existsSync(mark), 'the daemon has not finished yet');
  await emptied;
  assert.strictEqual(fs.readFileSync(mark, 'utf8'), 'done\n',
    'pr_empty came only after the daemon exited');
  fs.rmSync(mark, { force: true });
  c.dispose();
});

// Under reaper membership the anchor holds its directory, its report pipe
// and the holder's word pipe (shared by every anchor): none may reach the
// program, nor stay open in a member after the anchor is gone.
test('the program inherits only its stdio, and pr_empty then says usage ' +
  'and the last pid', async () => {
  const list = ['sh', ['-c', 'ls /proc/$$/fd']];
  const stdio = ['ignore', 'pipe', 'ignore'];
  const fds = async (child) => {
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    await h.once(child, 'close', 10000);
    return out.split(/\s+/).filter(Boolean).sort();
  };
  // What a plain spawn inherits here (0-2, and whatever our own parent
  // left open without close-on-exec) is the baseline.
  const plain = await fds(cp.spawn(...list, { stdio }));
  assert.ok(plain.includes('2'));
  const { child, c } = spawnIn(...list, { spawn: { stdio } });
  const got = fds(child);
  const ev = await h.once(c, 'pr_empty', 10000);
  assert.deepStrictEqual(await got, plain);
  assert.ok(ev.pid > 0, 'pr_empty names a pid');
  // Seen empty (under reaper membership possibly before the anchor
  // exited): the whole tree's CPU time is there, not a partial one.
  if (ct.features.usage) {
    const u = c.usage();
    assert.ok(u.userCPUTime + u.systemCPUTime > 0, JSON.stringify(u));
  }
  c.dispose();
});

test('the child is the program: its pid, its exit while a daemon runs, ' +
  'kill() (SIGKILL too) reaches it; pr_empty names a pid', async () => {
  const { child, c } = spawnIn('sh', ['-c',
    '(setsid sleep 0.3 &); exec sleep 30']);
  const pid = program(child, c);
  assert.ok(c.status().pr_members.includes(pid));
  // The subshell is forked (it forks the daemon whatever becomes of sh).
  await h.until(() => c.status().pr_members.length >= 2, 5000, 'the subshell');
  const emptied = h.once(c, 'pr_empty', 10000);
  const exited = h.once(child, 'exit', 10000);
  assert.strictEqual(child.kill('SIGKILL'), true);
  const [code, signal] = await exited;
  assert.deepStrictEqual([code, signal], [null, 'SIGKILL']);
  assert.strictEqual(child.exitCode, null);
  assert.strictEqual(child.signalCode, 'SIGKILL');
  // The daemon outlives the program: the tree is not empty yet.
  assert.ok(c.status().pr_members.length > 0, 'the daemon is a member');
  assert.ok(!c.status().pr_members.includes(pid));
  const ev = await emptied;
  assert.strictEqual(typeof ev.pid, 'number');
  assert.ok(ev.pid > 0);
  c.dispose();
});

test('sigsend reaches setsid daemons and double-forked grandchildren',
  async () => {
    for (const sig of ['SIGTERM', 15, 'SIGKILL', 9]) {
      const { child, c } = spawnIn('sh', ['-c',
        '(setsid sleep 100 &); (sh -c "sleep 100 & sleep 100" &); ' +
        'setsid sh -c "sleep 100" & sleep 100']);
      await h.until(() => c.status().pr_members.length >= 6, 5000,
        'the tree to start');
      const pids = c.status().pr_members;
      const emptied = h.once(c, 'pr_empty');
      const exited = h.once(child, 'exit');
      c.sigsend(sig);
      await emptied;
      for (const pid of pids) {
        await h.until(() => !h.alive(pid), 2000, `pid ${pid} to go`);
      }
      await exited;
      c.dispose();
    }
  });

// Members fork while they are signalled: every pass of the signal must
// find the new ones, and under cgroup membership a child that the kernel
// has made but not yet put in the cgroup must not slip through (the freeze
// is waited for before the members are listed: docs/ARCHITECTURE.md,
// "Signals reach members only").  A member that escaped would keep the
// contract from ever emptying.
// Reaper membership has no freezer: a walk of /proc children lists can
// miss a child being reparented, which docs/linux.md names as its limit.
test('sigsend of a tree that forks all the while leaves no member',
  { skip: process.env.ILLUMOS_CONTRACT_MEMBERSHIP === 'reaper' &&
    'reaper membership has no freezer (docs/linux.md, Limits)' },
  async () => {
  for (let i = 0; i < 10; i++) {
    const { child, c } = spawnIn('sh', ['-c',
      'while :; do (sleep 100 &); done']);
    await h.until(() => c.status().pr_members.length >= 4, 5000,
      'the tree to fork');
    const emptied = h.once(c, 'pr_empty');
    const exited = h.once(child, 'exit');
    c.sigsend('SIGTERM');
    await emptied;
    await exited;
    c.dispose();
  }
});

test('sigsend of an empty contract throws ESRCH; bad signals throw', async () => {
  const { c } = spawnIn('true', []);
  await h.once(c, 'pr_empty');
  assert.throws(() => c.sigsend('SIGTERM'),
    (e) => e.code === 'ESRCH' && e.errno === 3 && e.syscall === 'sigsend');
  assert.throws(() => c.sigsend('SIGNOPE'),
    (e) => e instanceof TypeError && e.code === 'ERR_UNKNOWN_SIGNAL');
  assert.throws(() => c.sigsend(65),
    (e) => e instanceof RangeError && e.code === 'ERR_OUT_OF_RANGE');
  assert.throws(() => c.sigsend({}),
    (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE');
  c.dispose();
});

test('every call after dispose() throws, but dispose() again does nothing', async () => {
  const { c } = spawnIn('true', []);
  await h.once(c, 'pr_empty');
  c.dispose();
  for (const call of [() => c.status(), () => c.abandon(),
    () => c.ack('1'), () => c.nack('1'), () => c.qack('1'),
    () => c.sigsend(9), () => c.ref(),
    () => c.unref(), () => c.usage()]) {
    assert.throws(call, (e) => e.code === 'ERR_CONTRACT_DISPOSED');
  }
  assert.strictEqual(c.dispose(), undefined);
});

test('abandon() of an empty contract kills nothing and removes it',
  async () => {
    const { c } = spawnIn('true', []);
    const dir = path.join(root, String(c.ctid));
    await h.once(c, 'pr_empty');
    assert.ok(fs.existsSync(dir), 'an owned empty contract stays');
    c.abandon();
    assert.strictEqual(c.status().state, 'dead');
    assert.ok(!fs.existsSync(dir));
    assert.throws(() => c.abandon(), (e) => e.code === 'EINVAL');
    c.dispose();
  });

test('abandon() without noorphan leaves members running, orphaned',
  async () => {
    const { child, c } = spawnIn('sleep', ['30']);
    const pid = await program(child, c);
    c.abandon();
    assert.strictEqual(c.status().state, 'orphan');
    assert.strictEqual(c.status().holder, 0);
    assert.ok(h.alive(pid));
    const emptied = h.once(c, 'pr_empty');
    process.kill(pid, 'SIGKILL');
    await emptied;
    c.dispose();
    await h.until(() => !fs.existsSync(path.join(root, String(c.ctid))),
      2000, 'the orphan to be removed');
  });

test('abandon() with noorphan kills every member', async () => {
  const { child, c } = spawnIn('sh', ['-c', '(setsid sleep 100 &); sleep 100'],
    { template: { param: { noorphan: true } } });
  await h.until(() => c.status().pr_members.length >= 2, 5000, 'tree');
  const pids = c.status().pr_members;
  const emptied = h.once(c, 'pr_empty');
  const exited = h.once(child, 'exit');
  c.abandon();
  await emptied;
  for (const pid of pids) assert.ok(!h.alive(pid), `pid ${pid} killed`);
  await exited;
  c.dispose();
});

test('spawn() gives {child, contract} and restores the template', async () => {
  ct.set_template({ type: 'process', cookie: 7 });
  const before = ct.latest;
  const { child, contract } = ct.spawn('sh', ['-c', 'exit 0'],
    { template: { type: 'process', cookie: 42 }, stdio: 'ignore' });
  assert.strictEqual(contract.status().cookie, '42');
  assert.ok(child.pid > 0);
  await h.once(contract, 'pr_empty');
  contract.dispose();
  // The outer template is active again: the next spawn gets cookie 7.
  const c2 = cp.spawn('true', { stdio: 'ignore' });
  const outer = ct.latest();
  ct.clear_template();
  assert.strictEqual(outer.status().cookie, '7');
  await h.once(c2, 'exit');
  outer.dispose();
  assert.strictEqual(before, ct.latest);
  // A throwing spawn leaves no template active either.
  assert.throws(() => ct.spawn('true', [], { stdio: 'nonsense' }));
  const c3 = cp.spawn('true', { stdio: 'ignore' });
  await h.once(c3, 'exit');
  const dirs = h.contractDirs(root).length;
  assert.strictEqual(dirs, h.contractDirs(root).length);
});

test('a program that cannot be spawned leaves no contract behind',
  async () => {
    const before = h.contractDirs(root).sort();
    const { child, contract } = ct.spawn('/nonexistent/program', [],
      { stdio: 'ignore' });
    const err = await h.once(child, 'error');
    assert.strictEqual(err.code, 'ENOENT');
    assert.strictEqual(contract, null);
    assert.deepStrictEqual(h.contractDirs(root).sort(), before);
  });

// Run src in a node of its own, which must exit by itself within ms.
async function runScript(src, ms = 10000) {
  const p = cp.spawn(process.execPath, ['-e', src], {
    env: { ...process.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  try {
    const [code] = await once(p, 'exit', { signal: AbortSignal.timeout(h.ms(ms)) });
    return { code, out };
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
    p.kill('SIGKILL');
    throw new Error('the script did not exit by itself');
  }
}

test('a script whose only work is a contract exits after pr_empty',
  async () => {
    const lib = JSON.stringify(path.join(__dirname, '..', '..'));
    const { code, out } = await runScript(`
      const ct = require(${lib});
      const cp = require('child_process');
      ct.set_template({ type: 'process' });
      cp.spawn('sh', ['-c', '(setsid sleep 0.3 &)'], { stdio: 'ignore' });
      ct.clear_template();
      const c = ct.latest();
      c.on('pr_empty', () => console.log('empty'));
    `);
    assert.strictEqual(code, 0);
    assert.strictEqual(out, 'empty\n');
  });

test('unref() lets a script exit while members still run', async () => {
  const lib = JSON.stringify(path.join(__dirname, '..', '..'));
  const { code, out } = await runScript(`
    const ct = require(${lib});
    const cp = require('child_process');
    ct.set_template({ type: 'process' });
    const child = cp.spawn('sleep', ['30'], { stdio: 'ignore' });
    ct.clear_template();
    child.unref();
    const c = ct.latest();
    c.on('pr_empty', () => console.log('empty'));
    c.unref();
    console.log(c.status().pr_members.length);
  `);
  assert.strictEqual(code, 0);
  assert.strictEqual(out, '1\n');
});
