'use strict';
// Per-member events with payloads, critical events and acks, fatal sets,
// and a fork storm (docs/ARCHITECTURE.md, "Fatal events", "Acknowledgement").
const { test } = require('node:test');
const assert = require('node:assert');
const cp = require('child_process');
const fs = require('fs');
const path = require('path');
const h = require('../lib/helpers');

const root = h.useRoot('ev');
const ct = require('../..');
const reaper = process.env.ILLUMOS_CONTRACT_MEMBERSHIP === 'reaper';

// The program: the child we spawned, under both memberships (under reaper
// the anchor between us and it is never a visible pid).
function program(child) {
  return { pid: child.pid, ppid: process.pid };
}

const ALL = { pr_empty: true, pr_fork: true, pr_exit: true, pr_core: true,
  pr_signal: true };

function spawnIn(cmd, args, template) {
  ct.set_template({ type: 'process', ...template });
  let child;
  try {
    child = cp.spawn(cmd, args, { stdio: 'ignore' });
  } finally {
    ct.clear_template();
  }
  const c = ct.latest();
  const events = [];
  for (const n of ['pr_fork', 'pr_exit', 'pr_core', 'pr_signal', 'pr_empty',
    'pr_lost']) {
    c.on(n, (ev) => events.push(ev));
  }
  // `empty` is made when asked for: its pending deadline holds the event
  // loop, so a test that never awaits it must not create it.
  let empty = null;
  return { child, c, events,
    get empty() { return empty || (empty = h.once(c, 'pr_empty', 20000)); } };
}

test('pr_fork and pr_exit match a known tree, pr_empty comes last', async () => {
  const { child, c, events, empty } = spawnIn('sh',
    ['-c', 'sleep 0.05 & sleep 0.1 & wait'], { informative: ALL });
  const prog = await program(child, c);
  await empty;
  const forks = events.filter((e) => e.type === 'pr_fork');
  const exits = events.filter((e) => e.type === 'pr_exit');
  assert.strictEqual(forks.length, 3, JSON.stringify(events));
  assert.strictEqual(forks[0].pid, prog.pid);
  assert.strictEqual(forks[0].ppid, prog.ppid);
  assert.ok(forks.slice(1).every((e) => e.ppid === prog.pid));
  assert.deepStrictEqual(exits.map((e) => e.pid).sort(),
    forks.map((e) => e.pid).sort());
  assert.ok(exits.every((e) => e.exitstatus === 0));
  const last = events[events.length - 1];
  assert.strictEqual(last.type, 'pr_empty');
  assert.strictEqual(last.pid, exits[exits.length - 1].pid);
  assert.ok(events.every((e) => e.flags.info === (e.type !== 'pr_empty')));
  const ids = events.map((e) => BigInt(e.evid));
  assert.ok(ids.every((v, i) => i === 0 || v > ids[i - 1]), 'evids increase');
  c.dispose();
});

// A program gone before spawn() returns: under reaper membership its
// anchor may have ended before the spawn's commit read it.  Its events are
// queued already then, and pr_empty must wait for them (and must come
// where no connector tells them).
test('a program that ends at once: pr_fork, pr_exit and pr_core come ' +
  'before pr_empty, 20 times', async () => {
  for (let i = 0; i < 20; i++) {
    const { c, events, empty } = spawnIn('sh',
      ['-c', 'ulimit -c 0; kill -SEGV $$'], { informative: ALL });
    await empty;
    const types = events.map((e) => e.type);
    assert.deepStrictEqual(types, ['pr_fork', 'pr_core', 'pr_exit',
      'pr_empty'], `run ${i}: ${JSON.stringify(events)}`);
    c.dispose();
  }
});

test('exit statuses are raw wait statuses', async () => {
  const { c, events, empty } = spawnIn('sh', ['-c', 'exit 7'],
    { informative: ALL });
  await empty;
  const exit = events.find((e) => e.type === 'pr_exit');
  assert.strictEqual(exit.exitstatus, 7 << 8);
  c.dispose();
});

for (const [sig, num] of [['SEGV', 11], ['ABRT', 6]]) {
  test(`a member that kills itself with SIG${sig} gives pr_core`, async () => {
    const { c, events, empty } = spawnIn('sh', ['-c', `ulimit -c 0; kill -${sig} $$`],
      { informative: ALL });
    await empty;
    const core = events.find((e) => e.type === 'pr_core');
    assert.ok(core, JSON.stringify(events));
    assert.strictEqual(core.signal, num);
    assert.ok(!events.some((e) => e.type === 'pr_signal'));
    const exit = events.find((e) => e.type === 'pr_exit');
    assert.strictEqual(exit.exitstatus & 0x7f, num);
    assert.ok(events.indexOf(core) < events.indexOf(exit));
    c.dispose();
  });
}

test('pr_core names the core file where one was written', async () => {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-core-'));
  try {
    // Best effort: the path is worked out while the member dumps; a very
    // loaded machine can miss that moment, so a few tries are allowed.
    let core;
    for (let i = 0; i < 5 && !(core && core.pcorefile); i++) {
      const { c, events, empty } = spawnIn('sh', ['-c',
        `ulimit -c unlimited; cd ${dir} && exec sh -c 'kill -SEGV $$'`],
      { informative: ALL });
      await empty;
      core = events.find((e) => e.type === 'pr_core');
      c.dispose();
    }
    const pattern = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    if (pattern.startsWith('|')) {
      assert.strictEqual(core.pcorefile, undefined, 'piped: no file');
    } else {
      assert.ok(core.pcorefile, JSON.stringify(core));
      assert.ok(fs.existsSync(core.pcorefile), core.pcorefile);
      assert.ok(core.pcorefile.startsWith(fs.realpathSync(dir)) ||
        path.isAbsolute(pattern), core.pcorefile);
    }
    // Without a written core (ulimit -c 0) there is no path.
    const b = spawnIn('sh', ['-c', `ulimit -c 0; cd ${dir} && exec sh -c 'kill -SEGV $$'`],
      { informative: ALL });
    await b.empty;
    const core2 = b.events.find((e) => e.type === 'pr_core');
    assert.strictEqual(core2.signal, 11);
    assert.strictEqual(core2.pcorefile, undefined);
    b.c.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a member killed from outside gives pr_signal', async () => {
  const { child, c, events, empty } = spawnIn('sleep', ['30'],
    { informative: ALL });
  await h.until(() => c.status().pr_members.length === 1);
  const { pid } = await program(child, c);
  process.kill(pid, 'SIGTERM');
  await empty;
  const s = events.find((e) => e.type === 'pr_signal');
  assert.ok(s, JSON.stringify(events));
  assert.strictEqual(s.pid, pid);
  assert.strictEqual(s.signal, 15);
  assert.strictEqual(s.sender, undefined, 'the sender is unknown on Linux');
  c.dispose();
});

test('sigsend names us as the sender of pr_signal', async () => {
  const { child, c, events, empty } = spawnIn('sleep', ['30'],
    { informative: ALL });
  await h.until(() => c.status().pr_members.length === 1);
  c.sigsend('SIGINT');
  await empty;
  const s = events.find((e) => e.type === 'pr_signal');
  assert.strictEqual(s.signal, 2);
  assert.strictEqual(s.sender, process.pid);
  assert.strictEqual(s.pid, (await program(child, c)).pid);
  c.dispose();
});

test('a fatal pr_core kills every other member, setsid daemons included',
  async () => {
    const { c, events, empty } = spawnIn('sh', ['-c',
      'ulimit -c 0; (setsid sleep 100 &); sleep 100 & sleep 0.2; kill -SEGV $$'],
      { fatal: { pr_core: true }, informative: ALL });
    await h.until(() => c.status().pr_members.length >= 3, 5000, 'the tree');
    const pids = c.status().pr_members;
    await empty;
    for (const pid of pids) {
      await h.until(() => !h.alive(pid), 2000, `pid ${pid} to be killed`);
    }
    assert.strictEqual(events.filter((e) => e.type === 'pr_core').length, 1);
    assert.strictEqual(events.filter((e) => e.type === 'pr_signal').length, 0,
      'fatal kills are internal: no pr_signal');
    assert.strictEqual(events.filter((e) => e.type === 'pr_exit').length,
      events.filter((e) => e.type === 'pr_fork').length);
    c.dispose();
  });

test('pgrponly limits a fatal kill to the culprit\'s process group',
  async () => {
    const { c, events } = spawnIn('sh', ['-c',
      'ulimit -c 0; (setsid sleep 100 &); sleep 100 & sleep 0.2; kill -SEGV $$'],
      { fatal: { pr_core: true }, param: { pgrponly: true },
        informative: ALL });
    await h.until(() => c.status().pr_members.length >= 3, 5000, 'the tree');
    await h.until(() => events.some((e) => e.type === 'pr_core'), 5000,
      'the core');
    // The sleep in the shell's group dies; the setsid daemon survives.
    await h.until(() => c.status().pr_members.length === 1, 5000,
      'the process group to be killed');
    const [daemon] = c.status().pr_members;
    assert.ok(h.alive(daemon));
    const empty = h.once(c, 'pr_empty');
    c.sigsend('SIGKILL');
    await empty;
    c.dispose();
  });

test('critical events count in nevents until acked', async () => {
  const { c, events, empty } = spawnIn('sh', ['-c', 'true & wait'],
    { critical: { pr_empty: true, pr_fork: true, pr_exit: true } });
  await empty;
  const crit = events.filter((e) => !e.flags.info);
  assert.strictEqual(crit.length, 5); // 2 forks, 2 exits, empty
  assert.strictEqual(c.status().nevents, 5);
  for (const [i, e] of crit.entries()) {
    c.ack(e.evid);
    assert.strictEqual(c.status().nevents, 4 - i);
  }
  assert.throws(() => c.ack(crit[0].evid),
    (e) => e.code === 'ESRCH' && e.errno === 3);
  assert.throws(() => c.ack('999999'), (e) => e.code === 'ESRCH');
  assert.throws(() => c.ack(42), (e) => e instanceof TypeError);
  assert.throws(() => c.ack('x'), (e) => e instanceof TypeError);
  assert.throws(() => c.ack('0x1ffffffffffffffff'),
    (e) => e instanceof RangeError);
  assert.throws(() => c.nack(crit[0].evid), (e) => e.code === 'ESRCH' &&
    /never negotiate/.test(e.message));
  assert.throws(() => c.qack(crit[0].evid), (e) => e.code === 'ESRCH');
  c.dispose();
});

test('informative events with no listener are not delivered', async () => {
  const { c, events } = spawnIn('true', [],
    { critical: {}, informative: { pr_exit: true } });
  await h.until(() => events.some((e) => e.type === 'pr_exit'));
  // pr_empty is in no set: it never arrives (a listener is on it), but
  // stop() still sees the contract empty.
  await c.stop();
  assert.ok(!events.some((e) => e.type === 'pr_empty'));
  c.dispose();
});

test('a fork storm loses no event, or says so', async () => {
  // The storm program and its N children: N + 1 forks and exits.
  const N = 2000;
  const { c, events } = spawnIn(h.storm(), [String(N)],
    { critical: { pr_empty: true }, informative: ALL });
  // The storm's own length is the machine's: wait while it progresses.
  await h.onceProgressing(c, 'pr_empty', () => events.length);
  const count = (t) => events.filter((e) => e.type === t).length;
  const lost = events.filter((e) => e.type === 'pr_lost');
  if (lost.length === 0) {
    assert.strictEqual(count('pr_fork'), N + 1);
    assert.strictEqual(count('pr_exit'), N + 1);
    assert.strictEqual(c.status().lost, 0);
  } else {
    assert.ok(c.status().lost > 0, 'a loss is counted in status()');
  }
  assert.strictEqual(count('pr_empty'), 1);
  c.dispose();
});
