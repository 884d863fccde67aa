'use strict';
// empty_latency_ms: from the last member's exit to pr_empty delivered in
// JavaScript, for members living < 5 ms ("short") and >= 30 ms ("long").
//
// The member is bench/stamp.c: it sleeps, writes CLOCK_MONOTONIC (ns) to
// its stdout pipe and _exits at once; the pr_empty listener takes
// process.hrtime.bigint(), libuv's uv_hrtime(), which is CLOCK_MONOTONIC on
// Linux too.  So each latency includes the kernel's exit of the process,
// the event reaching the addon and the dispatch into JS.  One contract at a
// time, the template set once; the short samples run back to back, then
// the long ones (a short member that starts after an idle gap can spend
// ~10 ms in its cgroup join, see spawn.js, and would not live < 5 ms).
const { useRoot, helper, quantile, median, nowNs, round, log, done, once } =
  require('./common');

useRoot('empty');
const contract = require('..');
const { spawn } = require('child_process');

const RUNS = Number(process.env.ICT_BENCH_EMPTY_RUNS) || 200; // per kind
const KINDS = { short: 200, long: 30000 }; // sleep before exit, µs
const stamp = helper('stamp');

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
  contract.set_template({ type: 'process', critical: { pr_empty: true },
    informative: {} });
  log(`empty: ${RUNS} short-lived (<5 ms) and ${RUNS} long-lived (>=30 ms) ` +
    'members, exit -> pr_empty in JS');
  const res = { short: [], long: [] };
  const lived = { short: [], long: [] };
  for (let i = 0; i < 10; i++) await sample(KINDS.short); // warm-up
  for (const k of ['short', 'long']) {
    for (let i = 0; i < RUNS; i++) {
      const s = await sample(KINDS[k]);
      res[k].push(s.latency);
      lived[k].push(s.lived);
    }
  }
  contract.clear_template();
  const out = {};
  for (const k of Object.keys(res)) {
    out[k] = {
      median: round(median(res[k])),
      p99: round(quantile(res[k], 0.99)),
      max: round(Math.max(...res[k])),
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
