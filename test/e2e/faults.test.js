'use strict';
// Faults (docs/building.md, "Reliability"): each shows a clear error and that nothing is lost.
// Scenarios that need their own process (a low `ulimit -n`, another uid,
// a tiny netlink buffer, a root removed underneath) run a child node in a
// jail (test/fuzz/common.js) with its own contract root.
//
// The keeper killed: see test/e2e/holder.test.js, "killing the keeper does not
// lose the noorphan guarantee".
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');
const common = require('../fuzz/common');
const nobody = require('../lib/nobody');

const root = h.useRoot('faults');
const ct = require('../..');
const LIB = JSON.stringify(path.join(__dirname, '..', '..'));
const rootRel = () => `/${path.relative(common.MOUNT, root)}`;

// Run `script` in a child node (its own jail and root); resolve
// {run, result, after} where after lists what the child left behind.
async function inChild(tag, script, { env, nofile, timeout = 30000 } = {}) {
  const jail = common.makeJail(`flt-${tag}`);
  try {
    const run = await common.runWorker(jail, ['-e', script],
      { env, nofile, timeout: h.ms(timeout) });
    const result = common.parseResult(run.out);
    const left = await common.checkAfterExit(jail, run.pid);
    return { run, result, left };
  } finally {
    common.removeJail(jail);
  }
}

function plain(e) {
  return e instanceof Error ? { isError: true, name: e.name, code: e.code,
    errno: e.errno, syscall: e.syscall, message: e.message } : { thrown: String(e) };
}
const PLAIN = plain.toString();

// Shared by the child scripts.
const PRELUDE = `
  const ct = require(${LIB});
  const cp = require('child_process');
  const fs = require('fs');
  const root = process.env.ILLUMOS_CONTRACT_ROOT;
  const plain = ${PLAIN};
  const dirs = () => fs.readdirSync(root).filter((e) => /^\\d+$/.test(e)).sort();
  const SLOW = Number(process.env.ILLUMOS_CONTRACT_TEST_SLOW) || 1;
  const once = (em, ev, ms = 10000) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out waiting for ' + ev)),
      ms * SLOW);
    em.once(ev, (a) => { clearTimeout(t); resolve(a); });
  });
  const done = (r) => console.log('RESULT ' + JSON.stringify(r));
`;

function cgroupOf(pid) {
  const l = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')
    .find((x) => x.startsWith('0::'));
  return l.slice(3);
}

// ---- fd exhaustion ----

test('fd exhaustion: EMFILE errors, no crash, and all works once fds are free',
  async () => {
    const { run, result: r, left } = await inChild('emfile', `${PRELUDE}
      (async () => {
        const r = {};
        // Everything opened for good is open: one whole cycle first.
        const w = ct.spawn('/bin/true', [], { stdio: 'ignore' }).contract;
        await once(w, 'pr_empty');
        w.dispose();
        const fds = [];
        try {
          for (;;) fds.push(fs.openSync('/dev/null', 'r'));
        } catch (e) {
          r.fill = e.code;
        }
        const attempt = (name, fn) => {
          try {
            const v = fn();
            r[name] = 'ok';
            return v;
          } catch (e) {
            r[name] = plain(e);
            return undefined;
          }
        };
        attempt('set_template', () => ct.set_template({ type: 'process' }));
        attempt('clear_template', () => ct.clear_template());
        const s = attempt('spawn', () => ct.spawn('/bin/true', [], { stdio: 'ignore' }));
        if (s) {
          r.spawnContract = s.contract && s.contract.ctid;
          s.child.on('error', (e) => { r.spawnError = plain(e); });
        }
        attempt('latest', () => ct.latest());
        attempt('observe', () => ct.observe(w.ctid));
        attempt('list', () => ct.list());
        await new Promise((res) => setImmediate(res));
        for (const fd of fds) fs.closeSync(fd);
        // Works again.
        ct.set_template({ type: 'process', informative: { pr_exit: true } });
        const child = cp.spawn('sh', ['-c', '/bin/true & wait'], { stdio: 'ignore' });
        ct.clear_template();
        // Listen now: the child's 'exit' may come before pr_empty.
        const exited = once(child, 'exit');
        const c = ct.latest();
        let exits = 0;
        c.on('pr_exit', () => exits++);
        const ev = await once(c, 'pr_empty');
        c.ack(ev.evid);
        const code = await exited;
        r.after = { code, exits, members: c.status().pr_members.length };
        c.dispose();
        r.dirs = dirs();
        done(r);
      })();
    `, { nofile: 64 });
    assert.strictEqual(run.signal, null, run.err);
    assert.strictEqual(run.code, 0, run.err);
    assert.ok(r, run.err);
    assert.strictEqual(r.fill, 'EMFILE');
    const emfile = (what) => {
      const v = r[what];
      if (v === 'ok') return false;
      assert.ok(v.isError && v.code === 'EMFILE' && v.errno === 24 &&
        typeof v.syscall === 'string' && /^EMFILE: cannot \w+ \S/.test(v.message),
      `${what}: ${JSON.stringify(v)}`);
      return true;
    };
    // What needs an fd fails with EMFILE, saying what it attempted.
    assert.ok(emfile('set_template'), 'set_template needs the contract directory');
    assert.ok(emfile('latest'), 'opening a contract needs its directory');
    assert.ok(emfile('observe'));
    emfile('list');
    assert.strictEqual(r.clear_template, 'ok');
    // spawn() fails cleanly: a thrown EMFILE, or Node's own 'error' event
    // and no contract.
    if (r.spawn !== 'ok') emfile('spawn');
    else assert.strictEqual(r.spawnContract, null);
    assert.deepStrictEqual(r.after, { code: 0, exits: 2, members: 0 });
    assert.deepStrictEqual(r.dirs, []);
    assert.deepStrictEqual(left, []);
  });

test('fd exhaustion does not make a live contract look empty', async () => {
  const { run, result: r } = await inChild('emfile-empty', `${PRELUDE}
    (async () => {
      // A member that lives on, and one that exits while fds are exhausted.
      const { child, contract: c } = ct.spawn('sh', ['-c',
        'sleep 0.3 & exec sleep 30'], { stdio: 'ignore',
        template: { type: 'process', informative: { pr_exit: true } } });
      const log = [];
      for (const n of ['pr_exit', 'pr_empty', 'pr_lost']) {
        c.on(n, (ev) => log.push(n));
      }
      await new Promise((res) => setTimeout(res, 100)); // the tree is up
      const fds = [];
      try { for (;;) fds.push(fs.openSync('/dev/null', 'r')); } catch {}
      // Block until the short member has exited, then let events flow.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
      await new Promise((res) => setTimeout(res, 300));
      for (const fd of fds) fs.closeSync(fd);
      await new Promise((res) => setTimeout(res, 100)); // events flow again
      const alive = child.exitCode === null;
      const seen = [...log];
      c.sigsend(9);
      await once(child, 'exit');
      c.dispose();
      done({ log: seen, aliveWhenEmpty: alive });
    })();
  `, { nofile: 64 });
  assert.ok(r, run.err);
  assert.ok(r.aliveWhenEmpty, 'the long member was running throughout');
  assert.ok(!r.log.includes('pr_empty'), `events while it ran: ${r.log}`);
});

// ---- the contract root: read-only, or removed ----

test('a read-only contract root (nobody, a root owned by root): EACCES, ' +
  'observing still works', async () => {
  const dir = path.join(common.MOUNT, `ict-ro-${process.pid}`);
  fs.mkdirSync(dir, { mode: 0o755 });
  const pkg = nobody.stagePackage();
  try {
    const r = await nobody.runAsNobody(`
      const ct = require(${JSON.stringify(pkg)});
      const cp = require('child_process');
      const plain = ${PLAIN};
      const r = { root: ct.features.root };
      try { ct.set_template({ type: 'process' }); r.set = 'ok'; } catch (e) { r.set = plain(e); }
      try { ct.clear_template(); } catch (e) { r.clear = plain(e); }
      try { ct.spawn('/bin/true', [], { stdio: 'ignore' }); r.spawn = 'ok'; } catch (e) { r.spawn = plain(e); }
      try { ct.latest(); r.latest = 'ok'; } catch (e) { r.latest = plain(e); }
      r.list = ct.list();
      ct.run('/bin/true', [], { stdio: 'ignore' }).then(() => { r.run = 'ok'; },
        (e) => { r.run = plain(e); }).then(() => {
        const p = cp.spawn('/bin/true', [], { stdio: 'ignore' });
        p.on('exit', (code) => {
          r.plainSpawn = code;
          console.log('RESULT ' + JSON.stringify(r));
        });
      });
    `, { env: { ILLUMOS_CONTRACT_ROOT: dir } });
    assert.strictEqual(r.signal, null, r.err);
    assert.strictEqual(r.code, 0, r.err);
    const res = common.parseResult(r.out);
    assert.ok(res, r.err);
    assert.strictEqual(res.root, fs.realpathSync(dir), 'readable: usable to observe');
    const eacces = (v) => v.isError && v.code === 'EACCES' && v.errno === 13 &&
      v.syscall === 'mkdir' && v.message.includes(dir);
    assert.ok(eacces(res.set), JSON.stringify(res.set));
    assert.ok(eacces(res.spawn), JSON.stringify(res.spawn));
    assert.ok(eacces(res.run), JSON.stringify(res.run));
    assert.strictEqual(res.latest.code, 'ESRCH');
    assert.deepStrictEqual(res.list, []);
    assert.strictEqual(res.plainSpawn, 0, 'plain spawns still work');
    assert.deepStrictEqual(fs.readdirSync(dir).filter((e) => /^[0-9k]/.test(e)), []);
  } finally {
    nobody.removeCgroup(dir);
    fs.rmSync(pkg, { recursive: true, force: true });
  }
});

let removedRun = null;
function rootRemoved() {
  if (removedRun !== null) return removedRun;
  removedRun = inChild('rmroot', `${PRELUDE}
    (async () => {
      const r = {};
      const w = ct.spawn('/bin/true', [], { stdio: 'ignore' }).contract;
      await once(w, 'pr_empty');
      w.dispose();
      // The keeper's own cgroup lives in the root too: wait for it to go.
      const t0 = Date.now();
      while (fs.readdirSync(root).some((e) => e[0] === 'k') && Date.now() - t0 < 10000) {
        await new Promise((res) => setTimeout(res, 20));
      }
      // A leaving keeper passes through the root itself: retry while busy.
      for (let i = 0; ; i++) {
        try { fs.rmdirSync(root); break; } catch (e) {
          if (e.code !== 'EBUSY' || i > 500) throw e;
          await new Promise((res) => setTimeout(res, 20));
        }
      }
      try { ct.set_template({ type: 'process' }); r.removed = 'ok'; } catch (e) { r.removed = plain(e); }
      try { ct.clear_template(); } catch {}
      try { r.list = ct.list(); } catch (e) { r.list = plain(e); }
      r.remade = fs.existsSync(root);
      try { fs.mkdirSync(root); } catch {}
      try {
        const { contract } = ct.spawn('/bin/true', [], { stdio: 'ignore' });
        await once(contract, 'pr_empty');
        contract.dispose();
        r.recreated = 'ok';
      } catch (e) {
        r.recreated = plain(e);
      }
      done(r);
    })();
  `);
  return removedRun;
}

test('the contract root removed underneath: it is found (made) anew',
  async () => {
    const { run, result: r, left } = await rootRemoved();
    assert.strictEqual(run.code, 0, run.err);
    assert.ok(r, run.err);
    assert.strictEqual(r.removed, 'ok', JSON.stringify(r.removed));
    assert.strictEqual(r.remade, true, 'ILLUMOS_CONTRACT_ROOT made again');
    assert.deepStrictEqual(left, []);
  });

test('the contract root removed and made again: contracts work again',
  async () => {
    const { result: r } = await rootRemoved();
    assert.strictEqual(r.recreated, 'ok', JSON.stringify(r.recreated));
  });

// ---- cgroup.max.descendants ----

function nrDescendants() {
  const stat = fs.readFileSync(path.join(root, 'cgroup.stat'), 'utf8');
  return Number(/nr_descendants (\d+)/.exec(stat)[1]);
}
function setMaxDescendants(v) {
  fs.writeFileSync(path.join(root, 'cgroup.max.descendants'), String(v));
}
const isEagain = (e) => e instanceof Error && e.code === 'EAGAIN' &&
  e.errno === 11 && e.syscall === 'mkdir' &&
  /cgroup\.max\.descendants/.test(e.message);

after(() => {
  try { setMaxDescendants('max'); } catch {}
});

test('cgroup.max.descendants reached: EAGAIN naming it; no child runs ' +
  'outside its contract; all works again', async () => {
  // A held contract keeps the keeper (its cgroup counts) in place.
  const held = ct.spawn('sleep', ['100'], { stdio: 'ignore' });
  try {
    const before = h.contractDirs(root).sort();
    setMaxDescendants(0);
    assert.throws(() => ct.set_template({ type: 'process' }), isEagain);
    ct.clear_template();
    assert.throws(() => ct.spawn('/bin/true', [], { stdio: 'ignore' }), isEagain);
    ct.clear_template();
    await assert.rejects(ct.run('/bin/true', [], { stdio: 'ignore' }), isEagain);
    ct.clear_template();
    assert.deepStrictEqual(h.contractDirs(root).sort(), before);

    // Room for one directory: the template's (made at set_template).  The
    // first spawn uses it; the next cannot have a contract, so it fails
    // instead of running outside one.
    setMaxDescendants(nrDescendants() + 1);
    ct.set_template({ type: 'process' });
    let c1;
    let c1Emptied;
    let second;
    try {
      const first = cp.spawn('/bin/true', [], { stdio: 'ignore' });
      c1 = ct.latest();
      // Listening at once: it may empty during the await below.
      c1Emptied = h.once(c1, 'pr_empty');
      assert.deepStrictEqual(c1.status().pr_members.concat(first.pid)
        .slice(-1), [first.pid]);
      await new Promise((r) => setImmediate(r)); // the refill fails quietly
      assert.throws(() => {
        second = cp.spawn('/bin/true', [], { stdio: 'ignore' });
      }, isEagain);
      assert.strictEqual(second, undefined);
      const l = ct.latest();
      assert.strictEqual(l.ctid, c1.ctid, 'latest() is still the first');
      l.dispose();
    } finally {
      ct.clear_template();
    }
    await c1Emptied;
    c1.dispose();
  } finally {
    setMaxDescendants('max');
  }
  const { contract } = ct.spawn('/bin/true', [], { stdio: 'ignore' });
  await h.once(contract, 'pr_empty');
  contract.dispose();
  const emptied = h.once(held.contract, 'pr_empty');
  held.contract.sigsend('SIGKILL');
  await emptied;
  held.contract.dispose();
  await h.until(() => h.contractDirs(root).length === 0, 5000, 'no directory left');
});

test('a set_template that fails leaves no process template active',
  async () => {
  setMaxDescendants(0);
  try {
    assert.throws(() => ct.set_template({ type: 'process' }), isEagain);
  } finally {
    setMaxDescendants('max');
  }
  // JS believes no template is active: a plain spawn must not get one.
  const p = cp.spawn('sleep', ['100'], { stdio: 'ignore' });
  const cg = cgroupOf(p.pid);
  p.kill('SIGKILL');
  if (cg.startsWith(`${rootRel()}/`)) {
    const c = ct.latest('process');
    await h.once(c, 'pr_empty');
    c.dispose();
  }
  ct.clear_template();
  assert.ok(!cg.startsWith(`${rootRel()}/`), `the child ran in contract ${cg}`);
});

// ---- the proc connector overflowing ----

test('netlink overflow: pr_lost arrives, status().lost > 0, pr_empty exactly once',
  async () => {
    const N = 400;
    const { run, result: r, left } = await inChild('enobufs', `${PRELUDE}
      (async () => {
        const { contract: c } = ct.spawn('sh', ['-c',
          'i=0; while [ $i -lt ${N} ]; do /bin/true & i=$((i+1)); done; wait'],
        { stdio: 'ignore', template: { type: 'process',
          informative: { pr_fork: true, pr_exit: true } } });
        const n = { pr_fork: 0, pr_exit: 0, pr_empty: 0, pr_lost: 0 };
        const lost = [];
        for (const k of Object.keys(n)) c.on(k, (ev) => {
          n[k]++;
          if (k === 'pr_lost') lost.push({ forks: ev.forks, exits: ev.exits });
        });
        // Block the event loop while the storm overflows the buffer.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
        const ev = await once(c, 'pr_empty', 30000);
        c.ack(ev.evid);
        // A barrier: a later contract's pr_empty comes after anything
        // still queued for the first.
        const b = ct.spawn('/bin/true', [], { stdio: 'ignore' }).contract;
        await once(b, 'pr_empty');
        b.dispose();
        await new Promise((res) => setTimeout(res, 100));
        done({ n, lost, statusLost: c.status().lost, members: c.status().pr_members });
        c.dispose();
      })();
    `, { env: { ILLUMOS_CONTRACT_TEST_RCVBUF: '4096' }, timeout: 60000 });
    assert.strictEqual(run.signal, null, run.err);
    assert.strictEqual(run.code, 0, run.err);
    assert.ok(r, run.err);
    assert.ok(r.n.pr_lost >= 1, `no pr_lost: ${JSON.stringify(r)}`);
    assert.ok(r.statusLost > 0, 'status().lost counts the loss');
    assert.ok(r.lost.every((l) => Number.isInteger(l.forks) && l.forks >= 0 &&
      Number.isInteger(l.exits) && l.exits >= 0), JSON.stringify(r.lost));
    assert.strictEqual(r.n.pr_empty, 1, 'pr_empty exactly once');
    assert.deepStrictEqual(r.members, []);
    assert.ok(r.n.pr_fork <= N + 1 && r.n.pr_exit <= N + 1, JSON.stringify(r.n));
    assert.deepStrictEqual(left, []);
  });

// ---- a member that ignores SIGTERM ----

test('sigsend(SIGTERM) to members ignoring it returns; stop() then escalates',
  async () => {
    // The shell and every sleep it forks (SIG_IGN is inherited) ignore TERM,
    // and it keeps forking while we signal.
    const { child, contract: c } = ct.spawn('sh', ['-c',
      'trap "" TERM; while :; do sleep 0.01; done'], { stdio: 'ignore',
      template: { type: 'process', informative: { pr_signal: true } } });
    const signals = [];
    c.on('pr_signal', (ev) => signals.push(ev));
    let empties = 0;
    c.on('pr_empty', () => empties++);
    const ignores = (pid) => {
      try {
        const m = /SigIgn:\s*([0-9a-f]+)/.exec(
          fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        return (BigInt(`0x${m[1]}`) & (1n << 14n)) !== 0n;
      } catch {
        return false;
      }
    };
    await h.until(() => ignores(child.pid), 5000, 'the trap to be set');
    const t0 = Date.now();
    c.sigsend('SIGTERM');
    c.sigsend(15);
    assert.ok(Date.now() - t0 < h.ms(2000), `sigsend took ${Date.now() - t0} ms`);
    assert.ok(h.alive(child.pid), 'the shell ignored it');
    assert.ok(c.status().pr_members.includes(child.pid));
    const emptied = h.once(c, 'pr_empty', 10000);
    const exited = h.once(child, 'exit');
    const t1 = Date.now();
    assert.deepStrictEqual(await c.stop({ timeout: 300 }), { forced: true });
    assert.ok(Date.now() - t1 >= 290, 'SIGTERM first, SIGKILL after the timeout');
    await emptied;
    const [, sig] = await exited;
    assert.strictEqual(sig, 'SIGKILL');
    assert.ok(!h.alive(child.pid));
    const mine = signals.find((s) => s.pid === child.pid);
    assert.ok(mine && mine.signal === 9, JSON.stringify(signals));
    assert.ok(!signals.some((s) => s.signal === 15), 'nothing died of SIGTERM');
    // A barrier, then: still exactly one pr_empty.
    const b = ct.spawn('/bin/true', [], { stdio: 'ignore' }).contract;
    await h.once(b, 'pr_empty');
    b.dispose();
    assert.strictEqual(empties, 1);
    c.dispose();
  });

// ---- exec failures while a template is active ----

for (const mode of ['atfork', 'shim']) {
  test(`a program that cannot be executed leaves no contract (${mode}): ` +
    'child_process.spawn, spawn(), run()', async () => {
    const progs = ['/nonexistent/program', 'no-such-program-ict', '/etc/passwd'];
    const { run, result: r, left } = await inChild(`enoent-${mode}`, `${PRELUDE}
      (async () => {
        const r = { plain: {}, spawn: {}, run: {} };
        // A contract already made, for latest() to (wrongly) return.
        const prev = ct.spawn('/bin/true', [], { stdio: 'ignore' }).contract;
        await once(prev, 'pr_empty');
        r.prev = prev.ctid;
        r.before = dirs();
        for (const prog of ${JSON.stringify(progs)}) {
          ct.set_template({ type: 'process' });
          let child;
          try {
            child = cp.spawn(prog, [], { stdio: 'ignore' });
          } finally {
            ct.clear_template();
          }
          const e = await once(child, 'error');
          let latest;
          try {
            const l = ct.latest();
            latest = l.ctid;
            l.dispose();
          } catch (err) {
            latest = err.code;
          }
          r.plain[prog] = { code: e.code, pid: child.pid === undefined ? null : child.pid,
            latest, dirs: dirs() };
        }
        for (const prog of ${JSON.stringify(progs)}) {
          const { child, contract } = ct.spawn(prog, [], { stdio: 'ignore' });
          const e = await once(child, 'error');
          r.spawn[prog] = { code: e.code, contract, dirs: dirs() };
        }
        for (const prog of ${JSON.stringify(progs)}) {
          try {
            await ct.run(prog, [], { stdio: 'ignore' });
            r.run[prog] = 'resolved';
          } catch (e) {
            r.run[prog] = { code: e.code, dirs: dirs() };
          }
        }
        prev.dispose();
        r.after = dirs();
        r.mode = ct.features.spawn;
        done(r);
      })();
    `, { env: { ILLUMOS_CONTRACT_SPAWN: mode } });
    assert.strictEqual(run.code, 0, run.err);
    assert.ok(r, run.err);
    assert.strictEqual(r.mode, mode);
    const want = (prog) => (prog === '/etc/passwd' ? 'EACCES' : 'ENOENT');
    for (const prog of progs) {
      const p = r.plain[prog];
      assert.strictEqual(p.code, want(prog), `${prog}: ${JSON.stringify(p)}`);
      assert.strictEqual(p.pid, null);
      assert.deepStrictEqual(p.dirs, r.before, `${prog}: no directory left`);
      assert.ok(p.latest === 'ESRCH' || p.latest === r.prev,
        `${prog}: latest() gave ${p.latest}`);
      assert.deepStrictEqual(r.spawn[prog], { code: want(prog), contract: null,
        dirs: r.before });
      assert.deepStrictEqual(r.run[prog], { code: want(prog), dirs: r.before });
    }
    assert.deepStrictEqual(r.after, []);
    assert.deepStrictEqual(left, []);
  });
}
