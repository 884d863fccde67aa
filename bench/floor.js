'use strict';
// spawn_ratio.floor: the kernel's own price of joining a fresh cgroup at
// spawn, from a small C process (bench/floor.c): fork + join + exec
// /bin/true + waitpid ÷ fork + exec + waitpid, interleaved, back to back.
// Then the same with an idle pause before every run ("sporadic"): the
// first cgroup migration after an idle spell waits for an RCU grace period
// (percpu_down_write(&cgroup_threadgroup_rwsem) -> rcu_sync_enter ->
// synchronize_rcu) unless cgroup2 is mounted with favordynmods (Linux
// 6.18 then writes cgroup.procs under a per-threadgroup rwsem, and keeps
// doing so until reboot even after favordynmods is removed), or something
// else on the machine migrated a task within the last grace period or two.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { cgroup2Mount, atExit, helper, done, log, round } = require('./common');

const runs = Number(process.env.ICT_BENCH_FLOOR_RUNS) || 2000;
const sporadicRuns = 40;
const gapUs = 50000;
const dir = path.join(cgroup2Mount(), `ict-bench-floor-${process.pid}`);
fs.mkdirSync(dir);
atExit(() => {
  for (const e of fs.readdirSync(dir)) {
    if (/^f\d+$/.test(e)) {
      try { fs.rmdirSync(path.join(dir, e)); } catch {}
    }
  }
  try { fs.rmdirSync(dir); } catch {}
});
log(`floor: ${runs} interleaved runs of fork+exec /bin/true, with and ` +
  'without joining a fresh cgroup');
const floor = (...args) => JSON.parse(execFileSync(helper('floor'),
  [dir, ...args.map(String)], { encoding: 'utf8' }).trim().split('\n').pop());
const r = floor(runs);
log(`floor: ${sporadicRuns} more of each after ${gapUs / 1000} ms idle`);
const s = floor(sporadicRuns, gapUs);
const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
  .find((l) => l.includes(' - cgroup2 ')) || '';
done({
  runs: r.n,
  ratio: round(r.join_median_us / r.plain_median_us),
  ratio_mean: round(r.join_mean_us / r.plain_mean_us),
  plain_us: r.plain_median_us,
  join_us: r.join_median_us,
  join_cost_us: round(r.join_median_us - r.plain_median_us, 1),
  sporadic_ratio: round(s.join_median_us / s.plain_median_us),
  sporadic_join_cost_us: round(s.join_median_us - s.plain_median_us, 1),
  favordynmods: mounted.includes('favordynmods'),
});
