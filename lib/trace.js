'use strict';
// Traces (docs/trace.md): `trace: true` in spawn()/run() options arms the
// binding around the spawn, so that the contract made for it records
// every process that is ever a member; ct.trace() and run()'s
// `processes` shape those records as DESIGN's "Trace" says.
const os = require('os');
const { binding } = require('./binding');
const { typeError } = require('./errors');

// The record's `missed` bits (src/ct.h, CT_PM_*).
const MISSED = [[1, 'argv'], [2, 'cpu'], [4, 'exit'], [8, 'fork']];

const signalNames = new Map(Object.entries(os.constants.signals)
  .map(([name, n]) => [n, name]));

function checkTrace(trace) {
  if (trace !== undefined && typeof trace !== 'boolean') {
    throw typeError('ERR_INVALID_ARG_TYPE',
      'The "trace" option must be of type boolean');
  }
  return trace === true;
}

// Run fn with this thread's next contract traced (throws ENOTSUP where
// the backend cannot trace: no per-process events).
function withTrace(on, fn) {
  if (!on) return fn();
  binding.traceArm(true);
  try {
    return fn();
  } finally {
    binding.traceArm(false);
  }
}

function shape(p) {
  const ended = p.endUs !== 0;
  const status = p.status;
  // The raw wait status: low 7 bits the signal, else the exit code.
  const sig = status & 0x7f;
  const exited = p.exited;
  const missed = MISSED.filter(([bit]) => (p.missed & bit) !== 0)
    .map(([, name]) => name);
  const cpu = exited && !missed.includes('cpu');
  const rec = {
    pid: p.pid,
    ppid: p.ppid,
    argv: p.argv,
    startTime: p.startUs / 1000,
    endTime: ended ? p.endUs / 1000 : null,
    exitCode: exited && sig === 0 ? (status >> 8) & 0xff : null,
    signal: exited && sig !== 0 ? (signalNames.get(sig) || sig) : null,
    userCPUTime: cpu ? p.userUs : null,
    systemCPUTime: cpu ? p.systemUs : null,
    execTimes: p.execUs.map((us) => us / 1000),
  };
  if (exited && sig !== 0 && (status & 0x80) !== 0) rec.coreDumped = true;
  if (missed.length > 0) rec.missed = missed;
  return rec;
}

// The records of a traced contract's handle, and how many times the
// kernel dropped messages while it was traced.
function read(handle) {
  const t = binding.trace(handle);
  const records = t.procs.map(shape);
  return { records, lost: t.lost };
}

module.exports = { checkTrace, withTrace, read };
