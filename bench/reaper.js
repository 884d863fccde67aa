'use strict';
// Reaper membership (the orchestrator sets ILLUMOS_CONTRACT_MEMBERSHIP=
// reaper and a registry for a root):
//   treekill_ms  a 1,000-process tree (bench/tree.sh: nested shells,
//                setsid daemons, double forks) killed with
//                sigsend('SIGKILL') until pr_empty: no cgroup.kill here,
//                the library walks the anchor's descendants until none is
//                left; survivors counted after
// (holder death under both memberships: holder.js)
const fs = require('fs');
const path = require('path');
const { alive, useRoot, nowNs, round, log, done, once } = require('./common');

useRoot('reaper');
const contract = require('..');

const SIZE = Number(process.env.ICT_BENCH_TREE_SIZE) || 1000;

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

(async () => {
  const t = await treekill();
  log(`reaper: ${SIZE}-process tree killed in ${t.ms} ms, ${t.survivors} ` +
    'survivors');
  done({ treekill_ms: t.ms, treekill_survivors: t.survivors });
})().catch((e) => { log(e.stack); process.exit(1); });
