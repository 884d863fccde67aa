'use strict';
// The spawn hook: a child spawned (by anyone, through child_process) while
// this thread has a process template active goes into a new contract.
// atfork: the C side's atfork handlers join it, we only commit.  shim: it
// runs through ct-exec, which joins and execs the program.  Under reaper
// membership ct-exec is the contract's anchor, the parent of the program:
// the ChildProcess is then made to present the program, not the anchor
// (docs/ARCHITECTURE.md, "Linux: membership", "The child is the program").
const fs = require('fs');
const os = require('os');
const path = require('path');
const childProcess = require('child_process');
const { binding, helperDir, shimPath } = require('./binding');
const tmpl = require('./template');

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
// for it is had from a spawn that cannot run anything (spawnNothing).
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
      if (tmpl.processActive()) binding.spawnReady();
    } catch {
      // nothing to do here: no spawn is waiting for it
    }
  }).unref();
}

// The user's stdio as an array (as child_process reads it: a string for
// all three, missing entries their defaults) with more entries appended:
// each lands at its index as an inherited fd in the child.  null: a stdio
// child_process will refuse with its own error.
function withStdio(stdio, ...more) {
  let a;
  if (stdio === undefined || stdio === null) a = ['pipe', 'pipe', 'pipe'];
  else if (typeof stdio === 'string') a = [stdio, stdio, stdio];
  else if (Array.isArray(stdio)) a = stdio.slice();
  else return null;
  while (a.length < 3) a.push(undefined);
  a.push(...more);
  return a;
}

const signame = {};
for (const [name, n] of Object.entries(os.constants.signals)) {
  if (!(n in signame)) signame[n] = name;
}

/*
 * Under reaper membership: make child the program.  child.pid becomes the
 * program's; kill() goes to the program (the anchor forwards it, SIGKILL
 * included); 'exit' comes when the anchor reports that it reaped the
 * program, with the program's code or signal.  Node's own exit path runs
 * then (it closes the process handle), so the anchor, still reaping the
 * rest of the tree, is reaped by the backend when it ends (spawnRelease).
 * An anchor that ends without a report (killed) reports itself.
 */
function presentProgram(child, report) {
  const anchor = child.pid;
  const handle = child._handle;
  const exit = handle.onexit; // Node's: sets the codes, emits 'exit'
  let said = '';
  let anchorExit = null;
  let done = false;

  // Blocks until the anchor wrote the program's pid, the report's first
  // line (read in C, before this stream reads anything).
  const fd = report._handle && typeof report._handle.fd === 'number'
    ? report._handle.fd : -1;
  child.pid = binding.spawnFirst(anchor, fd);
  // uv's convention: 0 or a negative errno.
  handle.kill = (sig) => -binding.spawnSignal(anchor, sig);

  function finish() {
    if (done) return;
    const m = /^(\d+)\n/.exec(said);
    if (m === null && anchorExit === null) return; // the anchor says it
    done = true;
    let code = null;
    let signal = null;
    if (m !== null) {
      const st = Number(m[1]);
      if ((st & 0x7f) === 0) code = (st >> 8) & 0xff;
      else signal = signame[st & 0x7f] || null;
    } else {
      [code, signal] = anchorExit;
    }
    exit(code, signal);
    if (anchorExit === null) {
      // Node closed the handle: libuv will not wait for the anchor; the
      // backend does from here on, so our guard may go (after, not before).
      // (If it cannot, nobody waits for the anchor: the reaper may.)
      try {
        binding.spawnRelease(anchor);
      } finally {
        if (child[kUnguard]) child[kUnguard]();
      }
    }
  }
  handle.onexit = (code, signal) => {
    anchorExit = [code, signal];
    if (report.closed || report.destroyed) finish();
  };
  // The pipe must not hold the loop where the child would not.
  const { ref, unref } = child;
  child.unref = function() {
    report.unref();
    return unref.call(this);
  };
  child.ref = function() {
    report.ref();
    return ref.call(this);
  };
  report.setEncoding('latin1');
  // The status line ends the child at once, not at the pipe's close.
  report.on('data', (d) => {
    said += d;
    finish();
  });
  report.on('close', finish);
  report.on('error', () => {}); // its close follows; the anchor reports
}

function hookedSpawn(options) {
  if (!tmpl.processActive()) return origSpawn.call(this, options);
  refillSoon();
  const how = tmpl.probe();
  if (how === 'none' || how === null) throw tmpl.failClosed('spawn');
  if (how !== 'shim' && how !== 'reaper') {
    // The contract directory must exist before the fork: if it cannot be
    // made, fail the spawn here rather than run the child outside it.
    // true: this spawn is committed or aborted below, whatever happens.
    binding.spawnReady(true);
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
  const { ctid, dirfd, word } = binding.spawnPrepare();
  const { file, args, stdio } = options;
  // The shim joins the contract and execs the program.  An anchor starts
  // the contract, forks the program and reaps its tree; it gets its
  // directory as an inherited fd, never as a path, the backend's word pipe
  // (if any) on which it says the tree is empty before it exits, and a
  // pipe on which it reports how the program ended (the last of the
  // appended entries).  The command line is the backend's (ct_spawn_argv,
  // as ctrun's is).
  let report = -1;
  let dirAt = dirfd;
  let wordAt = -1;
  let added = 0;
  if (how === 'reaper') {
    const more = word >= 0 ? [dirfd, word, 'pipe'] : [dirfd, 'pipe'];
    const a = withStdio(stdio, ...more);
    if (a !== null) {
      options.stdio = a;
      added = more.length;
      report = a.length - 1;
      dirAt = a.length - added;
      if (word >= 0) wordAt = report - 1;
    }
  }
  let r;
  try {
    options.args = binding.spawnArgv('ct-exec', dirAt, report, wordAt, file,
      args);
    options.file = shim;
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
  // The appended entries are ours, not the user's.
  let pipe = null;
  if (report >= 0 && this.stdio.length > report) {
    pipe = this.stdio.pop();
    this.stdio.length -= added - 1;
  }
  if (this.pid !== undefined) {
    binding.spawnCommit(ctid, this.pid);
    if (pipe) presentProgram(this, pipe);
  } else {
    binding.spawnAbort(ctid);
  }
  return r;
}
/*
 * Node as PID 1 (docs/containers.md, "Node as PID 1"): the backend reaps
 * the zombies handed to us (reap.c), and must never take one libuv waits
 * for (it waits by pid: a pid taken before it would never give 'exit').
 * So every pid libuv waits for -- the handle's, the anchor under reaper
 * membership, whatever child.pid presents -- is guarded from its spawn
 * until libuv reaped it (the handle's onexit), or until the backend took
 * it over (spawnRelease); and from a spawn's call until its pid is
 * guarded, no reap runs on any thread (the child may exit at once).
 * Anywhere but PID 1 reapStart() is false and nothing here runs until
 * the first anchor (below).
 */
const kUnguard = Symbol('illumos_contract.unguard');
// A failure to start (no /proc/self/task, no SIGCHLD watch) leaves it
// off, as before: not reaping costs zombies, not loading the library more.
let reaping = false;
try {
  reaping = binding.reapStart();
} catch {
  // off
}

function guard(child) {
  const h = child._handle;
  const pid = h && h.pid;
  if (!(pid > 0)) return;
  binding.reapGuard(pid, true);
  let held = true;
  child[kUnguard] = () => {
    if (!held) return;
    held = false;
    binding.reapGuard(pid, false);
  };
  // Called by Node once libuv reaped pid (looked up on the handle then).
  const onexit = h.onexit;
  h.onexit = function(...a) {
    try {
      return onexit.apply(this, a);
    } finally {
      child[kUnguard]();
    }
  };
}

function guardedSpawn(options) {
  binding.reapGuard(0, true);
  try {
    return hookedSpawn.call(this, options);
  } finally {
    try {
      guard(this);
    } finally {
      binding.reapGuard(0, false); // runs a reap if it was the last
    }
  }
}

/*
 * Under reaper membership the holder is also the child subreaper of its
 * anchors (docs/security.md, "A killed anchor"): a member may kill its
 * anchor, and the tree must come back to us, not to init.  So before the
 * first anchor is spawned, in any thread, the process starts reaping as
 * PID 1 does, and from then on every spawn of every thread is guarded.
 */
function subreaping() {
  if (reaping) return true;
  if (tmpl.processActive() && tmpl.probe() === 'reaper') {
    reaping = binding.reapSubreaper();
  } else {
    reaping = binding.reapStart(); // another thread's may have begun
  }
  return reaping;
}

ChildProcess.prototype.spawn = function spawn(options) {
  return subreaping() ? guardedSpawn.call(this, options)
    : hookedSpawn.call(this, options);
};

// The sync calls bypass ChildProcess: they fork (and join) only in atfork
// mode; with the shim or an anchor they would run outside the contract, so
// they fail closed.  (execSync and execFileSync call spawnSync inside the
// module, not through its exports: each is wrapped.)
for (const name of ['spawnSync', 'execSync', 'execFileSync']) {
  const orig = childProcess[name];
  childProcess[name] = function contractSync(...a) {
    if (tmpl.processActive()) {
      const how = tmpl.probe();
      if (how !== 'atfork' && how !== 'kernel') throw tmpl.failClosed(name);
    }
    if (!subreaping()) return orig.apply(this, a);
    // PID 1, or a subreaper: spawnSync waits for its own pid, unknown to us: no reap on
    // any thread until it returns (then one, for what came meanwhile).
    binding.reapGuard(0, true);
    try {
      return orig.apply(this, a);
    } finally {
      binding.reapGuard(0, false);
    }
  };
}
