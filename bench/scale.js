'use strict';
// scale: N live contracts (10,000 by default) held by one process.
//
// They are made one after another (a few spawns in flight) with /bin/true
// children; each Contract object from latest() is kept, so each contract
// stays owned and on disk after its member has exited, and idle.  Then:
//   memory     RSS, V8 heap and external memory deltas / N (after a GC),
//              and the kernel's: /proc/meminfo Slab + Percpu deltas / N
//              (best effort: the whole machine's slab moves meanwhile)
//   fds        /proc/self/fd entries added / N
//   dispatch   exit -> pr_empty delivery in JS for one more contract
//              (bench/stamp.c, as in empty.js) while 10 others are live
//              and while all N are: must be flat
//   spawn      a plain child_process.spawn of /bin/true to its exit, with
//              10 and with N contracts held: every child starts with a copy
//              of the holder's fd table and page tables and closes the
//              O_CLOEXEC fds at exec, so what is kept per contract costs
//              every spawn.  Paired: a twin process (this script,
//              --twin) holds 10 contracts beside us for the whole run,
//              and blocks of PER spawns alternate between the twin and
//              us (who goes first alternates too), so that load which
//              comes and goes falls on both; plain_spawn_ratio_paired is
//              the median over the blocks of ours ÷ the twin's.  The same
//              pairing while we hold 10 too (plain_spawn_ratio_aa) says
//              what the method itself reads when nothing differs.
//   create     making the N contracts ÷ N plain spawns of /bin/true to
//              'exit', in the same run and the same way (INFLIGHT at a
//              time): chunks of CHUNK plain spawns and CHUNK contracts
//              alternate, so that load which comes and goes falls on
//              both; create_ratio is the median over the chunk pairs of
//              contract chunk time ÷ plain chunk time, create_ratio_total
//              the sums' ratio.  The plain spawns of a later chunk run
//              with the contracts made so far held (as the spawn figure
//              above says, that costs a plain spawn little).
// The limits that bound N on a machine: RLIMIT_NOFILE if a contract keeps
// an fd (measured on the first ones), fs.inotify.max_user_watches (one
// watch per contract under cgroup membership) and pid_max (not here:
// members have exited).  N is lowered to what they leave room for, and
// `limited_by` says so.
const fs = require('fs');
const { useRoot, helper, median, quantile, nowNs, round, log, done } =
  require('./common');

// The twin holds 10 contracts in the same root; it must not remove it.
const TWIN = process.argv[2] === '--twin';
const root = TWIN ? process.env.ILLUMOS_CONTRACT_ROOT : useRoot('scale');
const contract = require('..');
const { spawn, fork } = require('child_process');
const { setTimeout: delay } = require('timers/promises');

const N = Number(process.env.ICT_BENCH_SCALE_N) || 10000;
const BASE = 10;
const SAMPLES = Number(process.env.ICT_BENCH_SCALE_SAMPLES) || 100;
const INFLIGHT = 4;
const CHUNK = Number(process.env.ICT_BENCH_SCALE_CHUNK) || 500;
const TEMPLATE = { type: 'process', critical: { pr_empty: true },
  informative: {} };
const stamp = helper('stamp');

const fdCount = () => fs.readdirSync('/proc/self/fd').length;

function meminfo() {
  const m = {};
  for (const line of fs.readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const r = /^(\w+):\s+(\d+) kB/.exec(line);
    if (r) m[r[1]] = Number(r[2]) * 1024;
  }
  return m;
}

function snapshot() {
  if (global.gc) { global.gc(); global.gc(); }
  const mu = process.memoryUsage();
  const mi = meminfo();
  return {
    rss: mu.rss, heap: mu.heapUsed, external: mu.external,
    fds: fdCount(), slab: mi.Slab, percpu: mi.Percpu || 0,
  };
}

function nofileLimit() {
  const l = fs.readFileSync('/proc/self/limits', 'utf8')
    .split('\n').find((x) => x.startsWith('Max open files'));
  return l ? Number(l.split(/\s+/)[3]) : Infinity;
}

// May this process raise its hard limits (CAP_SYS_RESOURCE, bit 24)?
function capSysResource() {
  const l = fs.readFileSync('/proc/self/status', 'utf8').split('\n')
    .find((x) => x.startsWith('CapEff:'));
  return l ? (BigInt(`0x${l.split(/\s+/)[1]}`) >> 24n) & 1n : 0n;
}

function inotifyWatches() {
  try {
    return Number(fs.readFileSync('/proc/sys/fs/inotify/max_user_watches',
      'utf8'));
  } catch {
    return Infinity;
  }
}

// One contract with a /bin/true member; resolves with the kept Contract.
function make() {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    let ct;
    try {
      ct = contract.latest();
    } catch (e) {
      reject(e);
      return;
    }
    child.once('error', reject);
    child.once('exit', () => resolve(ct));
  });
}

async function makeMany(n, kept) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      kept.push(await make());
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, worker));
}

// One plain spawn of /bin/true to 'exit' (no template active).
function plain() {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', resolve);
  });
}

// n plain spawns, INFLIGHT at a time, as makeMany makes contracts (the
// caller clears the template first).
async function plainMany(n) {
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await plain();
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, worker));
}

// Plain spawns (no template active) of /bin/true to 'exit', in ms.
async function plainSpawns(n) {
  contract.clear_template();
  const t = [];
  for (let i = 0; i < n + 5; i++) {
    const t0 = nowNs();
    await new Promise((resolve, reject) => {
      const child = spawn('/bin/true', [], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (i >= 5) t.push(Number(nowNs() - t0) / 1e6);
  }
  contract.set_template(TEMPLATE);
  return t;
}

// One block of PER sequential plain spawns: the median, in ms.
const PER = 5;
async function block() {
  const t = [];
  for (let i = 0; i < PER; i++) {
    const t0 = nowNs();
    await plain();
    t.push(Number(nowNs() - t0) / 1e6);
  }
  return median(t);
}

// The twin: 10 contracts held, a block of plain spawns on each request.
async function twin() {
  const kept = [];
  contract.set_template(TEMPLATE);
  await makeMany(BASE, kept);
  contract.clear_template();
  process.on('message', async (m) => {
    if (m === 'block') {
      process.send(await block());
      return;
    }
    for (const ct of kept) ct.dispose();
    process.disconnect();
  });
  process.send('ready');
}

function startTwin() {
  contract.clear_template(); // the twin is nobody's member
  const t = fork(__filename, ['--twin'], { stdio: ['ignore', 'inherit',
    'inherit', 'ipc'] });
  contract.set_template(TEMPLATE);
  const ask = (msg) => new Promise((resolve, reject) => {
    const onExit = () => reject(new Error('the twin exited'));
    t.once('exit', onExit);
    t.once('message', (r) => {
      t.off('exit', onExit);
      resolve(r);
    });
    if (msg !== null) t.send(msg);
  });
  return { ready: ask(null), block: () => ask('block'),
    end: () => new Promise((resolve) => {
      t.once('exit', resolve);
      t.send('end');
    }) };
}

// Blocks of ours and the twin's alternately: the median of their ratios,
// and each side's median block.
async function paired(tw, blocks) {
  contract.clear_template();
  const ratios = [];
  const ours = [];
  const theirs = [];
  await block(); // warm
  await tw.block();
  for (let i = 0; i < blocks; i++) {
    let a;
    let b;
    if (i % 2 === 0) {
      a = await block();
      b = await tw.block();
    } else {
      b = await tw.block();
      a = await block();
    }
    ours.push(a);
    theirs.push(b);
    ratios.push(a / b);
  }
  contract.set_template(TEMPLATE);
  return { ratio: median(ratios), ours: median(ours),
    theirs: median(theirs) };
}

// exit -> pr_empty in JS for one fresh contract, SAMPLES times.
async function dispatchCost() {
  const lat = [];
  for (let i = 0; i < SAMPLES + 5; i++) {
    const ms = await new Promise((resolve, reject) => {
      const child = spawn(stamp, ['200'],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      const ct = contract.latest();
      let out = '';
      let at = null;
      let closed = false;
      const finish = () => {
        if (at === null || !closed) return;
        ct.dispose();
        resolve(Number(at - BigInt(out.trim())) / 1e6);
      };
      child.stdout.on('data', (d) => { out += d; });
      ct.once('pr_empty', (ev) => {
        at = nowNs();
        ct.ack(ev.evid);
        finish();
      });
      child.once('error', reject);
      child.once('close', () => { closed = true; finish(); });
    });
    if (i >= 5) lat.push(ms); // 5 warm-up samples
  }
  return lat;
}

async function main() {
  const limit = nofileLimit();
  contract.set_template(TEMPLATE);
  const kept = [];
  const fd0 = fdCount();
  await makeMany(BASE, kept);
  await delay(200); // their pr_empty, settled
  const fdPer = Math.round((fdCount() - fd0) / BASE);
  // Leave room for the spawns in flight and the dispatch samples.
  const byFds = fdPer > 0
    ? BASE + Math.floor((limit - fdCount() - 256) / fdPer) : Infinity;
  const byWatches = inotifyWatches() - 1024; // other users of inotify
  let target = N;
  let limitedBy = null;
  if (byFds < target) {
    target = byFds;
    limitedBy = `RLIMIT_NOFILE ${limit}${capSysResource() ? ''
      : ' (cannot raise)'} / ${fdPer} fds per contract`;
  }
  if (byWatches < target) {
    target = byWatches;
    limitedBy = `fs.inotify.max_user_watches ${byWatches + 1024}`;
  }
  log(`scale: ${target} live contracts${limitedBy
    ? ` (of ${N}: ${limitedBy})` : ''}`);
  const d10 = await dispatchCost();
  const s10 = await plainSpawns(SAMPLES);
  const tw = startTwin();
  await tw.ready;
  const BLOCKS = Math.max(4, Math.round(SAMPLES / PER));
  const aa = await paired(tw, BLOCKS);
  log(`scale: paired spawns, 10 held here and in the twin: ratio ` +
    `${round(aa.ratio, 2)} (${round(aa.ours)} / ${round(aa.theirs)} ms)`);
  const before = snapshot();
  let made = BASE;
  let stopped = null;
  let createNs = 0n;
  let plainNs = 0n;
  let plainN = 0;
  const chunkRatios = [];
  const t0 = nowNs();
  try {
    for (let left = target - BASE; left > 0;) {
      const k = Math.min(CHUNK, left);
      // N plain spawns as well, in chunks of the same size alternating
      // with the contracts' (a plain spawn makes nothing: no snapshot
      // moves).
      contract.clear_template();
      const p0 = nowNs();
      await plainMany(k);
      const pns = nowNs() - p0;
      contract.set_template(TEMPLATE);
      plainNs += pns;
      plainN += k;
      const c0 = nowNs();
      const had = kept.length;
      try {
        await makeMany(k, kept);
      } finally {
        createNs += nowNs() - c0;
      }
      chunkRatios.push(Number(nowNs() - c0) / Number(pns));
      left -= kept.length - had;
    }
    made = kept.length;
  } catch (e) {
    made = kept.length;
    stopped = `${e.code || ''} ${e.message}`.trim();
    log(`scale: stopped at ${made} contracts: ${stopped}`);
  }
  const createS = Number(createNs) / 1e9;
  const plainS = Number(plainNs) / 1e9;
  log(`scale: ${made - BASE} contracts made in ${round(createS, 1)} s, ` +
    `${plainN} plain spawns in ${round(plainS, 1)} s (wall ` +
    `${round(Number(nowNs() - t0) / 1e9, 1)} s)`);
  await delay(500);
  const after = snapshot();
  const n = made - BASE;
  log(`scale: ${made} contracts live after ${round(createS, 1)} s`);
  const dn = await dispatchCost();
  const sn = await plainSpawns(SAMPLES);
  const pn = await paired(tw, BLOCKS);
  await tw.end();
  log(`scale: paired spawns, ${made} held here, 10 in the twin: ratio ` +
    `${round(pn.ratio, 2)} (${round(pn.ours)} / ${round(pn.theirs)} ms)`);
  const onDisk = fs.readdirSync(root).filter((e) => /^\d+$/.test(e)).length;
  const t1 = nowNs();
  for (const ct of kept) ct.dispose();
  const disposeS = Number(nowNs() - t1) / 1e9;
  contract.clear_template();
  const per = (k) => Math.round((after[k] - before[k]) / n);
  done({
    contracts: made,
    limited_by: limitedBy,
    on_disk: onDisk,
    stopped,
    create_s: round(createS, 1),
    create_n: made - BASE,
    create_plain_s: round(plainS, 1),
    create_plain_n: plainN,
    create_ratio: chunkRatios.length > 0 ? round(median(chunkRatios), 2)
      : null,
    create_ratio_total: plainS > 0 ? round(createS / plainS, 2) : null,
    dispose_s: round(disposeS, 2),
    rss_bytes_per_contract: per('rss'),
    heap_bytes_per_contract: per('heap'),
    external_bytes_per_contract: per('external'),
    kernel_bytes_per_contract: Math.round(
      (after.slab + after.percpu - before.slab - before.percpu) / n),
    fds_per_contract: round((after.fds - before.fds) / n, 2),
    dispatch_ms_10: round(median(d10)),
    dispatch_ms_n: round(median(dn)),
    dispatch_p99_ms_10: round(quantile(d10, 0.99)),
    dispatch_p99_ms_n: round(quantile(dn, 0.99)),
    dispatch_ratio: round(median(dn) / median(d10), 2),
    plain_spawn_ms_10: round(median(s10)),
    plain_spawn_ms_n: round(median(sn)),
    plain_spawn_ratio_paired: round(pn.ratio, 2),
    plain_spawn_ratio_aa: round(aa.ratio, 2),
    plain_spawn_ms_twin: round(pn.theirs),
  });
}

(TWIN ? twin() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
