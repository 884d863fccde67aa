'use strict';
// spawn() and run(): child_process.spawn in a fresh contract, with
// whole-tree timeout and AbortSignal handling (README, "Extensions").
const childProcess = require('child_process');
const { binding } = require('./binding');
const { Contract, can, signalNumber, typeError } = require('./contract');
const tmpl = require('./template');

function abortError(signal) {
  const e = new Error('The operation was aborted',
    signal && signal.reason !== undefined ? { cause: signal.reason } : {});
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

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

// Stop the whole contract when the timeout fires or the signal aborts.
function arm(contract, { timeout, signal, killSignal, forceKillAfterDelay },
  onStop) {
  let timer = null;
  const stop = (why) => {
    try {
      onStop(why);
      contract.stop({ signal: killSignal, timeout: forceKillAfterDelay })
        .catch(() => {}); // disposed meanwhile: nothing left to stop
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

function start(cmd, args, options) {
  const {
    template: given = { type: 'process' }, signal, timeout,
    killSignal = 'SIGTERM', forceKillAfterDelay = 5000, ...spawnOptions
  } = options;
  const template = tmpl.snapshot(given); // checked as it will be used
  checkTemplate(template);
  checkSignal(killSignal);
  checkDelay('timeout', timeout);
  checkDelay('forceKillAfterDelay', forceKillAfterDelay);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw typeError('ERR_INVALID_ARG_TYPE',
      'The "signal" option must be an AbortSignal');
  }
  if (signal && signal.aborted) throw abortError(signal);
  let child;
  let contract = null;
  tmpl.withTemplate(template, () => {
    child = childProcess.spawn(cmd, args, spawnOptions);
    if (child.pid !== undefined) contract = new Contract();
  });
  return {
    child, contract,
    control: { timeout, signal, killSignal, forceKillAfterDelay },
  };
}

// spawn(cmd, [args], [options]) -> {child, contract}
function spawn(cmd, args, options) {
  [args, options] = splitArgs(args, options);
  const { child, contract, control } = start(cmd, args, options);
  if (contract !== null &&
      (control.timeout !== undefined || control.signal !== undefined)) {
    const disarm = arm(contract, control, () => {});
    // Disposed before it emptied: the wait rejects; disarm all the same.
    contract._wait('_emptied', () => {}).then(disarm, disarm);
  }
  return { child, contract };
}

// run(cmd, [args], [options]) -> Promise of the whole tree's end.
function run(cmd, args, options) {
  return new Promise((resolve, reject) => {
    [args, options] = splitArgs(args, options);
    const { template = {}, stdio = 'inherit', ...rest } = options;
    if (template === null || typeof template !== 'object') {
      throw typeError('ERR_INVALID_ARG_TYPE',
        'options.template must be an object');
    }
    const merged = { type: 'process', critical: { pr_empty: true },
      ...template };
    const { child, contract, control } =
      start(cmd, args, { ...rest, stdio, template: merged });
    if (contract === null) {
      child.once('error', reject);
      return;
    }
    let timedOut = false;
    let aborted = false;
    let exit = null;
    let stopping = null;
    const disarm = arm(contract, control, (why) => {
      if (why === 'timedOut') timedOut = true;
      else aborted = true;
      stopping = contract.stop({ signal: control.killSignal,
        timeout: control.forceKillAfterDelay });
    });
    child.once('exit', (code, signal) => { exit = { code, signal }; });
    const exited = new Promise((res) => {
      if (exit !== null) res();
      else child.once('exit', res);
      child.once('error', res);
    });
    const emptied = contract._wait('_emptied', () => {});
    Promise.all([exited, emptied]).then(async () => {
      disarm();
      const forced = stopping !== null ? (await stopping).forced : false;
      let usage;
      if (can('usage')) {
        try { usage = contract.usage(); } catch { usage = undefined; }
      }
      const result = {
        ctid: contract.ctid, pid: child.pid,
        code: exit ? exit.code : null, signal: exit ? exit.signal : null,
        timedOut, aborted, forced, usage,
      };
      contract.dispose();
      resolve(result);
    }, reject);
  });
}

module.exports = { spawn, run };
