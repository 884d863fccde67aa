'use strict';
// spawn() and run(): child_process.spawn in a fresh contract, with
// whole-tree timeout and AbortSignal handling (docs/api.md, "Extensions");
// run() follows execa's conventions (a non-zero exit, a signal, an abort
// or a timeout rejects) and collects piped output as execFile does.
const childProcess = require('child_process');
const { binding } = require('./binding');
const { Contract, abortError, can, signalNumber, typeError } =
  require('./contract');
const tmpl = require('./template');
const trace = require('./trace');


// spawn() reports an abort as child_process does: an AbortError 'error'
// on the child, asynchronously, also when the signal was aborted already
// (then the tree is stopped at once).
const kAsyncAbort = Symbol('asyncAbort');

function splitArgs(args, options) {
  if (!Array.isArray(args)) {
    if (args !== undefined && args !== null && options === undefined) {
      options = args;
    }
    args = [];
  }
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') {
    throw typeError('ERR_INVALID_ARG_TYPE',
      'The "options" argument must be of type object');
  }
  return [args, options];
}

function checkTemplate(t) {
  if (t === null || typeof t !== 'object' || t.type !== 'process') {
    throw typeError('ERR_INVALID_ARG_VALUE',
      'options.template must be a process template ({type: \'process\', ...})');
  }
}

// killSignal is only used when a timeout or abort fires: check it now, not
// in a timer callback where a throw would be an uncaught exception.
function checkSignal(sig) {
  const n = signalNumber(sig);
  const max = binding.sigMax(); // 64 on Linux, 73 on illumos
  if (!Number.isInteger(n) || n < 0 || n > max) {
    const e = new RangeError('The "killSignal" option must be a signal name ' +
      `or an integer >= 0 and <= ${max}`);
    e.code = 'ERR_OUT_OF_RANGE';
    throw e;
  }
}

function checkDelay(name, v) {
  if (v !== undefined && (typeof v !== 'number' || !(v >= 0))) {
    const e = new RangeError(`The "${name}" option must be a number >= 0`);
    e.code = 'ERR_OUT_OF_RANGE';
    throw e;
  }
}

// Stop the whole contract when the timeout fires or the signal aborts;
// onStop(why) first (false: stopped already), then stop()'s promise to
// onStopping.
function arm(contract, { timeout, signal, killSignal, forceKillAfterDelay },
  onStop, onStopping = () => {}) {
  let timer = null;
  const stop = (why) => {
    try {
      if (onStop(why) === false) return;
      const p = contract.stop({ signal: killSignal,
        timeout: forceKillAfterDelay });
      p.catch(() => {}); // disposed meanwhile: nothing left to stop
      onStopping(p);
    } catch {
      // Disposed meanwhile (a timer or abort listener must not throw).
    }
  };
  const onAbort = () => stop('aborted');
  if (timeout !== undefined && timeout !== Infinity) {
    timer = setTimeout(() => stop('timedOut'), timeout);
  }
  if (signal) signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    clearTimeout(timer);
    if (signal) signal.removeEventListener('abort', onAbort);
  };
}

// cleanup (default true): the tree dies with this process, as execa's
// cleanup kills its child: the template gets noorphan, which the kernel
// (illumos) or the keeper (Linux) applies however the holder dies.  A
// template that gives `param` says for itself; an explicit cleanup that
// contradicts its noorphan is refused.
function withCleanup(template, cleanup) {
  if (cleanup !== undefined && typeof cleanup !== 'boolean') {
    throw typeError('ERR_INVALID_ARG_TYPE',
      'The "cleanup" option must be of type boolean');
  }
  const { param } = template;
  if (param === undefined) {
    return cleanup === false ? template
      : { ...template, param: { noorphan: true } };
  }
  const { noorphan } = param !== null && typeof param === 'object' ? param
    : {};
  if (cleanup === undefined || param === null || typeof param !== 'object' ||
      (noorphan !== undefined && typeof noorphan !== 'boolean')) {
    return template; // the template decides (or the binding refuses it)
  }
  if (noorphan !== undefined && noorphan !== cleanup) {
    throw typeError('ERR_INVALID_ARG_VALUE', `options.cleanup (${cleanup}) ` +
      `contradicts options.template.param.noorphan (${noorphan})`);
  }
  return { ...template, param: { ...param, noorphan: cleanup } };
}

function start(cmd, args, options) {
  const {
    template: given = { type: 'process' }, signal, timeout, cleanup,
    killSignal = 'SIGTERM', forceKillAfterDelay = 5000, trace: traced,
    [kAsyncAbort]: asyncAbort,
    ...spawnOptions
  } = options;
  const tracing = trace.checkTrace(traced);
  const snap = tmpl.snapshot(given); // checked as it will be used
  checkTemplate(snap);
  const template = withCleanup(snap, cleanup);
  checkSignal(killSignal);
  checkDelay('timeout', timeout);
  checkDelay('forceKillAfterDelay', forceKillAfterDelay);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw typeError('ERR_INVALID_ARG_TYPE',
      'The "signal" option must be an AbortSignal');
  }
  if (signal && signal.aborted) {
    if (!asyncAbort) throw abortError(signal);
    // spawn(): a ChildProcess that never ran, nothing started.
    const child = new childProcess.ChildProcess();
    child.spawnfile = cmd;
    child.spawnargs = [cmd, ...args];
    return { child, contract: null, tracing, aborted: true,
      control: { timeout, signal, killSignal, forceKillAfterDelay } };
  }
  let child;
  let contract = null;
  trace.withTrace(tracing, () => tmpl.withTemplate(template, () => {
    child = childProcess.spawn(cmd, args, spawnOptions);
    if (child.pid !== undefined) contract = new Contract();
  }));
  const noorphan = Boolean(template.param && template.param.noorphan);
  return {
    child, contract, tracing, noorphan,
    control: { timeout, signal, killSignal, forceKillAfterDelay },
  };
}


// spawn(cmd, [args], [options]) -> {child, contract, ended}.  With a
// timeout or a signal, `ended` is a Promise of {timedOut, aborted, forced}
// once the contract is empty (or disposed): whether a timeout or an abort
// stopped the tree, and whether SIGKILL was needed; else null.
function spawn(cmd, args, options) {
  [args, options] = splitArgs(args, options);
  const started = start(cmd, args, { ...options, [kAsyncAbort]: true });
  const { child, contract, control } = started;
  const armed = control.timeout !== undefined || control.signal !== undefined;
  if (started.aborted) {
    // As child_process: no throw; the AbortError comes asynchronously,
    // then 'close' (as after a failed spawn) for whoever waits on it.
    process.nextTick(() => {
      child.emit('error', abortError(control.signal));
      setImmediate(() => child.emit('close', null, null));
    });
    return { child, contract, ended: Promise.resolve(
      { timedOut: false, aborted: true, forced: false }) };
  }
  if (contract === null || !armed) {
    return { child, contract, ended: null };
  }
  let why = null;
  let stopping = null;
  const onStop = (reason) => {
    if (why !== null) return false;
    why = reason;
    if (why === 'aborted') {
      process.nextTick(() => child.emit('error', abortError(control.signal)));
    }
    return true;
  };
  const disarm = arm(contract, control, onStop, (p) => { stopping = p; });
  // Disposed before it emptied: the wait rejects; disarm all the same.
  const ended = contract._wait('_emptied', () => {}).catch(() => {})
    .then(async () => {
      disarm();
      let forced = false;
      if (stopping !== null) {
        try { forced = (await stopping).forced; } catch { /* disposed */ }
      }
      return { timedOut: why === 'timedOut', aborted: why === 'aborted',
        forced };
    });
  return { child, contract, ended };
}

function checkOutput(encoding, maxBuffer) {
  if (encoding !== null && encoding !== 'buffer' &&
      !(typeof encoding === 'string' && Buffer.isEncoding(encoding))) {
    throw typeError('ERR_INVALID_ARG_VALUE', 'The "encoding" option must ' +
      `be a Buffer encoding, 'buffer' or null; received ${String(encoding)}`);
  }
  checkDelay('maxBuffer', maxBuffer);
}

// Every option run() takes: child_process.spawn's, the tree control
// shared with spawn(), and run()'s own.  Anything else is a typo (a
// `timout` silently ignored would leave a build without its deadline).
const RUN_KEYS = new Set([
  'cwd', 'env', 'argv0', 'stdio', 'detached', 'uid', 'gid', 'serialization',
  'shell', 'windowsVerbatimArguments', 'windowsHide',
  'timeout', 'signal', 'killSignal', 'forceKillAfterDelay', 'cleanup',
  'trace', 'template',
  'encoding', 'maxBuffer', 'reject', 'input', 'all',
]);

function checkKeys(options) {
  if (options === null || typeof options !== 'object') return;
  for (const k of Object.keys(options)) {
    if (!RUN_KEYS.has(k)) {
      throw typeError('ERR_INVALID_ARG_VALUE',
        `run(): unknown option "${k}" (docs/api.md, "run()")`);
    }
  }
}

// The command as a POSIX shell would take it back: words that need no
// quoting as they are, the others in single quotes.
function quote(word) {
  const w = String(word);
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`;
}

function commandLine(cmd, args) {
  return [cmd, ...args].map(quote).join(' ');
}

// Collect what a piped stream carries, up to maxBuffer bytes; past that,
// call onOverflow once and drop the rest (the stream keeps flowing so that
// no writer blocks on a full pipe while the tree is being stopped).  What
// is kept also goes to `both` (all: true) in the order it arrived.
function collect(stream, encoding, maxBuffer, onOverflow, both) {
  if (!stream) return () => undefined;
  const chunks = [];
  let length = 0;
  const keep = (d) => {
    chunks.push(d);
    if (both !== null) both.push(d);
  };
  stream.on('data', (d) => {
    if (length > maxBuffer) return;
    length += d.length;
    if (length <= maxBuffer) {
      keep(d);
      return;
    }
    keep(d.subarray(0, d.length - (length - maxBuffer)));
    onOverflow();
  });
  return () => decode(chunks, encoding);
}

function decode(chunks, encoding) {
  const b = Buffer.concat(chunks);
  return encoding === null || encoding === 'buffer' ? b : b.toString(encoding);
}

// The error a run() rejects with, carrying the result's fields (the first
// child's exit code as exitCode: code is the error's).
function runError(why, cmd, control, result) {
  let e;
  if (why === 'aborted') {
    e = abortError(control.signal);
  } else if (why === 'timedOut') {
    e = new Error(`${result.command} timed out after ${control.timeout} ms: ` +
      'the whole tree was stopped');
    e.code = 'ETIMEDOUT';
  } else if (why === 'failed') {
    e = new Error(result.signal !== null
      ? `${result.command} was killed by ${result.signal}`
      : `${result.command} exited with code ${result.code}`);
    e.code = 'ERR_CHILD_PROCESS_FAILED';
  } else {
    e = new RangeError(`${result.command}: ${why} maxBuffer length ` +
      'exceeded: the whole tree was stopped');
    e.code = 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
  }
  const { code, ...fields } = result;
  Object.assign(e, fields, { exitCode: code });
  return e;
}

// run()'s error for a contract that can never be seen empty: the
// contract's coded error (EOWNERDEAD, EBADMSG), with the result's fields
// as runError gives them.
function brokenError(cause, result) {
  const e = new Error(`${result.command}: ${cause.message}`);
  for (const k of ['code', 'errno', 'syscall']) e[k] = cause[k];
  const { code, ...fields } = result;
  Object.assign(e, fields, { exitCode: code });
  return e;
}

// input needs stdin to be a pipe: the default stdio ('inherit', or any
// string) gets one at index 0; an array that says otherwise is refused.
function withInput(stdio, input) {
  if (input === undefined) return stdio;
  if (typeof input !== 'string' && !Buffer.isBuffer(input) &&
      !(input instanceof Uint8Array)) {
    throw typeError('ERR_INVALID_ARG_TYPE',
      'The "input" option must be a string, Buffer or Uint8Array');
  }
  if (typeof stdio === 'string') return ['pipe', stdio, stdio];
  if (Array.isArray(stdio)) {
    const s0 = stdio[0];
    if (s0 === undefined || s0 === null || s0 === 'pipe' ||
        s0 === 'overlapped') {
      return ['pipe', ...stdio.slice(1)];
    }
  }
  throw typeError('ERR_INVALID_ARG_VALUE',
    'The "input" option needs stdin piped (stdio[0] "pipe")');
}

function runOptions(options) {
  const {
    template = {}, stdio = 'inherit', encoding = 'utf8',
    maxBuffer = 1024 * 1024, reject = true, input, all = false, ...rest
  } = options;
  if (template === null || typeof template !== 'object') {
    throw typeError('ERR_INVALID_ARG_TYPE',
      'options.template must be an object');
  }
  for (const [name, v] of [['reject', reject], ['all', all]]) {
    if (typeof v !== 'boolean') {
      throw typeError('ERR_INVALID_ARG_TYPE',
        `The "${name}" option must be of type boolean`);
    }
  }
  checkOutput(encoding, maxBuffer);
  const merged = { type: 'process', critical: { pr_empty: true },
    ...tmpl.snapshot(template) };
  return {
    spawnOptions: { ...rest, stdio: withInput(stdio, input),
      template: merged },
    output: { encoding, maxBuffer, reject, input, all },
  };
}

// Wait for the first child to exit (and its pipes to close) and for the
// whole contract to empty; settle with the result or the error.
function settle(command, started, output, t0, resolve, reject) {
  const { child, contract, control } = started;
  let why = null;
  let exit = null;
  let stopping = null;
  const stopFor = (reason) => {
    if (why !== null) return;
    why = reason;
    stopping = contract.stop({ signal: control.killSignal,
      timeout: control.forceKillAfterDelay });
    stopping.catch(() => {}); // disposed meanwhile: reported by the wait
  };
  const disarm = arm(contract, control, (reason) => {
    stopFor(reason);
    return false; // stopFor stops it
  });
  const both = output.all && (child.stdout || child.stderr) ? [] : null;
  const stdout = collect(child.stdout, output.encoding, output.maxBuffer,
    () => stopFor('stdout'), both);
  const stderr = collect(child.stderr, output.encoding, output.maxBuffer,
    () => stopFor('stderr'), both);
  if (output.input !== undefined) {
    // A program that does not read its stdin closes it: EPIPE is its
    // business, not an uncaught error here.
    child.stdin.on('error', () => {});
    child.stdin.end(output.input);
  }
  // 'exit' comes before 'close' with the same code: a tree that can never
  // be seen empty may hold the pipes open, so 'close' may never come.
  child.once('exit', (code, signal) => {
    exit = { code, signal };
  });
  const closed = new Promise((res) => {
    child.once('close', (code, signal) => {
      exit = { code, signal };
      res();
    });
    child.once('error', res);
  });
  // What is known so far; the contract is disposed (it was run()'s).
  const known = (forced) => {
    let usage;
    if (can('usage')) {
      try { usage = contract.usage(); } catch { usage = undefined; }
    }
    const code = exit ? exit.code : null;
    const result = {
      ctid: contract.ctid, pid: child.pid, exitCode: code, code,
      signal: exit ? exit.signal : null,
      timedOut: why === 'timedOut', aborted: why === 'aborted', forced,
      durationMs: performance.now() - t0, command, usage,
    };
    if (child.stdout) result.stdout = stdout();
    if (child.stderr) result.stderr = stderr();
    if (both !== null) result.all = decode(both, output.encoding);
    if (started.tracing) {
      try { result.processes = contract.trace(); } catch { /* broken */ }
    }
    try { contract.dispose(); } catch { /* the caller disposed it */ }
    return result;
  };
  const emptied = contract._wait('_emptied', () => {});
  Promise.all([closed, emptied]).then(async () => {
    disarm();
    let forced = false;
    if (stopping !== null) {
      try { forced = (await stopping).forced; } catch { /* emptied */ }
    }
    const result = known(forced);
    if (why === null && output.reject &&
        (result.code !== 0 || result.signal !== null)) {
      why = 'failed';
    }
    if (why === null) resolve(result);
    else reject(runError(why, command, control, result));
  }, (e) => {
    disarm();
    // Disposed by the caller: nothing more to know.  Else the contract
    // can never be seen empty (a killed anchor: EOWNERDEAD; a forged
    // record: EBADMSG): settle now with that code and what is known --
    // the program's exit if it was reported, the output read so far.
    if (e.code === 'ERR_CONTRACT_DISPOSED') {
      reject(e);
      return;
    }
    // A killed anchor's tree came back to us, stopped (docs/security.md,
    // "A killed anchor"): it ends with run() where the tree dies with us
    // (cleanup, noorphan), else it is let go, running.
    if (e.code === 'EOWNERDEAD') {
      try {
        if (started.noorphan) contract.sigsend('SIGKILL');
        else contract.abandon();
      } catch { /* nothing came back to us */ }
    }
    reject(brokenError(e, known(false)));
  });
}

// run(cmd, [args], [options]) -> Promise of the whole tree's end, with
// .child and .contract (null when nothing was started), and .kill(),
// .stop() and [Symbol.asyncDispose] acting on the whole tree.
function run(cmd, args, options) {
  checkKeys(Array.isArray(args) || options !== undefined ? options : args);
  let child = null;
  let contract = null;
  let control = null;
  const t0 = performance.now();
  let settled = false;
  const promise = new Promise((res, rej) => {
    const resolve = (v) => { settled = true; res(v); };
    const reject = (e) => { settled = true; rej(e); };
    [args, options] = splitArgs(args, options);
    const { spawnOptions, output } = runOptions(options);
    const started = start(cmd, args, spawnOptions);
    ({ child, contract, control } = started);
    if (contract === null) {
      child.once('error', reject);
      return;
    }
    settle(commandLine(cmd, args), started, output, t0, resolve, reject);
  });
  const live = () => contract !== null && !settled;
  promise.child = child;
  promise.contract = contract;
  // Signal every member; false when there is no tree (any more).
  promise.kill = (sig = 'SIGTERM') => {
    signalNumber(sig); // a bad signal throws, tree or not
    if (!live()) return false;
    try {
      contract.sigsend(sig);
    } catch (e) {
      if (e.code === 'ESRCH' || e.code === 'ERR_CONTRACT_DISPOSED') {
        return false;
      }
      throw e;
    }
    return true;
  };
  // Contract.stop(), with run()'s killSignal and forceKillAfterDelay as
  // the defaults; resolves {forced: false} once there is no tree.
  promise.stop = (opts = {}) => {
    if (opts === null || typeof opts !== 'object') {
      throw typeError('ERR_INVALID_ARG_TYPE',
        'The "options" argument must be of type object');
    }
    const merged = control === null ? opts : {
      signal: control.killSignal, timeout: control.forceKillAfterDelay,
      ...opts,
    };
    if (!live()) return Promise.resolve({ forced: false });
    return contract.stop(merged).catch((e) => {
      if (e.code === 'ERR_CONTRACT_DISPOSED') return { forced: false };
      throw e;
    });
  };
  if (typeof Symbol.asyncDispose === 'symbol') {
    // `await using p = run(...)`: stop the tree, wait until run() has
    // settled; its outcome is the caller's to await (not rethrown here).
    promise[Symbol.asyncDispose] = async () => {
      await promise.stop();
      await promise.then(() => {}, () => {});
    };
  }
  return promise;
}

module.exports = { spawn, run };
