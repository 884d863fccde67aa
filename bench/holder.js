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
// before it) is holder_exit_ms, the floor; keeper_ms is the rest, from
// the holder's death until the last member is gone (the keeper's wakeup,
// the rules, the kill, the members' own exits).
//
// How deaths are seen: by bench/pidwait.c, which sleeps in poll(2) on a
// pidfd of the holder and of each member and stamps each as it becomes
// readable (the kernel's own "dead": a zombie counts as gone), so
// measuring takes no CPU from the processes measured.  The earlier probe,
// reading /proc every 0.1 ms (ICT_BENCH_HOLDER_PROBE=proc), woke on the
// CPU where the holder was dying and preempted it each time (on 2 vCPUs
// it took about half of that CPU while the holder tore itself down):
// three interleaved pairs of 50 trials gave medians 3.7 / 4.3 / 3.2 ms
// (pidfd) against 4.8 / 5.0 / 3.8 ms (proc) on 2026-12-07, load 3-7.
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const { alive, useRoot, helper, nowNs, round, log, done, once, median,
  quantile, sleepSync } = require('./common');

useRoot('holder');

const TRIALS = Number(process.env.ICT_BENCH_HOLDER_TRIALS) || 100;
const PROBE = process.env.ICT_BENCH_HOLDER_PROBE === 'proc' ? 'proc'
  : 'pidfd';
const pidwait = helper('pidwait');

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
    let t0;
    let dead;
    let gone;
    if (PROBE === 'pidfd') {
      const w = cp.spawn(pidwait, [h.pid, ...tree].map(String),
        { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      w.stdout.setEncoding('utf8');
      w.stdout.on('data', (d) => { out += d; });
      const ended = once(w, 'close', 10000);
      while (!out.includes('\n') && w.exitCode === null) {
        await Promise.race([once(w.stdout, 'data', 10000), ended]);
      }
      if (!out.startsWith('ready\n')) throw new Error(`pidwait: ${out}`);
      t0 = nowNs();
      h.kill('SIGKILL');
      await ended;
      if (w.exitCode !== 0) throw new Error(`pidwait exited ${w.exitCode}`);
      // A member gone before the kill (the subshell that started the
      // daemon) is 0: the last member to go is the latest stamp.
      const at = out.trim().split('\n')[1].split(' ').map(BigInt);
      dead = at[0];
      gone = at.slice(1).reduce((a, b) => (b > a ? b : a));
      if (dead < t0 || gone < t0) throw new Error(`pidwait: ${out}`);
    } else {
      t0 = nowNs();
      dead = null;
      gone = null;
      h.kill('SIGKILL');
      // Synchronous: Node cannot reap the holder meanwhile, so its zombie
      // stays for us to see.
      while (gone === null || dead === null) {
        if (Number(nowNs() - t0) > 10e9) throw new Error('members survived');
        if (dead === null && holderDead(h.pid)) dead = nowNs();
        if (gone === null && !tree.some(alive)) gone = nowNs();
        if (gone === null || dead === null) sleepSync(0.1);
      }
    }
    times.push(Number(gone - t0) / 1e6);
    holderExit.push(Number(dead - t0) / 1e6);
    keeper.push(Math.max(0, Number(gone - dead) / 1e6));
    await exited;
  }
  return { ...stats(times), trials: TRIALS, probe: PROBE,
    holder_exit_ms: stats(holderExit), keeper_ms: stats(keeper) };
}

(async () => {
  const membership = require('..').features.membership;
  const hd = await holderDeath();
  log(`holder (${membership}): ${hd.trials} trials: median ${hd.median} ` +
    `ms, max ${hd.max} ms; of which the holder's own death ` +
    `${hd.holder_exit_ms.median} ms, then the keeper ${hd.keeper_ms.median} ms`);
  done({ membership, holder_death_ms: hd });
})().catch((e) => { log(e.stack); process.exit(1); });
