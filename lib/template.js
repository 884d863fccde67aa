'use strict';
// Templates as JS sees them: the thread's active template per type (the C
// side holds the real, validated copy), latest(), and which way children
// get into their contract (probe; the hook itself is lib/hook.js).
const os = require('os');
const childProcess = require('child_process');
const { binding, shimPath } = require('./binding');

const active = { process: null, device: null }; // clones, for restoring
let lastType = null;
let mode = null; // 'atfork' | 'shim' | 'reaper' | 'kernel', once probed

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
// (The probe's spawnSync is the original: lib/hook.js wraps the export.)
const origSpawnSync = childProcess.spawnSync;
function probe() {
  if (mode !== null) return mode;
  mode = binding.spawnMode();
  if (mode === 'kernel' || mode === 'reaper') return mode;
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

function processActive() {
  return active.process !== null;
}

module.exports = {
  setTemplate, clearTemplate, latestId, withTemplate, probe, snapshot,
  processActive, failClosed,
};

