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
const ct = require('../..');
const privileged = process.argv[3] !== 'unprivileged';
m.privileges(privileged ? 1 : 0, privileged ? 1 : 0);

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
    out({ stopped, state2: m.state(id2), exists2: m.exists(id2),
      sig2: m.lastSignal(id2) });
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
