'use strict';
// Leaks (docs/building.md, "Reliability"): 1,000 create -> member exits -> pr_empty -> dispose
// cycles leave fds, directories and the keeper exactly as they were, and
// RSS within a stated slack (test/fuzz/leak.js says why).  The full
// 10,000 cycles: node test/fuzz/leak.js.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('path');
const common = require('../fuzz/common');
const { runLeak, RSS_SLACK_MB } = require('../fuzz/leak');
const h = require('../lib/helpers');

test('1,000 create/exit/pr_empty/dispose cycles leak nothing', async () => {
  const r = await runLeak({ cycles: 1000, timeout: h.ms(60000) });
  assert.ok(r.result, r.problems.join('\n'));
  const { start, end } = r.result;
  assert.strictEqual(end.fds, start.fds, 'fds back to the baseline exactly');
  assert.strictEqual(end.dirs, 0, 'no contract directory left');
  assert.strictEqual(end.keepers, 0, 'the keeper left once nothing was held');
  assert.ok(end.rssMB - start.rssMB < RSS_SLACK_MB,
    `RSS ${start.rssMB.toFixed(1)} -> ${end.rssMB.toFixed(1)} MB`);
  assert.ok(r.result.maxKeepers <= 1, 'one keeper at a time');
  // The child exited holding a live noorphan contract: its keeper killed
  // the member, removed the contract and left at once.
  assert.deepStrictEqual(r.afterExit && [r.afterExit.keepers, r.afterExit.dirs,
    r.afterExit.processes], [0, 0, 0]);
  assert.deepStrictEqual(r.problems, []);
});

// docs/linux.md (Limits): "An owned contract no Contract object refers to any
// more is abandoned when it empties."  But lib/contract.js keeps every
// Contract in `registry` (ctid -> Set of strong references) until
// dispose(), so a Contract that is merely dropped is never collected: its
// handle (2 fds) and its directory stay until the process exits.
test('a Contract dropped without dispose() is released once it empties',
  async () => {
  const jail = common.makeJail('leak-drop');
  try {
    const lib = JSON.stringify(path.join(__dirname, '..', '..'));
    const run = await common.runWorker(jail, ['--expose-gc', '-e', `
      const ct = require(${lib});
      const fs = require('fs');
      (async () => {
        const fds = () => fs.readdirSync('/proc/self/fd').length;
        const dirs = () => fs.readdirSync(process.env.ILLUMOS_CONTRACT_ROOT)
          .filter((e) => /^\\d+$/.test(e)).length;
        const one = async () => {
          const { contract } = ct.spawn('/bin/true', [], { stdio: 'ignore' });
          await new Promise((r) => contract.once('pr_empty', r));
        };
        await one();
        global.gc();
        const before = fds();
        for (let i = 0; i < 100; i++) await one(); // dropped, not disposed
        for (let i = 0; i < 5; i++) {
          global.gc();
          await new Promise((r) => setTimeout(r, 20));
        }
        console.log('RESULT ' + JSON.stringify({ before, after: fds(), dirs: dirs() }));
      })();
    `], { timeout: h.ms(30000) });
    const r = common.parseResult(run.out);
    assert.ok(r, run.err);
    assert.ok(r.after - r.before < 10, `fds ${r.before} -> ${r.after}`);
    assert.ok(r.dirs < 10, `${r.dirs} contract directories kept`);
  } finally {
    common.removeJail(jail);
  }
});

// docs/linux.md (Limits): an idle contract (members gone, Contract kept)
// holds no fd, so every later spawn does not copy one per contract held.
// A call on an idle one borrows its directory until the next dispatch, at
// most 16 at once (src/linux/watch.c, LENT_MAX): 100 kept contracts then
// add at most 16 fds whenever they are counted, where one each added 100.
test('idle contracts hold no fd however many are kept', async () => {
  const jail = common.makeJail('leak-idle');
  try {
    const lib = JSON.stringify(path.join(__dirname, '..', '..'));
    const run = await common.runWorker(jail, ['-e', `
      const ct = require(${lib});
      const fs = require('fs');
      (async () => {
        const fds = () => fs.readdirSync('/proc/self/fd').length;
        const one = async () => {
          const { contract } = ct.spawn('/bin/true', [], { stdio: 'ignore' });
          await new Promise((r) => contract.once('pr_empty', r));
          return contract;
        };
        const kept = [await one()];
        const before = fds();
        for (let i = 0; i < 100; i++) kept.push(await one());
        const idle = fds();
        const states = kept.map((c) => c.status().state);
        const statused = fds();
        for (const c of kept) c.dispose();
        console.log('RESULT ' + JSON.stringify({ before, idle, statused,
          states: [...new Set(states)] }));
      })();
    `], { timeout: h.ms(60000) });
    const r = common.parseResult(run.out);
    assert.ok(r, run.err);
    assert.ok(r.idle - r.before <= 16, `fds ${r.before} -> ${r.idle}`);
    assert.ok(r.statused - r.before <= 16,
      `fds ${r.before} -> ${r.statused} after status() of each`);
    assert.strictEqual(r.states.length, 1, `states ${r.states}`);
  } finally {
    common.removeJail(jail);
  }
});
