'use strict';
// Templates as JS sees them: the thread's active template per type (the C
// side holds the real, validated copy), latest(), and the hook that puts
// children spawned while a process template is active into their contract.
const fs = require('fs');
const os = require('os');
const path = require('path');
const childProcess = require('child_process');
const { binding, helperDir, shimPath } = require('./binding');

const active = { process: null, device: null }; // clones, for restoring
let lastType = null;
let mode = null; // 'atfork' | 'shim' | 'anchor' | 'kernel', once probed

function clone(t) {
  const c = {};
  for (const k of Object.keys(t)) {
    const v = t[k];
    c[k] = v !== null && typeof v === 'object' && !Array.isArray(v)
      ? { ...v } : v;
  }
  return c;
}

// Read a template object once, the way the binding reads it (own
// enumerable string keys, one level of sets): a getter or Proxy answering
// differently on each read must not make the C side and the copy kept here
// (for restoring) disagree.  What a getter throws propagates unchanged.
function snapshot(t) {
  return t !== null && typeof t === 'object' && !Array.isArray(t)
    ? clone(t) : t;
}

// Which way does this Node spawn?  libuv <= 1.52 forks (our atfork handlers
// run); a libuv that uses posix_spawn runs none, and we need the shim.
// A mode forced with ILLUMOS_CONTRACT_SPAWN (read by the C side only) is
// probed too: atfork forced on a libuv that never forks would run every
// child outside its contract, so it fails closed instead ('none').
function probe() {
  if (mode !== null) return mode;
  mode = binding.spawnMode();
  if (mode === 'kernel' || mode === 'anchor') return mode;
  const shim = shimPath();
  const before = binding.forkCount();
  const r = origSpawnSync(shim || process.execPath,
    shim ? ['--probe'] : ['-e', '0'], { stdio: 'ignore' });
  const forked = binding.forkCount() > before;
  if (r.error === undefined || forked) {
    const got = binding.spawnMode(forked ? 'atfork' : 'shim');
    // Forced to atfork, yet no fork ran our handlers: nothing can join.
    mode = got === 'atfork' && !forked ? 'none' : got;
  }
  return mode;
}

function failClosed(what) {
  const e = new Error(`ENOTSUP: ${what} with a process template active ` +
    'would run outside its contract; no child was started');
  e.code = 'ENOTSUP';
  e.errno = os.constants.errno.ENOTSUP;
  e.syscall = 'spawn';
  return e;
}

function setTemplate(template) {
  const t = snapshot(template);
  if (t !== null && typeof t === 'object' && t.type === 'process') probe();
  binding.setTemplate(t); // validates: throws TypeError/RangeError
  active[t.type] = t;
  lastType = t.type;
}

function clearTemplate(type) {
  binding.clearTemplate(type);
  if (type === undefined) {
    active.process = active.device = null;
  } else {
    active[type] = null;
  }
}

function latestId(type) {
  return binding.latest(type !== undefined ? type : lastType || 'process');
}

// Run fn with template t active, then put back whatever was active before.
function withTemplate(template, fn) {
  const t = snapshot(template);
  const before = active[t.type];
  const beforeLast = lastType;
  setTemplate(t);
  try {
    return fn();
  } finally {
    if (before !== null) setTemplate(before);
    else clearTemplate(t.type);
    lastType = beforeLast;
  }
}

// ---- the spawn hook ----

function pathOf(options) {
  for (const kv of options.envPairs || []) {
    if (kv.startsWith('PATH=')) return kv.slice(5);
  }
  return '/bin:/usr/bin';
}

function executable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

// Whether execvp would find something to run; if not, Node's own error
// for it is had from a spawn that cannot run anything (below).
function resolve(options) {
  const cwd = options.cwd || process.cwd();
  const file = options.file;
  if (file.includes('/')) return executable(path.resolve(cwd, file));
  return pathOf(options).split(':').some(
    (dir) => executable(path.resolve(cwd, dir || '.', file)));
}

// The error a spawn of options.file would give: ENOENT if no such file
// is anywhere execvp looks, else EACCES.
function unrunnable(options) {
  const cwd = options.cwd || process.cwd();
  const file = options.file;
  const dirs = file.includes('/') ? [''] : pathOf(options).split(':');
  const there = dirs.some((dir) => {
    try {
      fs.statSync(path.resolve(cwd, dir || '.', file));
      return true;
    } catch {
      return false;
    }
  });
  // Files that can never run: procfs makes no file, /dev/null is no program.
  return there ? '/dev/null' : '/proc/self/illumos-contract-no-such-file';
}

// Node's error for a child that cannot be run, without running anything:
// the spawn is of a file that cannot be executed, reported as options.file.
function spawnNothing(child, options) {
  const { file } = options;
  options.file = unrunnable(options);
  try {
    return origSpawn.call(child, options);
  } finally {
    options.file = file;
    child.spawnfile = file;
  }
}

// An inherited fd for the child: appended to its stdio, so it is at that
// index in the child (after 0-2, and after any the caller gave).
function withFd(options, fd) {
  let stdio = options.stdio;
  if (typeof stdio === 'string') stdio = [stdio, stdio, stdio];
  else stdio = Array.isArray(stdio) ? [...stdio] : ['pipe', 'pipe', 'pipe'];
  while (stdio.length < 3) stdio.push(undefined);
  stdio.push(fd);
  return { stdio, index: stdio.length - 1 };
}

const { ChildProcess } = childProcess;
const origSpawn = ChildProcess.prototype.spawn;
const origSpawnSync = childProcess.spawnSync;

// Make the next contract directory ahead of need, after this tick's spawns.
let refilling = false;
function refillSoon() {
  if (refilling) return;
  refilling = true;
  setImmediate(() => {
    refilling = false;
    // A failure (EAGAIN, EMFILE...) is reported by the next spawn.
    try {
      if (active.process !== null) binding.spawnReady();
    } catch {
      // nothing to do here: no spawn is waiting for it
    }
  }).unref();
}

function hookedSpawn(options) {
  if (active.process === null) return origSpawn.call(this, options);
  refillSoon();
  const how = probe();
  if (how === 'none' || how === null) throw failClosed('spawn');
  if (how !== 'shim' && how !== 'anchor') {
    // The contract directory must exist before the fork: if it cannot be
    // made, fail the spawn here rather than run the child outside it.
    binding.spawnReady();
    let r;
    try {
      r = origSpawn.call(this, options);
    } catch (e) {
      binding.spawnAbort(0);
      throw e;
    }
    if (this.pid !== undefined) binding.spawnCommit(0, this.pid);
    else binding.spawnAbort(0);
    return r;
  }
  // Fail closed: a file the check finds unrunnable is never spawned as
  // is (it may become runnable meanwhile); Node still reports the error.
  if (!resolve(options)) return spawnNothing(this, options);
  const shim = shimPath();
  if (shim === null) {
    const e = new Error('ENOTSUP: the exec shim ' +
      `(${path.join(helperDir, 'ct-exec')}) is missing; rebuild the ` +
      'package with npm install');
    e.code = 'ENOTSUP';
    e.errno = os.constants.errno.ENOTSUP;
    e.syscall = 'execve';
    throw e;
  }
  const { ctid, procs, dirfd } = binding.spawnPrepare();
  const { file, args, stdio } = options;
  options.file = shim;
  // The shim joins the contract and execs the program; an anchor starts
  // the contract, forks the program and reaps its tree.  The anchor gets
  // its directory as an inherited fd, never as a path.
  if (how === 'anchor') {
    const given = withFd(options, dirfd);
    options.stdio = given.stdio;
    options.args = ['ct-exec', '--anchor', `@${given.index}`, file, ...args];
  } else {
    options.args = ['ct-exec', procs, file, ...args];
  }
  let r;
  try {
    r = origSpawn.call(this, options);
  } catch (e) {
    binding.spawnAbort(ctid);
    throw e;
  } finally {
    options.file = file;
    options.args = args;
    options.stdio = stdio;
  }
  this.spawnfile = file;
  this.spawnargs = args;
  if (how === 'anchor' && Array.isArray(this.stdio)) {
    this.stdio.length = Math.max(3, this.stdio.length - 1); // the fd: ours
  }
  if (this.pid !== undefined) binding.spawnCommit(ctid, this.pid);
  else binding.spawnAbort(ctid);
  return r;
}
ChildProcess.prototype.spawn = hookedSpawn;

// The sync calls bypass ChildProcess: they fork (and join) only in atfork
// mode; with the shim or an anchor they would run outside the contract, so
// they fail closed.  (execSync and execFileSync call spawnSync inside the
// module, not through its exports: each is wrapped.)
for (const name of ['spawnSync', 'execSync', 'execFileSync']) {
  const orig = childProcess[name];
  childProcess[name] = function contractSync(...a) {
    if (active.process !== null) {
      const how = probe();
      if (how !== 'atfork' && how !== 'kernel') throw failClosed(name);
    }
    return orig.apply(this, a);
  };
}

module.exports = {
  setTemplate, clearTemplate, latestId, withTemplate, probe, snapshot,
};
