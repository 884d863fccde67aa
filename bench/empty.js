'use strict';
// empty_latency_ms: from the last member's exit to pr_empty delivered in
// JavaScript, for members living < 5 ms ("short") and >= 30 ms ("long").
//
// The member is bench/stamp.c: it sleeps, writes CLOCK_MONOTONIC (ns) to
// its stdout pipe and _exits at once; the pr_empty listener takes
// process.hrtime.bigint(), libuv's uv_hrtime(), which is CLOCK_MONOTONIC on
// Linux too.  So each latency includes the kernel's exit of the process,
// the event reaching the addon and the dispatch into JS.  One contract at a
// time, the template set around each; the short samples run back to back, then
// the long ones (a short member that starts after an idle gap can spend
// ~10 ms in its cgroup join, see spawn.js, and would not live < 5 ms).
//
// Node's own 'exit' latency is the baseline: each contract sample is
// paired with a plain one (no template: child_process alone) of the same
// program, from its stamp to its 'exit' event, in the same run; the ratio
// is median(pr_empty latency) / median('exit' latency), per kind.
const { useRoot, helper, quantile, median, nowNs, round, log, done, once } =
  require('./common');

useRoot('empty');
const contract = require('..');
const { spawn } = require('child_process');

const RUNS = Number(process.env.ICT_BENCH_EMPTY_RUNS) || 200; // per kind
const KINDS = { short: 200, long: 30000 }; // sleep before exit, µs
const stamp = helper('stamp');

// A plain spawn of the same program: its stamp to Node's 'exit', in ms.
function plainSample(sleepUs) {
  return new Promise((resolve, reject) => {
    const child = spawn(stamp, [String(sleepUs)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let exitAt = null;
    let closed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { out += d; });
    const finish = () => {
      if (exitAt === null || !closed) return;
      clearTimeout(timer);
      resolve(Number(exitAt - BigInt(out.trim())) / 1e6);
    };
    child.once('exit', () => { exitAt = nowNs(); finish(); });
    child.once('error', reject);
    child.once('close', () => { closed = true; finish(); });
    const timer = setTimeout(() => reject(new Error('no exit in 5 s')),
      5000);
  });
}

function sample(sleepUs) {
  return new Promise((resolve, reject) => {
    const t0 = nowNs();
    const child = spawn(stamp, [String(sleepUs)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    const ct = contract.latest();
    let out = '';
    let emptyAt = null;
    let exited = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => { out += d; });
    const finish = () => {
      if (emptyAt === null || !exited) return;
      clearTimeout(timer);
      ct.dispose();
      const exitAt = BigInt(out.trim());
      resolve({
        latency: Number(emptyAt - exitAt) / 1e6,
        lived: Number(exitAt - t0) / 1e6,
      });
    };
    ct.once('pr_empty', (ev) => {
      emptyAt = nowNs();
      ct.ack(ev.evid);
      finish();
    });
    child.once('error', reject);
    child.once('close', () => { exited = true; finish(); });
    const timer = setTimeout(() => reject(new Error('no pr_empty in 5 s')),
      5000);
  });
}

async function main() {
  // Both clocks must be CLOCK_MONOTONIC: a stamp taken by a child must
  // fall between two hrtime readings around it.
  {
    const a = nowNs();
    const child = spawn(stamp, ['0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    await once(child, 'close');
    const b = nowNs();
    const s = BigInt(out.trim());
    if (s < a || s > b) throw new Error('stamp clock is not hrtime clock');
  }
  const TEMPLATE = { type: 'process', critical: { pr_empty: true },
    informative: {} };
  log(`empty: ${RUNS} short-lived (<5 ms) and ${RUNS} long-lived (>=30 ms) ` +
    'members, exit -> pr_empty in JS, each paired with a plain spawn ' +
    '(exit -> \'exit\')');
  const res = { short: [], long: [] };
  const plain = { short: [], long: [] };
  const lived = { short: [], long: [] };
  contract.set_template(TEMPLATE);
  for (let i = 0; i < 10; i++) await sample(KINDS.short); // warm-up
  contract.clear_template();
  for (let i = 0; i < 10; i++) await plainSample(KINDS.short);
  for (const k of ['short', 'long']) {
    for (let i = 0; i < RUNS; i++) {
      // Which goes first alternates, so neither always follows the other.
      if (i % 2 === 0) plain[k].push(await plainSample(KINDS[k]));
      contract.set_template(TEMPLATE);
      const s = await sample(KINDS[k]);
      contract.clear_template();
      res[k].push(s.latency);
      lived[k].push(s.lived);
      if (i % 2 === 1) plain[k].push(await plainSample(KINDS[k]));
    }
  }
  const out = {};
  for (const k of Object.keys(res)) {
    out[k] = {
      median: round(median(res[k])),
      p99: round(quantile(res[k], 0.99)),
      max: round(Math.max(...res[k])),
      exit_median: round(median(plain[k])),
      exit_p99: round(quantile(plain[k], 0.99)),
      ratio_to_exit: round(median(res[k]) / median(plain[k]), 2),
      lived_ms: round(median(lived[k]), 1),
      lived_max_ms: round(Math.max(...lived[k]), 1),
      lived_over_5ms: lived[k].filter((x) => x >= 5).length,
      runs: res[k].length,
    };
  }
  done(out);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
