'use strict';
// holder_death_ms: a holder of a noorphan contract (a setsid daemon and a
// child in it) SIGKILLed: the time until every member is gone, over
// TRIALS trials; median and max.  Under either membership (run.js runs it
// under cgroup membership and under ILLUMOS_CONTRACT_MEMBERSHIP=reaper):
// the holder's keeper sees it die and kills the contract's members.
//
// Where the time goes: the holder's own death (SIGKILL until the kernel
// has torn it down, every thread of it, leaving a zombie: a Node
// process's exit takes milliseconds, and the keeper's pidfd cannot fire
// before it) is holder_exit_ms, the floor; keeper_ms is the rest, from the holder's death until the last
// member is gone (the keeper's wakeup, its scan of the root, the kill, the
// members' own exits).  Both are read from /proc (a zombie counts as gone:
// dead, its parent has yet to reap it), every 0.1 ms in a loop that sleeps
// in between (Atomics.wait) rather than spinning, so that measuring does
// not take a CPU from the processes measured (there may be two).
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const { alive, useRoot, nowNs, round, log, done, once, median, quantile,
  sleepSync } = require('./common');

useRoot('holder');

const TRIALS = Number(process.env.ICT_BENCH_HOLDER_TRIALS) || 100;

// Dead to its keeper: the whole thread group gone (the leader alone, a
// zombie, left in task/), not only the leader thread a zombie.
function holderDead(pid) {
  if (alive(pid)) return false;
  try {
    return fs.readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true;
  }
}

const stats = (xs) => ({ median: round(median(xs), 1),
  p90: round(quantile(xs, 0.9), 1), max: round(Math.max(...xs), 1) });

const HOLDER = `
  const ct = require(${JSON.stringify(path.join(__dirname, '..'))});
  const { contract } = ct.spawn('sh', ['-c', '(setsid sleep 100 &); sleep 100'],
    { stdio: 'ignore', template: { type: 'process', param: { noorphan: true } } });
  const poll = () => { const m = contract.status().pr_members;
    if (m.length >= 2) console.log(JSON.stringify(m)); else setTimeout(poll, 2); };
  poll();`;

async function holderDeath() {
  const times = [];
  const holderExit = [];
  const keeper = [];
  for (let i = 0; i < TRIALS; i++) {
    const h = cp.spawn(process.execPath, ['-e', HOLDER],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await once(h.stdout, 'data', 20000);
    const tree = JSON.parse(line);
    const exited = once(h, 'exit', 10000);
    const t0 = nowNs();
    let dead = null;
    h.kill('SIGKILL');
    // Synchronous: Node cannot reap the holder meanwhile, so its zombie
    // stays for us to see.
    for (let left = tree.length; left > 0 || dead === null;) {
      if (Number(nowNs() - t0) > 10e9) throw new Error('members survived');
      if (dead === null && holderDead(h.pid)) dead = nowNs();
      if (left > 0 && !tree.some(alive)) {
        left = 0;
        times.push(Number(nowNs() - t0) / 1e6);
      }
      if (left > 0 || dead === null) sleepSync(0.1);
    }
    holderExit.push(Number(dead - t0) / 1e6);
    keeper.push(Math.max(0, times[times.length - 1] -
      holderExit[holderExit.length - 1]));
    await exited;
  }
  return { ...stats(times), trials: TRIALS, holder_exit_ms: stats(holderExit),
    keeper_ms: stats(keeper) };
}

(async () => {
  const membership = require('..').features.membership;
  const hd = await holderDeath();
  log(`holder (${membership}): ${hd.trials} trials: median ${hd.median} ` +
    `ms, max ${hd.max} ms; of which the holder's own death ` +
    `${hd.holder_exit_ms.median} ms, then the keeper ${hd.keeper_ms.median} ms`);
  done({ membership, holder_death_ms: hd });
})().catch((e) => { log(e.stack); process.exit(1); });
