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
function probe() {
  if (mode !== null) return mode;
  mode = binding.spawnMode();
  if (mode === 'kernel' || mode === 'anchor' ||
      process.env.ILLUMOS_CONTRACT_SPAWN) return mode;
  const shim = shimPath();
  const before = binding.forkCount();
  const r = childProcess.spawnSync(shim || process.execPath,
    shim ? ['--probe'] : ['-e', '0'], { stdio: 'ignore' });
  const forked = binding.forkCount() > before;
  if (r.error === undefined || forked) {
    mode = binding.spawnMode(forked ? 'atfork' : 'shim');
  }
  return mode;
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

// What execvp would run, or null (then Node reports ENOENT/EACCES itself).
function resolve(options) {
  const cwd = options.cwd || process.cwd();
  const file = options.file;
  if (file.includes('/')) return executable(path.resolve(cwd, file));
  return pathOf(options).split(':').some(
    (dir) => executable(path.resolve(cwd, dir || '.', file)));
}

const { ChildProcess } = childProcess;
const origSpawn = ChildProcess.prototype.spawn;

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
  if (!resolve(options)) return origSpawn.call(this, options);
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
  const { ctid, procs } = binding.spawnPrepare();
  const { file, args } = options;
  options.file = shim;
  // The shim joins the contract and execs the program; an anchor starts
  // the contract, forks the program and reaps its tree.
  options.args = how === 'anchor' ? ['ct-exec', '--anchor', procs, file,
    ...args] : ['ct-exec', procs, file, ...args];
  let r;
  try {
    r = origSpawn.call(this, options);
  } catch (e) {
    binding.spawnAbort(ctid);
    throw e;
  } finally {
    options.file = file;
    options.args = args;
  }
  this.spawnfile = file;
  this.spawnargs = args;
  if (this.pid !== undefined) binding.spawnCommit(ctid, this.pid);
  else binding.spawnAbort(ctid);
  return r;
}
ChildProcess.prototype.spawn = hookedSpawn;

module.exports = {
  setTemplate, clearTemplate, latestId, withTemplate, probe, snapshot,
};
