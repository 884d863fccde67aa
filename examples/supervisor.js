'use strict';
// A supervisor for a daemonizing service.
//
// The service double-forks a daemon and exits at once, as classic Unix
// daemons do, so its exit says nothing about the daemon.  The contract
// still holds the daemon: the supervisor restarts the service when the
// contract empties (pr_empty: the last process of that incarnation is
// gone, however it detached), and after `restarts` restarts it stops the
// running incarnation with ct.stop() and exits.
//
//   node examples/supervisor.js [restarts=3] [lifetime=0.3]
//
// restarts: how many times to restart; lifetime: seconds each daemon
// runs before it "crashes".  The contract root comes from the library's
// usual rules (ILLUMOS_CONTRACT_ROOT first).
const contract = require('illumos_contract');

const restarts = Number(process.argv[2] ?? 3);
const lifetime = process.argv[3] ?? '0.3';

// The service: a subshell forks a session leader (setsid) that is the
// daemon, the subshell exits, and so does the service.  The daemon runs
// for $1 seconds and exits 1, as if it had crashed.
const SERVICE = '(setsid sh -c \'sleep "$0"; exit 1\' "$1" &); ' +
  'echo "service: daemon started"';

let starts = 0;
let current = null;
let stopping = false;

function log(msg) {
  console.log(`supervisor: ${msg}`);
}

function start() {
  starts++;
  const n = starts;
  const { child, contract: ct } = contract.spawn('sh',
    ['-c', SERVICE, 'service', lifetime], {
      stdio: ['ignore', 'inherit', 'inherit'],
      template: { type: 'process', critical: { pr_empty: true } },
    });
  if (ct === null) {
    child.on('error', (e) => log(`cannot start the service: ${e.message}`));
    return;
  }
  current = ct;
  let gone = false;
  log(`start ${n}: contract ${ct.ctid}, service pid ${child.pid}`);

  child.on('exit', (code) => {
    if (gone) return; // the daemon has died too (before we saw the exit)
    // The service is gone; its daemon is not, and the contract knows it.
    const left = ct.status().pr_members.length;
    log(`start ${n}: service exited ${code}; ` +
      `the contract still holds ${left} process(es)`);
    if (starts > restarts) shutdown(`after ${restarts} restarts`);
  });

  ct.on('pr_empty', (ev) => {
    ct.ack(ev.evid); // critical: acknowledge it
    if (stopping) return; // shutdown() disposes of it once stop() is done
    gone = true;
    ct.abandon();
    ct.dispose();
    current = null;
    log(`start ${n}: contract ${ev.ctid} is empty (daemon ${ev.pid} gone)`);
    if (starts <= restarts) {
      start();
    } else {
      log(`not restarting after ${restarts} restarts`);
    }
  });
}

// Stop the running incarnation, daemon included, and let the loop end.
async function shutdown(why) {
  if (stopping || current === null) return;
  stopping = true;
  const ct = current;
  log(`stopping contract ${ct.ctid} ${why}`);
  const { forced } = await ct.stop({ signal: 'SIGTERM', timeout: 2000 });
  ct.abandon();
  ct.dispose();
  current = null;
  log(`stopped (forced: ${forced}); ${starts} starts in all`);
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
}

function onSignal(sig) {
  shutdown(`on ${sig}`);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

start();
