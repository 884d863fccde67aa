'use strict';
// Shared by the fuzzer, the leak and soak scripts and their tests: a
// "jail" per run (a cgroup with the contract root `ct` and a cgroup `run`
// that the worker node processes start in, so that every process they
// ever make, contract member or not, is found and killed afterwards),
// running a worker in it, and measuring what a process holds.
//
// Nothing here loads the library: the workers do, each with
// ILLUMOS_CONTRACT_ROOT set to the jail's own root.
const events = require('events');
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const { setTimeout: sleep } = require('timers/promises');

const MOUNT = (() => {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep >= 0 && line.slice(sep + 3).startsWith('cgroup2 ')) {
      return line.split(' ')[4];
    }
  }
  return '/sys/fs/cgroup/unified';
})();

// Run directly (not as a file the test runner picked up): `node --test
// test/` runs every .js under test/, these scripts included.
function isMain(mod) {
  return require.main === mod && !process.env.NODE_TEST_CONTEXT;
}

let jails = 0;

function makeJail(tag) {
  const dir = path.join(MOUNT, `ict-${tag}-${process.pid}-${jails++}`);
  fs.mkdirSync(dir);
  fs.mkdirSync(path.join(dir, 'run'));
  return { dir, root: path.join(dir, 'ct'), run: path.join(dir, 'run') };
}

// Every cgroup directory under dir, deepest first.
function cgroupsUnder(dir) {
  const out = [];
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.isDirectory()) out.push(...cgroupsUnder(path.join(dir, e.name)));
  }
  out.push(dir);
  return out;
}

function procsOf(cgdir) {
  try {
    return fs.readFileSync(path.join(cgdir, 'cgroup.procs'), 'utf8')
      .split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

// Every process in any cgroup under dir: {pid, cgroup, comm}.
function processesUnder(dir) {
  const out = [];
  for (const cg of cgroupsUnder(dir)) {
    for (const pid of procsOf(cg)) {
      out.push({ pid, cgroup: path.relative(dir, cg) || '.', comm: comm(pid) });
    }
  }
  return out;
}

function comm(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// Kill everything in the jail and remove its cgroups.
function removeJail(jail) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const cgs = cgroupsUnder(jail.dir);
    for (const cg of cgs) {
      try { fs.writeFileSync(path.join(cg, 'cgroup.kill'), '1'); } catch {}
    }
    for (const cg of cgs) {
      try { fs.rmdirSync(cg); } catch {}
    }
    if (!fs.existsSync(jail.dir) || Date.now() > deadline) return;
    sleepMs(10);
  }
}

// Contract directories (numeric names) in a root.
function contractDirs(root) {
  try {
    return fs.readdirSync(root).filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
}

// Keeper cgroups (k<holder>-<start>) in a root.
function keeperDirs(root) {
  try {
    return fs.readdirSync(root).filter((e) => /^k\d+-\d+$/.test(e));
  } catch {
    return [];
  }
}

// ct-keeper processes whose holder is pid (argv: ct-keeper ROOT PID START).
function keepersOf(pid) {
  const out = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let argv;
    try {
      argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (path.basename(argv[0]) === 'ct-keeper' &&
        (pid === undefined || argv[2] === String(pid))) {
      out.push(Number(e));
    }
  }
  return out;
}

function fdCount() {
  return fs.readdirSync('/proc/self/fd').length;
}

// What a process holds: fds (with where they point) and RSS.
function fdList() {
  const out = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target = '?';
    try { target = fs.readlinkSync(`/proc/self/fd/${fd}`); } catch {}
    out.push(`${fd}->${target}`);
  }
  return out;
}

function rssMB() {
  return process.memoryUsage().rss / 1048576;
}

// Run `node args...` inside jail.run with env (plus ILLUMOS_CONTRACT_ROOT
// = the jail's root unless env says otherwise); optional `ulimit -n`.
// Resolves {pid, code, signal, out, err, timedOut}.
async function runWorker(jail, args, { env = {}, timeout = 600000, nofile,
  echo = false } = {}) {
  const childEnv = { ...process.env, ILLUMOS_CONTRACT_ROOT: jail.root, ...env };
  delete childEnv.NODE_TEST_CONTEXT; // the worker is not a test file
  for (const k of Object.keys(childEnv)) {
    if (childEnv[k] === undefined) delete childEnv[k];
  }
  const limit = nofile !== undefined ? `ulimit -n ${Number(nofile)} && ` : '';
  const p = cp.spawn('sh', ['-c',
    `${limit}echo $$ > "$0/cgroup.procs" && exec "$@"`, jail.run,
    process.execPath, ...args],
  { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => {
    out += d;
    if (echo) process.stdout.write(d);
  });
  p.stderr.on('data', (d) => {
    err += d;
    if (echo) process.stderr.write(d);
  });
  let timedOut = false;
  let closed;
  try {
    closed = await events.once(p, 'close',
      { signal: AbortSignal.timeout(timeout) });
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
    timedOut = true;
    p.kill('SIGKILL');
    closed = await events.once(p, 'close');
  }
  const [code, signal] = closed;
  return { pid: p.pid, code, signal, out, err, timedOut };
}

// The worker's last "RESULT {json}" line.
function parseResult(out) {
  const lines = out.split('\n').filter((l) => l.startsWith('RESULT '));
  if (lines.length === 0) return null;
  return JSON.parse(lines[lines.length - 1].slice(7));
}

// Poll cond every 10 ms up to ms (async, for code that runs an event loop).
async function until(cond, ms, what = 'condition') {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// The first `name` event's argument from emitter; rejects with message
// after ms.  The deadline (AbortSignal.timeout) does not hold the event
// loop open, and an observed contract's events do not either (by design),
// so an idle interval holds it for the wait, as a pending deadline should.
async function onceWithin(emitter, name, ms, message) {
  const hold = setInterval(() => {}, ms);
  try {
    const [arg] = await events.once(emitter, name,
      { signal: AbortSignal.timeout(ms) });
    return arg;
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
    throw new Error(message);
  } finally {
    clearInterval(hold);
  }
}

// After a worker has exited: its keepers must leave at once (the holder
// died), no process may remain anywhere in the jail, and no contract or
// keeper directory in its root.  Returns a list of problems.
async function checkAfterExit(jail, pid, ms = 5000) {
  const problems = [];
  try {
    await until(() => keepersOf(pid).length === 0, ms, 'keepers to leave');
  } catch {
    problems.push(`keeper(s) of ${pid} still running: ${keepersOf(pid)}`);
  }
  try {
    await until(() => processesUnder(jail.dir).length === 0, ms,
      'the jail to empty');
  } catch {
    problems.push(`processes left: ${JSON.stringify(processesUnder(jail.dir))}`);
  }
  try {
    await until(() => contractDirs(jail.root).length === 0 &&
      keeperDirs(jail.root).length === 0, ms, 'the root to empty');
  } catch {
    problems.push(`directories left in ${jail.root}: ` +
      `${[...contractDirs(jail.root), ...keeperDirs(jail.root)]}`);
  }
  return problems;
}

module.exports = {
  MOUNT, isMain, makeJail, removeJail, cgroupsUnder, procsOf, processesUnder,
  contractDirs, keeperDirs, keepersOf, fdCount, fdList, rssMB, runWorker,
  parseResult, until, onceWithin, checkAfterExit, sleepMs, comm,
};
