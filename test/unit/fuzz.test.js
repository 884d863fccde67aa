'use strict';
// A 5,000-call slice of the fuzzer (test/fuzz/fuzz.js; `npm run fuzz` runs
// 100,000): once with a fixed seed, once with a random one (in the test's
// name: re-run it with `npm run fuzz -- --seed S --iterations 5000
// --spawn M`).  Pass: no death by a signal, no uncaught exception or
// unhandled rejection, every throw an Error with a string code (the
// fuzzer's own getters' and traps' throws arriving unchanged), no hung
// promise, fds back exactly and RSS within the slack after disposing
// everything, and no directory, keeper or process left.
const { test } = require('node:test');
const assert = require('node:assert');
const { randomInt } = require('crypto');
const { runFuzz } = require('../fuzz/fuzz');
const h = require('../lib/helpers');

const runs = [
  { seed: 7, spawn: 'atfork' },
  { seed: randomInt(2 ** 32), spawn: 'shim' },
];

for (const { seed, spawn } of runs) {
  test(`fuzz: 5,000 calls, seed ${seed}, spawn ${spawn}`, async () => {
    const r = await runFuzz({ seed, spawn, iterations: 5000,
      timeout: h.ms(60000) });
    assert.ok(r.result, r.problems.join('\n'));
    const { fds, rssMB, stats } = r.result;
    assert.strictEqual(fds[1], fds[0],
      `fds back to the baseline: ${r.problems.join('\n')}`);
    assert.ok(stats.spawns > 0 && stats.contracts > 0, 'it did spawn');
    assert.ok(stats.booms > 0, 'getters and traps did throw');
    assert.deepStrictEqual(r.problems, [],
      `seed ${seed} spawn ${spawn}; RSS ${rssMB[0].toFixed(1)} -> ` +
      `${rssMB[1].toFixed(1)} MB`);
  });
}
