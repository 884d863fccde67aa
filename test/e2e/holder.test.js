'use strict';
// Across processes (docs/ARCHITECTURE.md, "Holder death"): observe, abandon, holder death
// with and without noorphan (the keeper), adopt, and the refusals.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');
const { keepersOf } = require('../fuzz/common');

const root = h.useRoot('holder');
const ct = require('../..');
const lib = JSON.stringify(path.join(__dirname, '..', '..'));

// A separate holder process: makes a contract with `template` running
// `script`, prints {ctid, pid, members} once the tree is up, then waits.
function holder(template, script, minMembers = 1) {
  const p = cp.spawn(process.execPath, ['-e', `
    const ct = require(${lib});
    const cp = require('child_process');
    ct.set_template(${JSON.stringify({ type: 'process', ...template })});
    const child = cp.spawn('sh', ['-c', ${JSON.stringify(script)}],
      { stdio: 'ignore' });
    ct.clear_template();
    const c = ct.latest();
    const comm = (p) => { try { return require('fs').readFileSync(
      '/proc/' + p + '/comm', 'utf8').trim(); } catch { return ''; } };
    const t = setInterval(() => {
      // The long-lived members are the sleepers (subshells come and go).
      const m = c.status().pr_members.filter((p) => comm(p) === 'sleep');
      if (m.length >= ${minMembers}) {
        clearInterval(t);
        console.log(JSON.stringify({ ctid: c.ctid, pid: process.pid, members: m }));
      }
    }, 2);
    process.stdin.on('data', (d) => {
      const cmd = String(d).trim();
      if (cmd === 'abandon') c.abandon();
      if (cmd === 'killanchor') { // a member's doing, under reaper membership
        c.once('pr_lost', () => console.log(JSON.stringify({ done: cmd })));
        process.kill(Number(require('fs').readFileSync('/proc/' + child.pid +
          '/stat', 'utf8').split(') ')[1].split(' ')[1]), 'SIGKILL');
        return;
      }
      if (cmd === 'exit') process.exit(0);
      console.log(JSON.stringify({ done: cmd }));
    });
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let buf = '';
  let wake = null;
  p.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
      if (wake) wake();
    }
  });
  p.next = async () => {
    // The holder is a node child: under a sanitizer build it starts slowly.
    const deadline = Date.now() + h.ms(10000);
    while (lines.length === 0) {
      if (Date.now() > deadline) throw new Error('the holder said nothing');
      await new Promise((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
    return lines.shift();
  };
  p.send = (cmd) => p.stdin.write(`${cmd}\n`);
  return p;
}

test('another process observes pr_empty of a contract it does not hold',
  async () => {
    const p = holder({}, 'sleep 1');
    const { ctid } = await p.next();
    const c = ct.observe(ctid);
    assert.strictEqual(c.status().state, 'owned');
    assert.notStrictEqual(c.status().holder, process.pid);
    const ev = await h.once(c, 'pr_empty');
    assert.strictEqual(ev.ctid, ctid);
    for (const call of [() => c.abandon(), () => c.ack('1'),
      () => c.nack('1'), () => c.qack('1')]) {
      assert.throws(call, (e) => e.code === 'EPERM' && e.errno === 1);
    }
    for (const call of [() => c.stop(), () => c.freeze(), () => c.thaw()]) {
      assert.throws(call, (e) => e.code === 'EPERM' && e.errno === 1);
    }
    c.dispose();
    p.send('exit');
    await h.once(p, 'exit');
  });

test('noorphan members die when the holder is killed with SIGKILL',
  async () => {
    const times = [];
    for (let i = 0; i < 10; i++) {
      const p = holder({ param: { noorphan: true } },
        '(setsid sleep 100 &); sleep 100', 2);
      const { ctid, pid, members } = await p.next();
      const exited = h.once(p, 'exit');
      const t0 = process.hrtime.bigint();
      process.kill(pid, 'SIGKILL');
      await exited;
      await h.until(() => members.every((m) => !h.alive(m)), 2000,
        'the members to die');
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await h.until(() => !fs.existsSync(path.join(root, String(ctid))),
        2000, 'the contract to be removed');
    }
    times.sort((a, b) => a - b);
    assert.ok(times[times.length - 1] < h.ms(1000), `max ${times.at(-1)} ms`);
  });

// Under cgroup membership the record a spawn's commit writes is what makes
// the spare its contract (docs/ARCHITECTURE.md, "Linux: membership"): a
// holder killed after the fork, before the commit, leaves its child in a
// spare; the keeper still applies the rules (a spare with members is one).
test('a holder killed between a spawn\'s fork and its commit: the keeper ' +
  'kills the noorphan child', {
  skip: ct.features.spawn !== 'atfork' && 'the atfork commit only',
}, async () => {
  const p = cp.spawn(process.execPath, ['-e', `
    const ct = require(${lib});
    ct.set_template({ type: 'process', param: { noorphan: true } });
    require('child_process').spawn('sleep', ['100'], { stdio: 'ignore' });
  `], { stdio: 'inherit', env: { ...process.env,
    ILLUMOS_CONTRACT_TEST_COMMIT_STALL_MS: '60000' } });
  let sleeper = 0;
  let dir = null;
  await h.until(() => {
    for (const name of fs.readdirSync(root)) {
      if (!/^\d+$/.test(name)) continue;
      let procs = '';
      try {
        procs = fs.readFileSync(path.join(root, name, 'cgroup.procs'), 'utf8');
      } catch {
        continue;
      }
      for (const pid of procs.split('\n').filter(Boolean).map(Number)) {
        let comm = '';
        try {
          comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        } catch {}
        if (comm === 'sleep') {
          sleeper = pid;
          dir = path.join(root, name);
          return true;
        }
      }
    }
    return false;
  }, h.ms(10000), 'the child to run in its contract');
  const exited = h.once(p, 'exit');
  p.kill('SIGKILL');
  await exited;
  await h.until(() => !h.alive(sleeper), h.ms(2000), 'the child to die');
  await h.until(() => !fs.existsSync(dir), h.ms(2000),
    'the contract to be removed');
});

// The tree of a killed anchor came back to its holder (docs/security.md,
// "A killed anchor"), stopped; the holder then dies: the keeper it told
// of each member kills a noorphan tree, and lets any other run on.
test('a killed anchor, then its holder: the keeper kills a noorphan tree ' +
  'and continues any other', { skip: process.env.ILLUMOS_CONTRACT_MEMBERSHIP !==
  'reaper' }, async () => {
  const state = (pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];
    } catch {
      return null;
    }
  };
  for (const noorphan of [true, false]) {
    const p = holder({ param: { noorphan } },
      '(setsid sleep 100 &); sleep 100', 2);
    const { pid, members } = await p.next();
    try {
      p.send('killanchor');
      assert.deepStrictEqual(await p.next(), { done: 'killanchor' });
      for (const m of members) assert.strictEqual(state(m), 'T', `${m} held`);
      const exited = h.once(p, 'exit');
      process.kill(pid, 'SIGKILL');
      await exited;
      if (noorphan) {
        await h.until(() => members.every((m) => !h.alive(m)), h.ms(2000),
          'the noorphan tree to die');
      } else {
        await h.until(() => members.every((m) => state(m) === 'S'),
          h.ms(2000), 'the orphaned tree to run on');
      }
    } finally {
      for (const m of members) {
        try { process.kill(m, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }
});

test('holder exit without abandon leaves an orphan that another process adopts',
  async () => {
    const p = holder({}, '(setsid sleep 100 &); sleep 100', 2);
    const { ctid, members } = await p.next();
    p.send('exit');
    await h.once(p, 'exit');
    const c = ct.observe(ctid);
    await h.until(() => c.status().state === 'orphan', 2000, 'orphaned');
    assert.ok(members.every((m) => h.alive(m)), 'members keep running');
    c.dispose();
    const a = ct.adopt(ctid);
    assert.strictEqual(a.status().state, 'owned');
    assert.strictEqual(a.status().holder, process.pid);
    const empty = h.once(a, 'pr_empty');
    a.sigsend('SIGKILL');
    await empty;
    a.abandon();
    a.dispose();
    assert.ok(!fs.existsSync(path.join(root, String(ctid))));
  });

test('abandon() in the holder makes an orphan; adopt takes it over',
  async () => {
    const p = holder({}, 'sleep 100', 1);
    const { ctid } = await p.next();
    assert.throws(() => ct.adopt(ctid), (e) => e.code === 'EPERM' &&
      /owned by pid/.test(e.message));
    p.send('abandon');
    await p.next();
    const a = ct.adopt(ctid);
    assert.strictEqual(a.status().holder, process.pid);
    const st = await a.stop({ timeout: h.ms(2000) });
    assert.deepStrictEqual(st, { forced: false });
    a.dispose();
    p.send('exit');
    await h.once(p, 'exit');
  });

test('adoption refusals: unknown id, dead contract', async () => {
  assert.throws(() => ct.adopt(987654), (e) => e.code === 'ESRCH');
  ct.set_template({ type: 'process' });
  cp.spawn('true', { stdio: 'ignore' });
  ct.clear_template();
  const c = ct.latest();
  await h.once(c, 'pr_empty');
  assert.throws(() => ct.adopt(c.ctid), (e) => e.code === 'EPERM');
  c.dispose();
});

// A SIGKILLed holder is dead to its keeper (pidfd) only once the kernel
// has closed its files, and the last close of an inotify instance with
// watches waits for an SRCU grace period (10-20 ms): the keeper holds the
// holder's instance (fd 5), so that wait is the keeper's, after the rules
// (docs/ARCHITECTURE.md, "Linux: holder death").
test('the keeper holds its holder\'s inotify instance (cgroup), else ' +
  '/dev/null, on fd 5', async () => {
  const p = holder({ param: { noorphan: true } }, 'sleep 100', 1);
  const { pid, members } = await p.next();
  let keeper = 0;
  await h.until(() => {
    [keeper] = keepersOf(pid).filter((x) => h.alive(x));
    return keeper > 0;
  }, 2000, 'a keeper');
  const link = (q, fd) => fs.readlinkSync(`/proc/${q}/fd/${fd}`);
  // The watches (wd, inode) of an inotify fd, as fdinfo lists them.
  const watches = (q, fd) => fs.readFileSync(`/proc/${q}/fdinfo/${fd}`,
    'utf8').split('\n').filter((l) => l.startsWith('inotify wd:'))
    .map((l) => l.split(' ').slice(0, 3).join(' ')).sort().join('\n');
  const mine = fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try { return link(pid, fd) === 'anon_inode:inotify'; } catch { return false; }
  });
  if (ct.features.membership === 'cgroup') {
    assert.strictEqual(mine.length, 1, 'the holder has one inotify instance');
    assert.strictEqual(link(keeper, 5), 'anon_inode:inotify');
    // The same instance: it lists the holder's watches, added since too.
    await h.until(() => watches(keeper, 5) === watches(pid, mine[0]),
      2000, 'the keeper\'s fd 5 to be the holder\'s instance');
    assert.notStrictEqual(watches(pid, mine[0]), '');
  } else {
    assert.strictEqual(link(keeper, 5), '/dev/null');
  }
  const exited = h.once(p, 'exit');
  process.kill(pid, 'SIGKILL');
  await exited;
  await h.until(() => members.every((m) => !h.alive(m)), 2000,
    'the members to die');
  await h.until(() => !h.alive(keeper), 3000, 'the keeper to leave');
});

// The keeper waits for its dead holder's orphans to end, woken by their
// notices; what raises none must not keep it forever.  Here the orphan's
// directory is removed under it while its tree runs (a registry removed
// by hand, or by a test's cleanup): before, the keeper waited until the
// tree ended (for good, if it never did); now its look every second
// finds the contract gone and it leaves.
test('a keeper whose orphan\'s directory is removed leaves', {
  skip: process.env.ILLUMOS_CONTRACT_MEMBERSHIP !== 'reaper',
}, async () => {
  const p = holder({}, 'sleep 100', 1);
  const { ctid, pid, members } = await p.next();
  try {
    let keeper = 0;
    await h.until(() => {
      [keeper] = keepersOf(pid).filter((x) => h.alive(x));
      return keeper > 0;
    }, 2000, 'a keeper');
    const exited = h.once(p, 'exit');
    process.kill(pid, 'SIGKILL');
    await exited;
    const c = ct.observe(ctid);
    await h.until(() => c.status().state === 'orphan', 2000, 'orphaned');
    c.dispose();
    assert.ok(h.alive(keeper), 'the keeper waits for the orphan');
    fs.rmSync(path.join(root, String(ctid)), { recursive: true });
    await h.until(() => !h.alive(keeper), h.ms(3000), 'the keeper to leave');
    assert.ok(members.every((m) => h.alive(m)), 'the tree was not touched');
  } finally {
    for (const m of members) {
      try { process.kill(m, 'SIGKILL'); } catch { /* gone */ }
    }
  }
});

test('killing the keeper does not lose the noorphan guarantee', async () => {
  const p = holder({ param: { noorphan: true } }, 'sleep 100', 1);
  const { pid, members } = await p.next();
  // The keeper's cgroup can vanish between readdir and the read: a new
  // keeper's sweep removes the dead one's empty cgroup (the same name,
  // k<holder>-<start>) before making it again, and a keeper that leaves
  // removes its own.  Opening it then fails with ENOENT, reading a file
  // opened just before with ENODEV.  A cgroup that is gone holds no keeper.
  const keeperOf = () => {
    // Reaper membership: the keeper has no cgroup; find it by its argv.
    if (process.env.ILLUMOS_CONTRACT_MEMBERSHIP === 'reaper') {
      const [k] = keepersOf(pid).filter((x) => h.alive(x));
      return k || 0;
    }
    for (const d of fs.readdirSync(root)) {
      if (!d.startsWith(`k${pid}-`)) continue;
      let procs;
      try {
        procs = fs.readFileSync(path.join(root, d, 'cgroup.procs'), 'utf8');
      } catch (e) {
        if (e.code === 'ENOENT' || e.code === 'ENODEV') continue;
        throw e;
      }
      procs = procs.trim();
      if (procs) return Number(procs.split('\n')[0]);
    }
    return 0;
  };
  await h.until(() => keeperOf() > 0, 2000, 'a keeper');
  const k1 = keeperOf();
  process.kill(k1, 'SIGKILL');
  await h.until(() => {
    const k = keeperOf();
    return k > 0 && k !== k1;
  }, 2000, 'the holder to start a new keeper');
  const exited = h.once(p, 'exit');
  process.kill(pid, 'SIGKILL');
  await exited;
  await h.until(() => members.every((m) => !h.alive(m)), 2000,
    'the members to die');
  await h.until(() => keeperOf() === 0, 3000, 'the keeper to leave');
});

test('a keeper started for a holder that removed its root never makes the ' +
  'root again', async () => {
  // The holder removed its root on the way out while the keeper it had
  // just started was still starting: the keeper must find nothing to keep
  // and leave, not leave a new, empty root behind.
  const gone = path.join(path.dirname(root), `ict-keeper-gone-${process.pid}`);
  const keeper = path.join(__dirname, '..', '..', 'build', 'Release', 'ct-keeper');
  const dead = cp.spawnSync('/bin/true').pid; // a holder that is gone
  const k = cp.spawn(keeper, [gone, String(dead), '1'],
    { stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'pipe'] });
  // fd 4 closes when the daemonized keeper exits (or is set up).
  let ready = '';
  k.stdio[4].on('data', (d) => { ready += d; });
  try {
    await h.once(k.stdio[4], 'close', 10000);
    k.stdio[3].destroy();
    assert.strictEqual(ready, '', 'the keeper did not set itself up');
    assert.strictEqual(fs.existsSync(gone), false, 'no root made');
  } finally {
    h.killTree(gone);
    try { fs.rmdirSync(gone); } catch {}
  }
});

// A holder's pid means something only in its own pid namespace: a process
// that opens the root from another one (a container sharing the host's
// cgroupfs, or a host process looking at a container's holder) read it in
// its own /proc, found nobody there, judged the holder dead and killed its
// noorphan tree (docs/ARCHITECTURE.md, "Holder death").
const haveUnshare = cp.spawnSync('unshare', ['-p', '-f', '--mount-proc',
  'true']).status === 0;

test('a process in another pid namespace leaves a live holder\'s contract ' +
  'alone', { skip: !haveUnshare && 'unshare -p --mount-proc does not work here' },
async () => {
  const peek = (id) => `
    const ct = require(${lib});
    let adopt = 'ok';
    try { ct.adopt(${id}).dispose(); } catch (e) { adopt = e.code; }
    console.log(JSON.stringify({ listed: ct.list().includes(${id}), adopt }));`;
  // Ours, looked at from a new pid namespace.
  const { contract: c } = ct.spawn('sh', ['-c', 'sleep 100'],
    { stdio: 'ignore' });
  try {
    const [pid] = await h.sleepers(c, 1);
    const out = cp.execFileSync('unshare', ['-p', '-f', '--mount-proc',
      process.execPath, '-e', peek(c.ctid)], { encoding: 'utf8',
      env: process.env, timeout: h.ms(30000) });
    assert.deepStrictEqual(JSON.parse(out), { listed: true, adopt: 'EPERM' });
    assert.ok(h.alive(pid), 'the member lives');
    assert.strictEqual(c.status().state, 'owned');
    assert.strictEqual(c.status().holder, process.pid);
  } finally {
    c.sigsend('SIGKILL');
    await h.once(c, 'pr_empty');
    c.dispose();
  }
  // A holder in a new pid namespace, looked at from ours by a new process
  // (the sweep of the root is once per process).
  const p = cp.spawn('unshare', ['-p', '-f', '--mount-proc', 'sh', '-c',
    '"$0" -e "$1"', process.execPath, `
      const ct = require(${lib});
      const { contract } = ct.spawn('sleep', ['100'], { stdio: 'ignore' });
      console.log(contract.ctid);
      // Asked, it says what it holds, as seen in its own namespace.
      process.stdin.on('data', () => {
        const st = contract.status();
        console.log(JSON.stringify({ state: st.state,
          members: st.pr_members.length }));
        process.exit(0);
      });`],
  { stdio: ['pipe', 'pipe', 'inherit'] });
  let asked = false;
  try {
    const id = Number(String(await h.once(p.stdout, 'data')).trim());
    const out = cp.execFileSync(process.execPath, ['-e', peek(id)],
      { encoding: 'utf8', env: process.env, timeout: h.ms(30000) });
    assert.deepStrictEqual(JSON.parse(out), { listed: true, adopt: 'EPERM' });
    const o = ct.observe(id);
    assert.strictEqual(o.status().state, 'owned');
    o.dispose();
    const said = h.once(p.stdout, 'data');
    p.stdin.end('status\n');
    asked = true;
    assert.deepStrictEqual(JSON.parse(String(await said)),
      { state: 'owned', members: 1 }, 'the member lives');
  } finally {
    if (!asked) p.stdin.end('exit\n');
    if (p.exitCode === null && p.signalCode === null) await h.once(p, 'exit');
  }
});
