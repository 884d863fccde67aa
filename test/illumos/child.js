'use strict';
// Run by test/unit/illumos-model.test.js: the library on the addon built from
// src/binding.c and src/illumos/ against the model of the illumos kernel
// (test/illumos/README.md), scripted through model.node.  Prints one JSON
// line per result; the scenario is argv[2], and argv[3] 'unprivileged'
// runs it as a process without contract_event and contract_observer (as
// an ordinary user; root has both).  Without a scenario (node --test runs
// every file under test/) it does nothing.
if (process.argv[2] === undefined) return;
const path = require('path');
const Module = require('module');

const dir = path.join(__dirname, '..', 'c', 'bin', 'il');
const file = require.resolve('../../lib/binding');
const fake = new Module(file, module);
fake.filename = file;
fake.loaded = true;
fake.exports = {
  binding: require(path.join(dir, 'illumos_model.node')),
  shimPath: () => null,
};
require.cache[file] = fake;
const m = require(path.join(dir, 'model.node'));
const privileged = process.argv[3] !== 'unprivileged';
m.privileges(privileged ? 1 : 0, privileged ? 1 : 0);

// The kernel puts a child forked under an active template in a new
// contract, its first member (process.c:1019-1047).  Here the fork is
// Node's own, so it is told to the model right after it, before the
// library's hook commits the spawn (this wrapper is installed before the
// library loads, so the hook wraps it); the model sends the real child
// the contract's signals (model_real), and its exit, once Node reaped it,
// is told to the model.  The model never sees the child's own forks.
const { ChildProcess } = require('child_process');
const realSpawn = ChildProcess.prototype.spawn;
ChildProcess.prototype.spawn = function modelFork(options) {
  const r = realSpawn.call(this, options);
  const pid = this.pid;
  if (pid !== undefined && m.fork(pid) > 0) {
    m.real(pid);
    this.once('exit', (code, signal) => m.exit(pid,
      signal !== null ? os.constants.signals[signal] : code << 8));
  }
  return r;
};
const os = require('os');
const ct = require('../..');

// `await using x = v; return body(x)`, in the language's own syntax where
// this Node has it, else what that syntax does at the end of its block.
let usingSyntax = true;
let using;
try {
  using = new Function('v', 'body',
    'return (async () => { await using x = v; return await body(x); })();');
} catch {
  usingSyntax = false;
  using = async (v, body) => {
    try {
      return await body(v);
    } finally {
      await v[Symbol.asyncDispose]();
    }
  };
}

const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

const scenarios = {
  // Terms without pr_empty: the user sees pr_exit only, and the listened
  // contract lets the process end once it is empty.  A critical pr_exit
  // needs contract_event (process.c:322-323): unprivileged, set_template
  // throws EPERM and the informative pr_exit an ordinary user can have
  // is set instead.
  loop() {
    let refused = null;
    try {
      ct.set_template({ type: 'process', critical: { pr_exit: true },
        informative: {} });
    } catch (e) {
      refused = e.code;
      ct.set_template({ type: 'process', critical: {},
        informative: { pr_exit: true } });
    }
    const id = m.fork(4242);
    ct.clear_template();
    const c = ct.latest();
    const seen = [];
    c.on('pr_exit', () => seen.push('pr_exit'));
    c.on('pr_empty', () => seen.push('pr_empty'));
    process.on('exit', () => out({ id, seen, refused,
      informative: c.status().informative.pr_empty }));
    setImmediate(() => m.exit(4242, 0));
  },
  // stop() on a member that ignores SIGTERM: SIGKILL after the timeout,
  // no freezer involved; dispose then abandons the empty contract.
  async stop() {
    ct.set_template({ type: 'process' });
    const id = m.fork(5151);
    ct.clear_template();
    const c = ct.latest();
    const r = await c.stop({ timeout: 50 });
    const sig = m.lastSignal(id);
    c.dispose();
    let freeze = null;
    const d = (ct.set_template({ type: 'process' }), m.fork(5152));
    ct.clear_template();
    const c2 = ct.latest();
    try { await c2.freeze(); } catch (e) { freeze = e.code; }
    m.exit(5152, 0);
    c2.dispose();
    out({ r, sig, exists: m.exists(id), freeze, features: ct.features,
      exists2: m.exists(d) });
  },
  // An adopted contract whose terms lack pr_empty (its author's): the
  // kernel never sends one (process.c:963); stop() and `await using`
  // still end once its members are gone.
  async adopted() {
    const PR_FORK = 2, PR_EXIT = 4, INHERIT = 1, REGENT = 8, OURS = 1;
    // Our process contract is a regent and the holder one of its members:
    // its exit hands the contract to ours (contract.c:512-513).
    m.selfParams(REGENT);
    const id = m.foreignSameUser(6161, PR_EXIT, PR_FORK, INHERIT);
    m.holderIn(id, OURS, 0);
    m.holderExit(id);
    const c = new ct.Contract(id, true);
    const r = await c.stop({ timeout: 20 });
    const stopped = { r, sig: m.lastSignal(id), members:
      c.status().pr_members.length };
    const id2 = m.foreignSameUser(6262, 0, PR_FORK, INHERIT);
    m.holderIn(id2, OURS, 0);
    m.holderExit(id2);
    // What `await using c2 = ...` does at the end of its block (the
    // syntax needs a newer Node than the floor).
    const c2 = new ct.Contract(id2, true);
    c2.on('pr_fork', () => {});
    await c2[Symbol.asyncDispose]();
    // An orphan (no inherit) cannot be adopted on illumos: its ctl file
    // refuses us (ctfs_ctl.c:96-99), where Linux would let our uid adopt.
    const orph = m.foreignSameUser(6363, 0, PR_FORK, 0);
    m.holderExit(orph);
    let refused = null;
    try {
      new ct.Contract(orph, true);
    } catch (e) {
      refused = e.code;
    }
    out({ stopped, state2: m.state(id2), exists2: m.exists(id2),
      sig2: m.lastSignal(id2), refused, orphanState: m.state(orph) });
  },
  // run() over the model, its child a real process (modelFork above):
  // settles once the child is reaped and the contract empty, with the
  // exit code, the output and a timeout's signal, and leaves no contract.
  async run() {
    const pick = (r) => ({ exitCode: r.exitCode, signal: r.signal,
      timedOut: r.timedOut, forced: r.forced, stdout: r.stdout });
    const r1 = await ct.run('sh', ['-c', 'echo out; exit 3'],
      { reject: false, stdio: 'pipe' });
    // A timeout rejects even with reject: false (docs/api.md, run()); the
    // error carries the result's fields.
    const r2 = await ct.run('sleep', ['30'], { timeout: 100 })
      .catch((e) => e);
    let rejected = null;
    try {
      await ct.run('sh', ['-c', 'exit 2']);
    } catch (e) {
      rejected = e.exitCode;
    }
    out({ r1: pick(r1), exists1: m.exists(r1.ctid), r2: pick(r2),
      code2: r2.code,
      sig2: m.lastSignal(r2.ctid), exists2: m.exists(r2.ctid), rejected,
      distinct: r1.ctid !== r2.ctid });
  },
  // `await using` on a held contract (spawn()'s, a real child): the tree
  // is stopped (SIGTERM), then the contract abandoned and, empty,
  // destroyed.  On an observed one: nothing is signalled, the handle
  // goes, the contract lives on.  On a held contract already empty: it
  // is abandoned at once.
  async using() {
    const { child, contract } = ct.spawn('sleep', ['30']);
    const held = contract.ctid;
    let exited = null;
    child.on('exit', (code, signal) => { exited = signal; });
    await using(contract, async (c) => {
      c.on('pr_empty', () => {});
    });
    const heldOut = { exists: m.exists(held), sig: m.lastSignal(held),
      exited };
    const PR_FORK = 2;
    const obs = m.foreignSameUser(8181, 0, PR_FORK, 0);
    await using(new ct.Contract(obs), async (c) => {
      c.on('pr_fork', () => {});
      m.memberFork(8181, 8182);
    });
    const obsOut = { exists: m.exists(obs), sig: m.lastSignal(obs),
      state: m.state(obs) };
    m.exit(8182, 0);
    m.exit(8181, 0);
    ct.set_template({ type: 'process' });
    const done = m.fork(8383);
    ct.clear_template();
    const c3 = ct.latest();
    m.exit(8383, 0);
    await c3.whenEmpty();
    await using(c3, async () => {});
    out({ usingSyntax, held: heldOut, observed: obsOut,
      emptyExists: m.exists(done) });
  },
  // An observed contract without pr_empty in its terms, listened to:
  // the loop is released once it empties.
  observed() {
    const PR_FORK = 2;
    const id = m.foreignSameUser(7171, 0, PR_FORK, 0);
    const c = new ct.Contract(id);
    const seen = [];
    c.on('pr_fork', (ev) => seen.push(ev.pid));
    setImmediate(() => {
      m.memberFork(7171, 7172);
      setImmediate(() => { m.exit(7172, 0); m.exit(7171, 0); });
    });
    process.on('exit', () => out({ id, seen }));
  },
};

scenarios[process.argv[2]]();
