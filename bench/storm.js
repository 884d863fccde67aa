'use strict';
// storm: one contract whose member (bench/storm.c) forks 20,000 children
// as fast as it can, each exiting at once; pr_fork and pr_exit
// informative, pr_empty critical.  Expected: a pr_fork and a pr_exit for
// each child and for the storm process itself (the contract's first member
// is reported as a pr_fork too), and exactly one pr_empty.
//   critical_lost     1 if pr_empty never came (within 60 s)
//   informative_lost  expected pr_fork + pr_exit - received
//   reported_lost     what the contract owned up to: the forks + exits of
//                     the pr_lost events (lower bounds), or status().lost
//                     where that is larger
const { useRoot, helper, nowNs, round, log, done } = require('./common');

useRoot('storm');
const contract = require('..');
const { spawn } = require('child_process');
const { once } = require('events');
const { setImmediate } = require('timers/promises');

const FORKS = Number(process.env.ICT_BENCH_STORM_FORKS) || 20000;

async function main() {
  log(`storm: ${FORKS} forks in one contract`);
  contract.set_template({ type: 'process', critical: { pr_empty: true },
    informative: { pr_fork: true, pr_exit: true } });
  const t0 = nowNs();
  const child = spawn(helper('storm'), [String(FORKS)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const ct = contract.latest();
  contract.clear_template();
  let forks = 0;
  let exits = 0;
  let lostEvents = 0;
  let lostForks = 0;
  let lostExits = 0;
  let empties = 0;
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  ct.on('pr_fork', () => { forks++; });
  ct.on('pr_exit', () => { exits++; });
  ct.on('pr_lost', (ev) => {
    lostEvents++;
    lostForks += ev.forks || 0;
    lostExits += ev.exits || 0;
  });
  ct.on('pr_empty', (ev) => {
    empties++;
    ct.ack(ev.evid);
  });
  let emptied = true;
  try {
    await once(ct, 'pr_empty', { signal: AbortSignal.timeout(60000) });
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
    emptied = false;
  }
  const ms = Number(nowNs() - t0) / 1e6;
  await setImmediate(); // any events queued behind it
  const forked = Number(out.trim()) || 0;
  const expected = 2 * (forked + 1);
  const received = forks + exits;
  const status = ct.status();
  const reported = Math.max(lostForks + lostExits, status.lost);
  if (!emptied) ct.sigsend('SIGKILL');
  ct.dispose();
  done({
    forks: forked,
    fork_events: forks,
    exit_events: exits,
    critical_lost: emptied && empties === 1 ? 0 : 1,
    informative_lost: expected - received,
    reported_lost: reported,
    lost_events: lostEvents,
    ms: round(ms, 1),
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
