'use strict';
// Reaper membership (the orchestrator sets ILLUMOS_CONTRACT_MEMBERSHIP=
// reaper and a registry for a root):
//   treekill_ms  a 1,000-process tree (bench/tree.sh: nested shells,
//                setsid daemons, double forks) killed with
//                sigsend('SIGKILL') until pr_empty: no cgroup.kill here,
//                the library walks the anchor's descendants until none is
//                left; survivors counted after
//   holder_death_ms  a holder of a noorphan contract (a setsid daemon and
//                a child) SIGKILLed: time until every member is gone, over
//                TRIALS trials; median and max
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const { useRoot, nowNs, round, log, done, once, median } = require('./common');

useRoot('reaper');
const contract = require('..');

const SIZE = Number(process.env.ICT_BENCH_TREE_SIZE) || 1000;
const TRIALS = Number(process.env.ICT_BENCH_HOLDER_TRIALS) || 100;

function alive(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const s = st.slice(st.lastIndexOf(')') + 2)[0];
    return s !== 'Z' && s !== 'X';
  } catch {
    return false;
  }
}

async function treekill() {
  const { contract: ct } = contract.spawn('sh',
    [path.join(__dirname, 'tree.sh'), String(SIZE)], { stdio: 'ignore',
      template: { type: 'process', critical: { pr_empty: true } } });
  const t0 = Date.now();
  let pids = [];
  for (let stable = 0; stable < 3;) {
    pids = ct.status().pr_members;
    stable = pids.length === SIZE ? stable + 1 : 0;
    if (pids.length > SIZE || Date.now() - t0 > 60000) {
      throw new Error(`tree: ${pids.length} processes, expected ${SIZE}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const empty = once(ct, 'pr_empty', 60000);
  const k0 = nowNs();
  ct.sigsend('SIGKILL');
  await empty;
  const ms = Number(nowNs() - k0) / 1e6;
  const survivors = pids.filter(alive).length;
  ct.dispose();
  return { ms: round(ms, 1), survivors };
}

const HOLDER = `
  const ct = require(${JSON.stringify(path.join(__dirname, '..'))});
  const { contract } = ct.spawn('sh', ['-c', '(setsid sleep 100 &); sleep 100'],
    { stdio: 'ignore', template: { type: 'process', param: { noorphan: true } } });
  const poll = () => { const m = contract.status().pr_members;
    if (m.length >= 2) console.log(JSON.stringify(m)); else setTimeout(poll, 2); };
  poll();`;

async function holderDeath() {
  const times = [];
  for (let i = 0; i < TRIALS; i++) {
    const h = cp.spawn(process.execPath, ['-e', HOLDER],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await once(h.stdout, 'data', 20000);
    const tree = JSON.parse(line);
    const exited = once(h, 'exit', 10000);
    const t0 = nowNs();
    h.kill('SIGKILL');
    while (tree.some(alive)) {
      if (Number(nowNs() - t0) > 10e9) throw new Error('members survived');
      await new Promise((r) => setImmediate(r));
    }
    times.push(Number(nowNs() - t0) / 1e6);
    await exited;
  }
  times.sort((a, b) => a - b);
  return { median: round(median(times), 1), max: round(times[times.length - 1], 1),
    trials: TRIALS };
}

(async () => {
  const t = await treekill();
  log(`reaper: ${SIZE}-process tree killed in ${t.ms} ms, ${t.survivors} ` +
    'survivors');
  const hd = await holderDeath();
  log(`reaper: holder death, ${hd.trials} trials: median ${hd.median} ms, ` +
    `max ${hd.max} ms`);
  done({ treekill_ms: t.ms, treekill_survivors: t.survivors,
    holder_death_ms: hd });
})().catch((e) => { log(e.stack); process.exit(1); });
