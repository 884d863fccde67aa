'use strict';
// spawn_ratio.<mechanism>: spawn /bin/true and see it exit inside a fresh
// contract ÷ the same with plain child_process.spawn, interleaved.
//
//   ILLUMOS_CONTRACT_SPAWN=atfork|shim node bench/spawn.js
//
// The mechanism is fixed per process by the environment, so run.js starts
// one of these per mechanism.  The pattern is a real user's: the template
// is set once and stays active over a block of spawns; after each spawn
// latest() hands out the contract, which is disposed after the child's
// 'exit'.  "Sees it exit" is the child's 'exit' event in both cases, the
// same thing a plain spawn waits for (pr_empty is measured by empty.js).
// Blocks of contract runs alternate with blocks of plain runs (the template
// is set before and cleared after each contract block, untimed).  The
// ratio is the median over adjacent block pairs of median(contract block) ÷
// median(plain block): load from elsewhere on the machine comes and goes
// in bursts longer than a block pair, and pairing keeps it out of the
// ratio.  ratio_of_medians compares the pooled medians instead.
//
// lifecycle_ratio: the whole life of a contract, spawn -> 'exit' and
// pr_empty -> dispose(), ÷ a plain spawn to 'exit', in block pairs too.
//
// Then "sporadic": the same pairs with 50 ms of idle before each run, as a
// server that spawns now and then does; also how long spawn() (and, for
// a contract, latest()) blocks the event loop.  See floor.js for why that
// can differ.
const { useRoot, median, mean, nowNs, round, log, done } = require('./common');

useRoot(`spawn-${process.env.ILLUMOS_CONTRACT_SPAWN || 'auto'}`);
const contract = require('..');
const { spawn } = require('child_process');
const { setTimeout: delay } = require('timers/promises');

const RUNS = Number(process.env.ICT_BENCH_SPAWN_RUNS) || 400; // each kind
const BLOCK = 5;
const WARM = 30;
const TEMPLATE = { type: 'process', critical: { pr_empty: true } };
const LIFE_RUNS = Number(process.env.ICT_BENCH_LIFE_RUNS) || 200;
const SPORADIC = 30;
const GAP_MS = 50;

// Spawn /bin/true (and take latest() for a contract run): resolves with
// the ms to its 'exit'; blocked, if given, gets the ms spawn() took.
function runOnce(withContract, blocked) {
  return new Promise((resolve, reject) => {
    const t0 = nowNs();
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    const ct = withContract ? contract.latest() : null;
    if (blocked) blocked.push(Number(nowNs() - t0) / 1e6);
    child.once('error', reject);
    child.once('exit', (code) => {
      const t = Number(nowNs() - t0) / 1e6;
      if (ct) ct.dispose();
      if (code !== 0) reject(new Error(`/bin/true exited ${code}`));
      else resolve(t);
    });
  });
}
const plainOnce = () => runOnce(false);
const contractOnce = () => runOnce(true);

// Spawn /bin/true in a contract: ms to its 'exit' and pr_empty, disposed.
function lifecycleOnce() {
  return new Promise((resolve, reject) => {
    const t0 = nowNs();
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    const ct = contract.latest();
    let n = 0;
    const fin = () => {
      if (++n < 2) return;
      ct.dispose();
      resolve(Number(nowNs() - t0) / 1e6);
    };
    child.once('error', reject);
    child.once('exit', fin);
    ct.once('pr_empty', fin);
  });
}

async function block(kind, n, out) {
  if (kind !== 'plain') contract.set_template(TEMPLATE);
  try {
    for (let i = 0; i < n; i++) {
      const t = await (kind === 'contract' ? contractOnce()
        : kind === 'lifecycle' ? lifecycleOnce() : plainOnce());
      if (out) out.push(t);
    }
  } finally {
    if (kind !== 'plain') contract.clear_template();
  }
}

async function main() {
  const mode = contract.features.spawn;
  log(`spawn (${mode}): ${RUNS} plain and ${RUNS} contract spawns of ` +
    `/bin/true, alternating in blocks of ${BLOCK}`);
  await block('plain', WARM);
  await block('contract', WARM);
  const plain = [];
  const ct = [];
  const pairs = [];
  for (let b = 0; b < RUNS / BLOCK; b++) {
    const first = b % 2 === 0 ? 'plain' : 'contract';
    const second = first === 'plain' ? 'contract' : 'plain';
    const got = { plain: [], contract: [] };
    await block(first, BLOCK, got[first]);
    await block(second, BLOCK, got[second]);
    plain.push(...got.plain);
    ct.push(...got.contract);
    pairs.push(median(got.contract) / median(got.plain));
  }
  log(`spawn (${mode}): ${LIFE_RUNS} plain spawns and ${LIFE_RUNS} ` +
    'whole lifecycles (to pr_empty and dispose), alternating in blocks');
  const life = { plain: [], lifecycle: [], pairs: [] };
  for (let b = 0; b < LIFE_RUNS / BLOCK; b++) {
    const first = b % 2 === 0 ? 'plain' : 'lifecycle';
    const second = first === 'plain' ? 'lifecycle' : 'plain';
    const got = { plain: [], lifecycle: [] };
    await block(first, BLOCK, got[first]);
    await block(second, BLOCK, got[second]);
    life.plain.push(...got.plain);
    life.lifecycle.push(...got.lifecycle);
    life.pairs.push(median(got.lifecycle) / median(got.plain));
  }
  log(`spawn (${mode}): ${SPORADIC} sporadic pairs, ${GAP_MS} ms idle ` +
    'before each');
  const sp = { plain: [], ct: [], plainBlock: [], ctBlock: [] };
  for (let i = 0; i < SPORADIC; i++) {
    await delay(GAP_MS);
    sp.plain.push(await runOnce(false, sp.plainBlock));
    contract.set_template(TEMPLATE);
    await delay(GAP_MS);
    sp.ct.push(await runOnce(true, sp.ctBlock));
    contract.clear_template();
  }
  done({
    mode,
    runs: ct.length,
    ratio: round(median(pairs)),
    ratio_of_medians: round(median(ct) / median(plain)),
    ratio_mean: round(mean(ct) / mean(plain)),
    plain_ms: round(median(plain)),
    contract_ms: round(median(ct)),
    lifecycle_ratio: round(median(life.pairs)),
    lifecycle_ms: round(median(life.lifecycle)),
    lifecycle_plain_ms: round(median(life.plain)),
    sporadic_ratio: round(median(sp.ct) / median(sp.plain)),
    sporadic_plain_ms: round(median(sp.plain)),
    sporadic_contract_ms: round(median(sp.ct)),
    sporadic_plain_blocks_ms: round(median(sp.plainBlock)),
    sporadic_contract_blocks_ms: round(median(sp.ctBlock)),
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
