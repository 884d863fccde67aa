'use strict';
// Create -> member exits -> pr_empty -> dispose, N times (docs/building.md, "Reliability").
//
//   node test/fuzz/leak.js [--cycles N] [--spawn atfork|shim]   (N: 10000)
//
// The cycles run in a child node process (in a jail, common.js) so that
// its keeper can be checked after it exits.  The child measures after a
// warm-up and at the end, both times with everything disposed, the keeper
// gone (it leaves ~2 s after we hold nothing) and after gc(): fds must be
// back exactly, no contract directory may remain, and RSS may grow by less
// than RSS_SLACK_MB.  Why a slack at all: V8 keeps optimized code, inline
// caches and a few heap pages it grew into, and the allocator keeps freed
// memory; the child runs with --max-semi-space-size=1 so V8's young
// generation (which grows by tens of MB under allocation pressure and is
// not given back by gc()) cannot hide or fake a leak.  With that, 10,000
// cycles grow RSS by 1-3 MB here; 8 MB still catches a leak of ~1 KiB per
// cycle at 10,000 cycles.  The heap after gc() is reported too.
//
// After the child exits, its keeper must be gone at once (the holder
// died), and so must every process and directory in the jail.  The child
// exits holding one live contract on purpose, to see that.
const path = require('path');
const util = require('util');
const common = require('./common');

const RSS_SLACK_MB = Number(process.env.ILLUMOS_CONTRACT_TEST_RSS_SLACK_MB) || 8;

function parseArgs(argv) {
  const { values: v } = util.parseArgs({ args: argv, options: {
    cycles: { type: 'string', short: 'n', default: '10000' },
    spawn: { type: 'string' },
    child: { type: 'boolean', default: false },
  } });
  const o = { cycles: Number(v.cycles), child: v.child, spawn: v.spawn };
  if (!Number.isInteger(o.cycles) || o.cycles < 1) {
    throw new Error('--cycles must be a positive integer');
  }
  return o;
}

async function worker({ cycles }) {
  const fs = require('fs');
  const cp = require('child_process');
  const ct = require(path.join(__dirname, '..', '..'));
  const root = process.env.ILLUMOS_CONTRACT_ROOT;
  const problems = [];
  process.on('unhandledRejection', (e) => problems.push(`unhandled rejection: ${e}`));
  const { setTimeout: sleep } = require('timers/promises');
  async function until(cond, ms, what) {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }
  function onceEvent(c, name, ms) {
    return common.onceWithin(c, name, ms,
      `no ${name} from contract ${c.ctid} within ${ms} ms`);
  }

  let maxKeepers = 0;
  const keeperPids = new Set();
  let empties = 0;
  let forks = 0;
  let exits = 0;

  // One cycle, in one of three ways the library is used.
  async function cycle(i) {
    let c;
    let evs = null;
    switch (i % 3) {
      case 0: { // template + child_process.spawn + latest()
        ct.set_template({ type: 'process' });
        try {
          cp.spawn('/bin/true', [], { stdio: 'ignore' });
        } finally {
          ct.clear_template();
        }
        c = ct.latest();
        break;
      }
      case 1: // spawn()
        c = ct.spawn('/bin/true', [], { stdio: 'ignore' }).contract;
        break;
      default: { // a small tree, with per-member events
        c = ct.spawn('sh', ['-c', '/bin/true & /bin/true & wait'], {
          stdio: 'ignore',
          template: { type: 'process', informative: { pr_fork: true, pr_exit: true } },
        }).contract;
        evs = { fork: 0, exit: 0 };
        c.on('pr_fork', () => evs.fork++);
        c.on('pr_exit', () => evs.exit++);
      }
    }
    let n = 0;
    c.on('pr_empty', () => n++);
    const ev = await onceEvent(c, 'pr_empty', 10000);
    c.ack(ev.evid); // critical by default
    if (evs !== null) {
      forks += evs.fork;
      exits += evs.exit;
      if (evs.fork !== 3 || evs.exit !== 3) {
        const lost = c.status().lost;
        if (lost === 0) {
          problems.push(`contract ${c.ctid}: ${evs.fork} pr_fork, ` +
            `${evs.exit} pr_exit for a tree of 3, and no loss reported`);
        }
      }
    }
    if (n !== 1) problems.push(`contract ${c.ctid}: ${n} pr_empty`);
    empties += n;
    c.dispose();
    if (i % 50 === 0) {
      const k = common.keepersOf(process.pid);
      for (const p of k) keeperPids.add(p);
      maxKeepers = Math.max(maxKeepers, k.length);
    }
  }

  async function settle() {
    await until(() => common.contractDirs(root).length === 0, 5000,
      'contract directories to go');
    await until(() => common.keepersOf(process.pid).length === 0, 10000,
      'the keeper to leave');
    await until(() => !common.fdList().some((f) => f.includes('[pidfd]')), 5000,
      "the keeper's pidfd to close");
    for (let i = 0; i < 3; i++) {
      global.gc();
      await sleep(20);
    }
  }
  function measure() {
    return { fds: common.fdCount(), fdList: common.fdList(),
      rssMB: common.rssMB(), heapMB: process.memoryUsage().heapUsed / 1048576,
      dirs: common.contractDirs(root).length,
      keepers: common.keepersOf(process.pid).length };
  }

  const t0 = Date.now();
  const warm = Math.min(60, cycles);
  for (let i = 0; i < warm; i++) await cycle(i);
  await settle();
  const start = measure();
  const t1 = Date.now();
  for (let i = 0; i < cycles; i++) await cycle(i);
  const seconds = (Date.now() - t1) / 1000;
  await settle();
  const end = measure();
  if (end.fds !== start.fds) {
    const a = new Set(start.fdList);
    problems.push(`fds ${start.fds} -> ${end.fds}; new: ` +
      `${end.fdList.filter((f) => !a.has(f)).join(', ')}`);
  }
  if (end.dirs !== 0) problems.push(`${end.dirs} contract directories left`);
  if (end.rssMB - start.rssMB >= RSS_SLACK_MB) {
    problems.push(`RSS grew ${(end.rssMB - start.rssMB).toFixed(1)} MB ` +
      `(slack ${RSS_SLACK_MB} MB)`);
  }
  if (empties !== cycles + warm) {
    problems.push(`${empties} pr_empty for ${cycles + warm} contracts`);
  }
  delete start.fdList;
  delete end.fdList;
  // Exit while holding a live contract: the keeper must leave at once.
  const last = ct.spawn('sleep', ['1000'], { stdio: 'ignore',
    template: { type: 'process', param: { noorphan: true } } });
  last.child.unref();
  last.contract.unref();
  await until(() => common.keepersOf(process.pid).length === 1, 5000,
    'a keeper for the last contract');
  const result = { cycles, warm, seconds, totalSeconds: (Date.now() - t0) / 1000,
    mode: ct.features.spawn, start, end, maxKeepers,
    keeperStarts: keeperPids.size, forks, exits, problems,
    lastMember: last.child.pid, lastCtid: last.contract.ctid };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

// Run the cycles in a child; resolve {ok, problems, result}.
async function runLeak({ cycles = 10000, spawn, timeout } = {}) {
  const jail = common.makeJail('leak');
  const problems = [];
  let result = null;
  let afterExit = null;
  try {
    const env = {};
    if (spawn) env.ILLUMOS_CONTRACT_SPAWN = spawn;
    const run = await common.runWorker(jail, ['--expose-gc',
      '--max-semi-space-size=1', __filename, '--child', '--cycles',
      String(cycles)], { env, timeout: timeout || 60000 + cycles * 30 });
    result = common.parseResult(run.out);
    if (run.signal) problems.push(`the child died of ${run.signal}`);
    else if (run.code !== 0) problems.push(`the child exited ${run.code}: ${run.err.slice(-3000)}`);
    if (result === null) {
      problems.push(`no result: ${run.err.slice(-3000)}`);
    } else {
      problems.push(...result.problems);
    }
    // The holder is gone: its keeper leaves at once, after killing the
    // noorphan contract it left behind.
    const t0 = Date.now();
    problems.push(...await common.checkAfterExit(jail, run.pid, 3000));
    afterExit = { ms: Date.now() - t0, keepers: common.keepersOf(run.pid).length,
      dirs: common.contractDirs(jail.root).length,
      processes: common.processesUnder(jail.dir).length };
  } finally {
    common.removeJail(jail);
  }
  return { ok: problems.length === 0, problems, result, afterExit };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.child) {
    await worker(opts);
    return;
  }
  console.log(`leak: ${opts.cycles} create -> exit -> pr_empty -> dispose cycles` +
    (opts.spawn ? ` (spawn ${opts.spawn})` : ''));
  const r = await runLeak(opts);
  if (r.result) {
    const { start, end } = r.result;
    const row = (k, f = (x) => x) => `  ${k.padEnd(14)} ${String(f(start[k])).padStart(10)} ` +
      `${String(f(end[k])).padStart(10)}`;
    const mb = (x) => x.toFixed(1);
    console.log(`  ${r.result.cycles} cycles (+${r.result.warm} warm-up) in ` +
      `${r.result.seconds.toFixed(1)} s, mode ${r.result.mode}`);
    console.log(`  ${''.padEnd(14)} ${'start'.padStart(10)} ${'end'.padStart(10)}`);
    console.log(row('fds'));
    console.log(row('rssMB', mb));
    console.log(row('heapMB', mb));
    console.log(row('dirs'));
    console.log(row('keepers'));
    console.log(`  RSS ${((end.rssMB - start.rssMB) * 1048576 / r.result.cycles).toFixed(0)} ` +
      `bytes/cycle, heap ${((end.heapMB - start.heapMB) * 1048576 / r.result.cycles).toFixed(0)} ` +
      `bytes/cycle (slack ${RSS_SLACK_MB} MB)`);
    console.log(`  keepers while cycling: at most ${r.result.maxKeepers} at once, ` +
      `${r.result.keeperStarts} seen; pr_fork ${r.result.forks}, pr_exit ${r.result.exits}`);
  }
  if (r.afterExit) {
    console.log(`  after the child exited (holding contract ${r.result && r.result.lastCtid}): ` +
      `keepers ${r.afterExit.keepers}, contract dirs ${r.afterExit.dirs}, ` +
      `processes ${r.afterExit.processes} (${r.afterExit.ms} ms)`);
  }
  if (r.ok) {
    console.log('leak: PASS');
  } else {
    console.log('leak: FAIL');
    for (const p of r.problems) console.log(`  - ${p}`);
    process.exitCode = 1;
  }
}

if (common.isMain(module)) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 2;
  });
}

module.exports = { runLeak, RSS_SLACK_MB };
