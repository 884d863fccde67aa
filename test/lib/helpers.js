'use strict';
// Shared by the test files: a private contract root per test file (set
// before the library is loaded), cleaned up afterwards, and waiting on
// events with timeouts instead of sleeping.
const events = require('events');
const fs = require('fs');
const path = require('path');
const { setTimeout: sleep } = require('timers/promises');
const { after } = require('node:test');

const CGROOT = '/sys/fs/cgroup/unified';

// Deadlines scale on a slower build: npm run test:asan sets this (a
// sanitizer build runs several times slower), a slow machine may too.
const SLOW = Math.max(1, Number(process.env.ILLUMOS_CONTRACT_TEST_SLOW) || 1);
function ms(n) {
  return n * SLOW;
}

function cgroup2Mount() {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep >= 0 && line.slice(sep + 3).startsWith('cgroup2 ')) {
      return line.split(' ')[4];
    }
  }
  return CGROOT;
}

// Contracts, keepers' cgroups, and a delegated root's "contract".
const OURS = /^(\d+|k\d+-\d+|contract)$/;

function killTree(dir) {
  // Kill whatever is left in every contract of dir, then remove them.
  let entries = [];
  try { entries = fs.readdirSync(dir); } catch { return; }
  for (const e of entries) {
    const sub = path.join(dir, e);
    if (!OURS.test(e)) continue;
    killTree(sub);
    try { fs.writeFileSync(path.join(sub, 'cgroup.kill'), '1'); } catch {}
  }
  const deadline = Date.now() + 5000;
  for (const e of entries) {
    if (!OURS.test(e)) continue;
    const sub = path.join(dir, e);
    for (;;) {
      try {
        fs.rmdirSync(sub);
        break;
      } catch (err) {
        if (err.code === 'ENOENT' || Date.now() > deadline) break;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
  }
}

// The descendants of pid (children of each of its threads), deepest last.
function descendants(pid) {
  const out = [];
  for (let i = -1; i < out.length; i++) {
    const p = i < 0 ? pid : out[i];
    let tasks = [];
    try { tasks = fs.readdirSync(`/proc/${p}/task`); } catch { continue; }
    for (const t of tasks) {
      try {
        const kids = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
        for (const k of kids.split(' ')) if (k.trim()) out.push(Number(k));
      } catch { /* gone meanwhile */ }
    }
  }
  return out;
}

// Reaper membership: kill every anchor's tree, then remove the registry.
function reapRoot(root) {
  for (const e of contractDirs(root)) {
    let anchor = 0;
    try {
      anchor = Number(fs.readFileSync(path.join(root, e, 'user.ct.anchor'),
        'utf8').split(' ')[0]);
    } catch { continue; }
    for (let pass = 0; pass < 50 && anchor > 0; pass++) {
      const tree = descendants(anchor);
      if (tree.length === 0) break;
      for (const p of tree) try { process.kill(p, 'SIGKILL'); } catch {}
    }
    // Its anchor records the end as it leaves: wait for that.
    const deadline = Date.now() + 5000;
    while (anchor > 0 && alive(anchor) && Date.now() < deadline) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  fs.rmSync(root, { recursive: true, force: true, maxRetries: 10 });
}

// A cgroup directory of this test file's own under the cgroup2 mount (a
// contract root to name in ILLUMOS_CONTRACT_ROOT, whatever membership the
// file runs under): what is left in it is killed and it is removed after
// the file.
function cgroupRoot(tag) {
  const dir = path.join(cgroup2Mount(), `ict-${tag}-${process.pid}`);
  after(() => {
    killTree(dir);
    try { fs.rmdirSync(dir); } catch { /* never made, or gone */ }
  });
  return dir;
}

// Give this test file its own contract root; remove it when done.
function useRoot(tag) {
  if (process.env.ILLUMOS_CONTRACT_MEMBERSHIP === 'reaper') {
    const reg = fs.mkdtempSync(path.join(require('os').tmpdir(),
      `ict-${tag}-`));
    process.env.ILLUMOS_CONTRACT_ROOT = reg;
    after(() => reapRoot(reg));
    // A spare made after that (a refill finds the root gone and makes it
    // again) goes with the process.
    process.on('exit', () => fs.rmSync(reg, { recursive: true, force: true }));
    return reg;
  }
  const name = `ict-${tag}-${process.pid}`;
  const root = path.join(cgroup2Mount(), name);
  process.env.ILLUMOS_CONTRACT_ROOT = root;
  after(() => {
    // Keepers (ours, and ones still finishing) live under the root too.
    const deadline = Date.now() + 5000;
    for (;;) {
      killTree(root);
      try { fs.writeFileSync(path.join(root, 'cgroup.kill'), '1'); } catch {}
      try {
        fs.rmdirSync(root);
        return;
      } catch (e) {
        if (e.code === 'ENOENT') return;
        if (Date.now() > deadline) break;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    // While this process holds contracts, a killed keeper is restarted:
    // the last one leaves only when we exit.  Finish the job then.
    require('child_process').spawn('sh', ['-c', `
      while [ -d /proc/${process.pid} ]; do sleep 0.02; done
      for i in $(seq 200); do
        for d in "$0"/k* "$0"/[0-9]*; do
          [ -d "$d" ] && { echo 1 > "$d/cgroup.kill"; rmdir "$d"; }
        done
        rmdir "$0" && exit 0
        sleep 0.05
      done`, root], { detached: true, stdio: 'ignore' }).unref();
  });
  return root;
}

// Resolve with the first `event` (its argument, or all of them as an
// array when there are several); reject after ms.  AbortSignal.timeout's
// timer does not hold the event loop open, and an observed contract's
// events do not either (by design), so an idle interval holds it for the
// wait, as a pending deadline should.
async function once(emitter, event, deadline = 5000) {
  const wait = ms(deadline);
  const hold = setInterval(() => {}, wait);
  try {
    const args = await events.once(emitter, event,
      { signal: AbortSignal.timeout(wait) });
    return args.length <= 1 ? args[0] : args;
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
    throw new Error(`timed out after ${wait} ms waiting for ${event}`);
  } finally {
    clearInterval(hold);
  }
}

// Like once(), for work whose length is the machine's (a fork storm on a
// loaded machine runs at a fraction of its usual rate): rejects only when
// progress() -- a count that grows while the work goes on -- has not moved
// for `stall` ms, so a slow machine waits longer and a hang still fails.
async function onceProgressing(emitter, event, progress, stall = 10000) {
  const wait = ms(stall);
  let last = progress();
  let since = Date.now();
  let watch;
  const stalled = new Promise((resolve, reject) => {
    watch = setInterval(() => {
      const now = progress();
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since > wait) {
        reject(new Error(`no progress for ${wait} ms waiting for ${event}`));
      }
    }, 250);
  });
  try {
    const args = await Promise.race([events.once(emitter, event), stalled]);
    return args.length <= 1 ? args[0] : args;
  } finally {
    clearInterval(watch);
  }
}

function fdCount() {
  return fs.readdirSync('/proc/self/fd').length;
}

function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

// Poll a condition (for things no event reports, like a pid vanishing).
async function until(cond, limit = 5000, what = 'condition') {
  const deadline = Date.now() + ms(limit);
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function contractDirs(root) {
  try {
    return fs.readdirSync(root).filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
}

// Wait until n members of c run `sleep` (a test's shells have set their
// traps by then); the member pids.
async function sleepers(c, n) {
  const comm = (p) => {
    try { return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim(); } catch {
      return '';
    }
  };
  await until(() => c.status().pr_members.filter(
    (p) => comm(p) === 'sleep').length >= n, 5000, `${n} sleepers`);
  return c.status().pr_members;
}

// The live processes whose command line (/proc/<pid>/cmdline, NULs and
// all) `matches` accepts, as numbers.
function running(matches) {
  const out = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let cmdline;
    try {
      cmdline = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8');
    } catch { continue; }
    if (matches(cmdline) && alive(Number(e))) out.push(Number(e));
  }
  return out;
}

// The pids of the keepers (src/helpers/keeper.c) serving contract root
// `root`: each runs as `ct-keeper ROOT HOLDER_PID HOLDER_START`.
function keepersOf(root) {
  return running((cmdline) => {
    const argv = cmdline.split('\0');
    return argv[0] === 'ct-keeper' && argv[1] === root;
  });
}

// bench/storm.c, compiled once per test process into a directory removed
// at exit: `storm N` forks N children that exit at once, faster than any
// shell loop (a storm of sh forks and execs costs ~5 ms a process).
let stormBin = null;
function storm() {
  if (stormBin === null) {
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'ict-storm-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const bin = path.join(dir, 'storm');
    require('child_process').execFileSync('cc', ['-O2', '-o', bin,
      path.join(__dirname, '..', '..', 'bench', 'storm.c')]);
    stormBin = bin;
  }
  return stormBin;
}

module.exports = {
  useRoot, cgroupRoot, once, onceProgressing, fdCount, alive, until, contractDirs, cgroup2Mount, killTree,
  descendants, reapRoot, ms, sleepers, storm, keepersOf, running,
};
