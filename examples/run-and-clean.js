'use strict';
// Run a command and kill everything it left behind, as a test runner
// should: background jobs, setsid daemons, processes reparented to init,
// processes that ignore SIGTERM.  The command and all its descendants
// share one contract, so nothing escapes.
//
//   node examples/run-and-clean.js [--grace ms] [--wait ms] -- cmd [args...]
//
// Default: when the command exits, stop its contract: SIGTERM to whatever
// is left, SIGKILL after --grace ms (default 1000)  [spawn() + stop()].
// --wait ms: let the leftovers finish, but wait at most that long for the
// whole tree, then stop it the same way  [run() with a timeout, which
// rejects with ETIMEDOUT once the tree is stopped].
// Exits with the command's exit status (128 + signal number if killed).
const os = require('os');
const { spawn, run } = require('illumos_contract');

function usage() {
  console.error('usage: run-and-clean.js [--grace ms] [--wait ms] -- cmd [args...]');
  process.exit(2);
}

let grace = 1000;
let wait = null;
const argv = process.argv.slice(2);
while (argv.length > 0 && argv[0] !== '--') {
  const opt = argv.shift();
  const val = Number(argv.shift());
  if (!(val >= 0)) usage();
  if (opt === '--grace') grace = val;
  else if (opt === '--wait') wait = val;
  else usage();
}
argv.shift(); // '--'
if (argv.length === 0) usage();
const [cmd, ...args] = argv;

function log(msg) {
  console.log(`run-and-clean: ${msg}`);
}

function status(code, signal) {
  return code !== null ? code : 128 + (os.constants.signals[signal] || 0);
}

function cpu(u) {
  return u ? `, ${((u.userCPUTime + u.systemCPUTime) / 1000).toFixed(1)} ms CPU` +
    ' in all' : '';
}

async function cleanAtExit() {
  const { child, contract: ct } = spawn(cmd, args, { stdio: 'inherit' });
  if (ct === null) {
    // Could not start (ENOENT...): no contract was made.
    child.on('error', (e) => {
      log(`cannot run ${cmd}: ${e.message}`);
      process.exitCode = 127;
    });
    return;
  }
  const [code, signal] = await new Promise((resolve) => {
    child.on('exit', (c, s) => resolve([c, s]));
  });
  const left = ct.status().pr_members;
  log(`${cmd} exited ${code !== null ? code : signal}; left behind: ` +
    `${left.length} process(es)${left.length ? ` (${left.join(' ')})` : ''}`);
  const { forced } = await ct.stop({ signal: 'SIGTERM', timeout: grace });
  let u;
  try { u = ct.usage(); } catch { /* illumos: ENOTSUP */ }
  ct.abandon();
  ct.dispose();
  log(`clean (SIGKILL needed: ${forced})${cpu(u)}`);
  process.exitCode = status(code, signal);
}

async function waitThenClean() {
  let r;
  let stopped = false;
  try {
    r = await run(cmd, args, { timeout: wait, forceKillAfterDelay: grace,
      reject: false });
  } catch (e) {
    if (e.code !== 'ETIMEDOUT') {
      log(`cannot run ${cmd}: ${e.message}`);
      process.exitCode = 127;
      return;
    }
    // Stopped: the error carries the result (exit code as exitCode).
    r = { ...e, code: e.exitCode };
    stopped = true;
  }
  log(`${cmd} exited ${r.code !== null ? r.code : r.signal}; ` +
    (stopped ? `the tree was still running after ${wait} ms: stopped ` +
      `(SIGKILL needed: ${r.forced})` : 'the whole tree finished by itself') +
    cpu(r.usage));
  process.exitCode = status(r.code, r.signal);
}

(wait === null ? cleanAtExit() : waitThenClean()).catch((e) => {
  log(`error: ${e.message}`);
  process.exitCode = 1;
});
