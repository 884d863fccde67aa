'use strict';
// Shared by the benchmark scripts: a private contract root per process (set
// before the library is loaded) removed at exit, the C helpers compiled into
// a temporary directory, statistics, and the result protocol (one JSON
// object on the last line of stdout; progress goes to stderr).
const events = require('events');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { setTimeout: delay } = require('timers/promises');

function cgroup2Mount() {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep >= 0 && line.slice(sep + 3).startsWith('cgroup2 ')) {
      return line.split(' ')[4];
    }
  }
  return '/sys/fs/cgroup/unified';
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Remove a contract root of ours: kill everything left in it (contracts'
// members and the library's keeper, which lives in a k<pid>-<start> cgroup
// under the root or, while leaving, in the root itself), remove every
// cgroup under it, then the root.  Retries while the kernel still reports
// a cgroup busy; gives up after 10 s.
function removeRoot(dir) {
  // A registry (reaper membership) is a plain directory of records.
  if (fs.existsSync(dir) && !fs.existsSync(path.join(dir, 'cgroup.procs'))) {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
    return;
  }
  const deadline = Date.now() + 10000;
  for (;;) {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    try { fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1'); } catch {}
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      try { fs.rmdirSync(path.join(dir, e.name)); } catch {}
    }
    try {
      fs.rmdirSync(dir);
      return;
    } catch (err) {
      if (err.code === 'ENOENT' || Date.now() > deadline) return;
    }
    sleepSync(5);
  }
}

const cleanups = [];
function atExit(fn) {
  if (cleanups.length === 0) {
    process.on('exit', () => {
      for (const f of cleanups.splice(0).reverse()) {
        try { f(); } catch {}
      }
    });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(sig, () => process.exit(130));
    }
  }
  cleanups.push(fn);
}

// This process's own contract root: the one the orchestrator chose, or a
// fresh one; removed (with anything left in it) when the process exits.
function useRoot(tag) {
  let root = process.env.ILLUMOS_CONTRACT_ROOT;
  if (!root) {
    root = path.join(cgroup2Mount(), `ict-bench-${tag}-${process.pid}`);
    process.env.ILLUMOS_CONTRACT_ROOT = root;
  }
  atExit(() => removeRoot(root));
  return root;
}

const HELPERS = ['floor', 'pidwait', 'stamp', 'storm'];

// Compile the C helpers with cc into a fresh temporary directory.
function buildHelpers() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-bench-'));
  for (const h of HELPERS) {
    execFileSync('cc', ['-O2', '-Wall', '-o', path.join(dir, h),
      path.join(__dirname, `${h}.c`)], { stdio: ['ignore', 'inherit',
      'inherit'] });
  }
  return dir;
}

// The helpers' directory: the orchestrator's, or our own (removed at exit).
function helpers() {
  if (process.env.ICT_BENCH_BIN) return process.env.ICT_BENCH_BIN;
  const dir = buildHelpers();
  process.env.ICT_BENCH_BIN = dir;
  atExit(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function helper(name) {
  return path.join(helpers(), name);
}

function quantile(xs, q) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}

const median = (xs) => quantile(xs, 0.5);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

function nowNs() {
  return process.hrtime.bigint(); // uv_hrtime: CLOCK_MONOTONIC on Linux
}

function round(x, digits = 3) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function log(...args) {
  process.stderr.write(`[bench] ${args.join(' ')}\n`);
}

function done(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// Resolve with the first `event`'s argument, reject after ms.  The
// deadline (AbortSignal.timeout) does not hold the event loop open, and an
// observed contract's events do not either (by design), so an idle
// interval holds it for the wait, as a pending deadline should.
async function once(emitter, event, ms = 10000) {
  const hold = setInterval(() => {}, ms);
  try {
    const [arg] = await events.once(emitter, event,
      { signal: AbortSignal.timeout(ms) });
    return arg;
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
    throw new Error(`timed out after ${ms} ms waiting for ${event}`);
  } finally {
    clearInterval(hold);
  }
}

// Running: not gone, not a zombie (dead, its parent has yet to reap it).
function alive(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const s = st.slice(st.lastIndexOf(')') + 2)[0];
    return s !== 'Z' && s !== 'X';
  } catch {
    return false;
  }
}

module.exports = {
  alive, cgroup2Mount, removeRoot, atExit, useRoot, buildHelpers, helpers, helper,
  quantile, median, mean, nowNs, round, log, done, once, delay, sleepSync,
};
