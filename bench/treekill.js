'use strict';
// treekill_speedup: kill a 1,000-process tree (bench/tree.sh: nested
// shells, setsid daemons, double forks, all sleeping) with
// contract.sigsend('SIGKILL') until pr_empty, vs the npm package tree-kill
// on an identical tree.
//
// Both trees start inside a contract, so their processes can be counted
// (the contract's cgroup.procs) and cleaned up.  tree-kill walks the tree
// by parent pid (one `ps --ppid` per process) and signals what it found;
// it has no way to find the reparented daemons.  Its time is from the call
// until the last process it killed is gone: we stop watching when the
// tree is empty, 30 s have passed, or its callback has run and the count
// has not moved for 1 s (it never retries); that idle second is not
// counted.  Survivors are the tree's processes still alive at the end.
//
// kernel_ms is the floor, measured on a third identical tree in a bare
// cgroup (not a contract): write cgroup.kill, then read cgroup.events
// every millisecond until "populated 0".  Ours is that write plus the
// event that says so; what the kernel spends exiting 1,000 processes on
// this machine bounds the ratio from above (treekill_ms / kernel_ms).
const events = require('events');
const fs = require('fs');
const path = require('path');
const { useRoot, cgroup2Mount, removeRoot, atExit, nowNs, round, log, done,
  once, delay } = require('./common');

const root = useRoot('treekill');
const contract = require('..');
const { spawn } = require('child_process');
const treeKill = require('tree-kill');

const SIZE = Number(process.env.ICT_BENCH_TREE_SIZE) || 1000;
const TEMPLATE = { type: 'process', critical: { pr_empty: true },
  informative: {} };

function members(ct) {
  try {
    const s = fs.readFileSync(path.join(root, String(ct.ctid),
      'cgroup.procs'), 'utf8');
    return s.length === 0 ? 0 : s.trim().split('\n').length;
  } catch {
    return 0;
  }
}

async function buildTree() {
  contract.set_template(TEMPLATE);
  const child = spawn('sh', [path.join(__dirname, 'tree.sh'), String(SIZE)],
    { stdio: 'ignore' });
  const ct = contract.latest();
  contract.clear_template(); // tree-kill's own `ps` must run outside
  const t0 = Date.now();
  let n = 0;
  let stable = 0;
  for (;;) {
    n = members(ct);
    stable = n === SIZE ? stable + 1 : 0;
    if (stable >= 3) break; // and it stays there
    if (n > SIZE || Date.now() - t0 > 60000) {
      throw new Error(`tree: ${n} processes, expected ${SIZE}`);
    }
    await delay(50);
  }
  log(`treekill: tree of ${n} processes built in ${Date.now() - t0} ms`);
  return { child, ct };
}

async function ours() {
  const { ct } = await buildTree();
  const emptied = once(ct, 'pr_empty', 30000);
  const t0 = nowNs();
  ct.sigsend('SIGKILL');
  const ev = await emptied;
  const ms = Number(nowNs() - t0) / 1e6;
  ct.ack(ev.evid);
  const survivors = ct.status().pr_members.length;
  ct.dispose();
  return { ms, survivors };
}

async function theirs() {
  const { child, ct } = await buildTree();
  const t0 = nowNs();
  let cbAt = null;
  let cbErr = null;
  treeKill(child.pid, 'SIGKILL', (err) => {
    cbAt = nowNs();
    cbErr = err || null;
  });
  let last = SIZE;
  let lastChange = t0;
  for (;;) {
    await delay(10);
    const n = members(ct);
    const now = nowNs();
    if (n !== last) {
      last = n;
      lastChange = now;
    }
    if (n === 0 || Number(now - t0) > 30e9) break;
    if (cbAt !== null && Number(now - lastChange) > 1e9) break;
  }
  const end = cbAt !== null && cbAt > lastChange ? cbAt : lastChange;
  const ms = Number(end - t0) / 1e6;
  const survivors = ct.status().pr_members.length;
  // Clean up what tree-kill missed.
  if (survivors > 0) {
    const emptied = once(ct, 'pr_empty', 30000);
    ct.sigsend('SIGKILL');
    await emptied;
  }
  ct.dispose();
  if (cbErr) log(`treekill: tree-kill reported ${cbErr.message}`);
  return { ms, survivors, callback_ms: cbAt && Number(cbAt - t0) / 1e6 };
}

function countIn(dir) {
  try {
    const s = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
    return s.length === 0 ? 0 : s.trim().split('\n').length;
  } catch {
    return 0;
  }
}

async function kernel() {
  const dir = path.join(cgroup2Mount(), `ict-bench-treekill-floor-${process.pid}`);
  fs.mkdirSync(dir);
  atExit(() => removeRoot(dir));
  const child = spawn('sh', ['-c', 'echo $$ > "$1/cgroup.procs" && exec sh "$2" "$3"',
    'sh', dir, path.join(__dirname, 'tree.sh'), String(SIZE)], { stdio: 'ignore' });
  const exited = events.once(child, 'exit');
  const t0 = Date.now();
  let stable = 0;
  while (stable < 3) {
    const n = countIn(dir);
    stable = n === SIZE ? stable + 1 : 0;
    if (n > SIZE || Date.now() - t0 > 60000) {
      throw new Error(`floor tree: ${n} processes, expected ${SIZE}`);
    }
    await delay(50);
  }
  const k0 = nowNs();
  fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
  while (!fs.readFileSync(path.join(dir, 'cgroup.events'), 'utf8')
    .includes('populated 0')) {
    await delay(1);
  }
  const ms = Number(nowNs() - k0) / 1e6;
  await exited;
  removeRoot(dir);
  return { ms };
}

async function main() {
  log(`treekill: ${SIZE}-process trees, sigsend(SIGKILL) vs tree-kill, ` +
    'and the kernel\'s own cgroup.kill');
  const a = await ours();
  const k = await kernel();
  const b = await theirs();
  done({
    ratio: round(b.ms / a.ms, 1),
    ours_ms: round(a.ms, 1),
    kernel_ms: round(k.ms, 1),
    ours_vs_kernel: round(a.ms / k.ms, 2),
    best_ratio: round(b.ms / k.ms, 1),
    treekill_ms: round(b.ms, 1),
    ours_survivors: a.survivors,
    treekill_survivors: b.survivors,
    treekill_callback_ms: b.callback_ms === null ? null
      : round(b.callback_ms, 1),
    size: SIZE,
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
