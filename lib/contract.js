'use strict';
// The Contract class: an EventEmitter over one native contract handle.
// Events arrive from the binding's single dispatcher and are routed here by
// ctid; several Contract objects may wrap the same contract.
const EventEmitter = require('events');
const os = require('os');
const { binding } = require('./binding');
const { typeError, sysError } = require('./errors');

const OPEN = { latest: 0, adopt: 1, observe: 2 };
// ctid -> Set<WeakRef<Contract>>: a Contract nobody refers to may be
// collected (its native handle is closed by the finalizer), unless it is
// pinned: listened to and not yet empty, or a stop/freeze/thaw is pending.
const registry = new Map();
const pinned = new Set();
let wanting = 0; // contracts that keep the event loop alive


// What the backend delivers (features): the layer never calls what it
// lacks (freeze and usage on illumos).  Read again until a contract root
// exists, then kept: it says what that root has.
let caps = null;
function can(what) {
  let f = caps;
  if (f === null) {
    f = binding.features();
    if (f.root !== null) caps = f;
  }
  return f[what] === true;
}

function notSupported(what) {
  return sysError('ENOTSUP', os.constants.errno.ENOTSUP, what,
    `${what} is not supported by the ${binding.features().backend} backend ` +
    '(features.' + what + ' is false)');
}

// Why a contract can never be seen empty (the _broken record's error).
function brokenError(ctid, code) {
  let e;
  if (code === 'EBADMSG') {
    e = sysError('EBADMSG', os.constants.errno.EBADMSG, 'wait',
      `contract ${ctid}'s anchor record was refused: it is malformed or ` +
      'names a process that is not the contract\'s anchor (forged or ' +
      'spoiled by a member), so its members cannot be known; it will ' +
      'never be seen empty');
  } else {
    e = sysError('EOWNERDEAD', os.constants.errno.EOWNERDEAD, 'wait',
      `contract ${ctid} lost its tree: its anchor was killed, and its ` +
      'members were reparented out of its reach; it will never be seen ' +
      'empty');
  }
  e.ctid = ctid;
  return e;
}

function disposedError() {
  const e = new Error('this contract has been disposed');
  e.code = 'ERR_CONTRACT_DISPOSED';
  return e;
}

function abortError(signal) {
  const e = new Error('The operation was aborted',
    signal && signal.reason !== undefined ? { cause: signal.reason } : {});
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

function signalNumber(sig) {
  if (typeof sig === 'number') return sig; // the binding range-checks
  if (typeof sig === 'string') {
    const n = os.constants.signals[sig];
    if (n === undefined) {
      throw typeError('ERR_UNKNOWN_SIGNAL', `Unknown signal: ${sig}`);
    }
    return n;
  }
  throw typeError('ERR_INVALID_ARG_TYPE',
    'The "signal" argument must be of type number or string');
}

// gen: which contract of that id ('0': any).  Ids are reused once a
// contract is gone, and a Contract of the old one may still be open.
function dispatch(ctid, name, ev, gen) {
  const set = registry.get(ctid);
  if (set === undefined) return;
  for (const ref of [...set]) {
    const c = ref.deref();
    if (c === undefined) set.delete(ref);
    else if (gen === '0' || c._gen === '0' || c._gen === gen) c._event(name, ev);
  }
  if (set.size === 0) registry.delete(ctid);
}
binding.setDispatch(dispatch);

const kHandle = Symbol('handle');

// docs/illumos.md, "Adopted and observed contracts": on illumos the kernel
// sends pr_empty only when the contract's terms have it (process.c:963);
// the backend adds it to the templates it activates, but an adopted or
// observed contract has the terms its author chose.  Without pr_empty in
// them the backend cannot know when it empties, so the JS layer reads its
// status every POLL_MS while it waits (stop(), `await using`, the loop
// held for a listener), instead of waiting forever.
const POLL_MS = 50;
let backendName = null; // fixed for the life of the process
function blindToEmpty(h) {
  if (backendName === null) backendName = binding.features().backend;
  if (backendName !== 'illumos') return false;
  let st;
  try { st = binding.status(h); } catch { return false; }
  return st.type === 'process' && !st.critical.pr_empty &&
    !st.informative.pr_empty;
}

class Contract extends EventEmitter {
  // 1.0.3 overloads: () latest, (ctid) observe, (ctid, true) adopt.
  constructor(ctid, adopt, latestType) {
    super();
    let how;
    let id = ctid;
    if (ctid === undefined && adopt === undefined) {
      how = OPEN.latest;
      id = require('./template').latestId(latestType);
    } else if (typeof ctid === 'number' &&
               (adopt === undefined || typeof adopt === 'boolean')) {
      how = adopt ? OPEN.adopt : OPEN.observe;
    } else {
      throw typeError('ERR_INVALID_ARG_TYPE',
        'Contract(ctid[, adopt]): ctid must be a number, adopt a boolean');
    }
    this[kHandle] = binding.open(id, how);
    this._gen = binding.gen(this[kHandle]);
    this.ctid = id;
    this._owned = how !== OPEN.observe;
    this._observer = how === OPEN.observe;
    this._empty = false;
    this._broken = null; // the error, once the mechanism lost the tree
    this._unrefd = false;
    this._wants = false;
    this._waiters = { _frozen: [], _thawed: [], _emptied: [] };
    this._internal = 0; // pending stop/freeze/thaw: they hold the loop too
    this._stopping = null;
    this._blind = how !== OPEN.latest && blindToEmpty(this[kHandle]);
    this._poll = null;
    let set = registry.get(id);
    if (set === undefined) registry.set(id, set = new Set());
    this._self = new WeakRef(this);
    set.add(this._self);
    this.on('newListener', (name) => {
      // A listener on a disposed contract would never be called.
      if (this[kHandle] === null) throw disposedError();
      this._listen(name, true);
    });
    this.on('removeListener', () => this._listen(null, false));
  }

  _h() {
    const h = this[kHandle];
    if (h === null) throw disposedError();
    return h;
  }

  _listen(name, adding) {
    const real = (n) => n !== 'newListener' && n !== 'removeListener';
    this._has = adding && real(name) ? true : this.eventNames().some(real);
    this._reref();
  }

  // Hold the loop while events can still come to a listener: held (or
  // observed), not empty, listened to, not unref'd; or while a stop,
  // freeze or thaw is pending.  An abandoned contract gets no more events.
  _reref() {
    const open = this[kHandle] !== null;
    const live = !this._empty && this._broken === null;
    if (open && (this._internal > 0 || (Boolean(this._has) && live))) {
      pinned.add(this);
    } else {
      pinned.delete(this);
    }
    const wants = open && !this._unrefd &&
      (this._internal > 0 ||
       ((this._owned || this._observer) && live && Boolean(this._has)));
    this._pollEmpty(wants && !this._empty && this._blind);
    if (wants === this._wants) return;
    this._wants = wants;
    wanting += wants ? 1 : -1;
    binding.ref(wanting > 0);
  }

  // A contract the backend cannot see empty (blindToEmpty): while the
  // loop is held for it, read its status every POLL_MS until it has no
  // member left (or is gone), and take that for the emptied record.
  _pollEmpty(on) {
    if (!on) {
      if (this._poll !== null) clearInterval(this._poll);
      this._poll = null;
      return;
    }
    if (this._poll !== null) return;
    this._poll = setInterval(() => {
      let empty;
      try {
        empty = binding.status(this[kHandle]).pr_members.length === 0;
      } catch (e) {
        // Destroyed (an orphan that emptied); anything else: next tick.
        empty = e.code === 'ENOENT' || e.code === 'ESRCH';
      }
      if (empty) this._event('_emptied');
    }, POLL_MS);
    this._poll.unref(); // the hold is binding.ref's, not the timer's
  }

  _event(name, ev) {
    if (name[0] !== '_') {
      this.emit(name, ev);
      return;
    }
    // Internal notifications: emptiness (whatever the sets say), freezer,
    // and a contract whose membership can never be known (a killed anchor,
    // docs/linux.md; an anchor record that fails its proof,
    // docs/security.md): it can never be seen empty, so what waits for
    // that fails, now and later, with the backend's reason.
    if (name === '_broken') {
      if (this._broken !== null) return;
      this._broken = brokenError(this.ctid, ev && ev.error);
      this._reref();
      for (const w of this._waiters._emptied.splice(0)) w(this._broken);
      return;
    }
    if (name === '_emptied') {
      this._empty = true;
      this._reref();
    }
    const waiters = this._waiters[name];
    if (waiters !== undefined) for (const w of waiters.splice(0)) w();
  }

  // Resolve once the internal notification `name` arrives.
  _wait(name, start) {
    if (name === '_emptied' && this._broken !== null) {
      return Promise.reject(this._broken);
    }
    return new Promise((resolve, reject) => {
      this._internal++;
      this._reref();
      const done = (err) => {
        this._internal--;
        this._reref();
        if (err) reject(err);
        else resolve();
      };
      this._waiters[name].push(done);
      try {
        start();
      } catch (e) {
        this._waiters[name].splice(this._waiters[name].indexOf(done), 1);
        this._internal--;
        this._reref();
        reject(e);
      }
    });
  }

  _control(what) {
    const h = this._h();
    if (!this._owned) {
      throw sysError('EPERM', 1, what, `contract ${this.ctid} is observed, ` +
        `not held: ${what} needs the holder`);
    }
    return h;
  }

  status() { return binding.status(this._h()); }

  abandon() {
    binding.abandon(this._h());
    this._owned = false;
    this._reref();
  }

  ack(evid) { binding.ack(this._h(), evid); }

  nack(evid) { binding.nack(this._h(), evid); }

  qack(evid) { binding.qack(this._h(), evid); }

  sigsend(sig) { binding.sigsend(this._h(), signalNumber(sig)); }

  ref() {
    this._h();
    this._unrefd = false;
    this._reref();
    return this;
  }

  unref() {
    this._h();
    this._unrefd = true;
    this._reref();
    return this;
  }

  // Whole-tree control (docs/api.md, "Extensions").
  stop(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw typeError('ERR_INVALID_ARG_TYPE',
        'The "options" argument must be of type object');
    }
    const { signal = 'SIGTERM', timeout = 5000 } = options;
    const sig = signalNumber(signal);
    if (typeof timeout !== 'number' || !(timeout >= 0)) {
      const e = new RangeError('The "timeout" option must be a number >= 0');
      e.code = 'ERR_OUT_OF_RANGE';
      throw e;
    }
    const h = this._control('stop');
    if (this._stopping !== null) return this._stopping;
    if (this._empty) return Promise.resolve({ forced: false });
    let forced = false;
    let timer = null;
    const emptied = this._wait('_emptied', () => {
      try {
        binding.sigsend(h, sig);
      } catch (e) {
        // A refused record: the same error whenEmpty() gets (the backend
        // tells the watch too, but after this call).
        if (e.code === 'EBADMSG') throw brokenError(this.ctid, e.code);
        if (e.code !== 'ESRCH') throw e; // ESRCH: already empty
      }
      // A frozen member only acts on the signal once thawed (one that had
      // it blocked at freeze time would wait forever): always thaw, where
      // there is a freezer at all.
      if (can('freeze')) binding.freeze(h, false);
      if (timeout !== Infinity) {
        timer = setTimeout(() => {
          forced = true;
          try { binding.sigsend(h, 9); } catch { /* emptied meanwhile */ }
        }, timeout);
      }
    });
    this._stopping = emptied.then(() => {
      clearTimeout(timer);
      this._stopping = null;
      return { forced };
    }, (e) => {
      clearTimeout(timer);
      this._stopping = null;
      // A killed anchor: the tree can no longer be seen empty, so no
      // grace period can be honoured; where it came back to us (the
      // holder), it is killed now (docs/security.md, "A killed anchor").
      if (e === this._broken && e.code === 'EOWNERDEAD') {
        try { binding.sigsend(h, 9); } catch { /* none left, or not ours */ }
      }
      throw e;
    });
    return this._stopping;
  }

  freeze() {
    const h = this._control('freeze');
    return this._wait('_frozen', () => {
      if (!can('freeze')) throw notSupported('freeze');
      binding.freeze(h, true);
    });
  }

  thaw() {
    const h = this._control('thaw');
    return this._wait('_thawed', () => {
      if (!can('freeze')) throw notSupported('freeze');
      binding.freeze(h, false);
    });
  }

  usage() {
    const h = this._h();
    if (!can('usage')) throw notSupported('usage');
    return binding.usage(h);
  }

  // One record per process that was ever a member (spawned with
  // trace: true; docs/trace.md).  Lost counts land on the array.
  trace() {
    const { records, lost } = require('./trace').read(this._h());
    if (lost > 0) Object.defineProperty(records, 'lost', { value: lost });
    return records;
  }

  // The live members, with what /proc (or psinfo) says of each.
  members() { return binding.members(this._h()); }

  // Resolve {ctid} once the contract is empty (at once if it is already).
  whenEmpty(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw typeError('ERR_INVALID_ARG_TYPE',
        'The "options" argument must be of type object');
    }
    const { signal, timeout } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw typeError('ERR_INVALID_ARG_TYPE',
        'The "signal" option must be an AbortSignal');
    }
    if (timeout !== undefined && (typeof timeout !== 'number' ||
        !(timeout >= 0))) {
      const e = new RangeError('The "timeout" option must be a number >= 0');
      e.code = 'ERR_OUT_OF_RANGE';
      throw e;
    }
    this._h();
    const ctid = this.ctid;
    if (this._empty) return Promise.resolve({ ctid });
    if (signal && signal.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      let timer = null;
      const onAbort = () => finish(abortError(signal));
      const finish = (err) => {
        clearTimeout(timer);
        if (signal) signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve({ ctid });
      };
      if (timeout !== undefined && timeout !== Infinity) {
        timer = setTimeout(() => finish(sysError('ETIMEDOUT',
          os.constants.errno.ETIMEDOUT, 'whenEmpty', `contract ${ctid} ` +
          `was not empty after ${timeout} ms`)), timeout);
      }
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      this._wait('_emptied', () => {}).then(() => finish(null), finish);
    });
  }

  dispose() {
    const h = this[kHandle];
    if (h === null) return; // again: nothing to do
    this[kHandle] = null;
    this._pollEmpty(false);
    binding.close(h);
    // Whatever waited on this contract (stop, freeze, thaw) cannot finish.
    for (const name of Object.keys(this._waiters)) {
      for (const w of this._waiters[name].splice(0)) w(disposedError());
    }
    this._reref();
    const set = registry.get(this.ctid);
    if (set !== undefined) {
      set.delete(this._self);
      if (set.size === 0) registry.delete(this.ctid);
    }
  }
}

// `using c = ...` and `await using c = ...` (explicit resource management):
// disposal may run more than once, so Symbol.dispose is a no-op on a
// disposed Contract; Symbol.asyncDispose first stops the tree this process
// holds (ct.stop() with its defaults), then disposes.  Node versions
// without the symbols get neither.
if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(Contract.prototype, Symbol.dispose, {
    configurable: true,
    writable: true,
    value: function dispose() {
      if (this[kHandle] !== null) this.dispose();
    },
  });
}
if (typeof Symbol.asyncDispose === 'symbol') {
  Object.defineProperty(Contract.prototype, Symbol.asyncDispose, {
    configurable: true,
    writable: true,
    value: async function asyncDispose() {
      if (this[kHandle] === null) return;
      try {
        if (this._owned && !this._empty &&
            this.status().type === 'process') {
          await this.stop();
        }
      } catch (e) {
        // Disposed meanwhile: done.  A contract that can never be seen
        // empty (EOWNERDEAD, EBADMSG: status() refuses a forged record
        // too): the handle goes all the same, and the error says why.
        if (e.code !== 'ERR_CONTRACT_DISPOSED') {
          if (this[kHandle] !== null) this.dispose();
          throw e;
        }
      }
      if (this[kHandle] !== null) this.dispose();
    },
  });
}

module.exports = { Contract, OPEN, abortError, can, signalNumber, sysError,
  typeError };
