'use strict';
// The executor pattern of Manta Marlin, the production user of
// illumos_contract 1.0: run each task in its own contract, made from one
// template that stays active for the executor's whole life.
//
//   node examples/executor.js [--timeout ms] [task ...]
//
// Each task is a shell command, run one after the other (a few demo tasks
// when none are given).  A task still running after --timeout ms
// (default 5000) is cancelled: its whole contract is killed.
//
// The template (set once, as Marlin's lackey does):
//   critical {pr_empty, pr_hwerr, pr_core}  we learn when the task's whole
//                                            tree is gone, or crashed
//   fatal {pr_hwerr, pr_core}               a process of the task that dumps
//                                            core kills the whole task
//   param {noorphan: true}                  if the executor dies, so do the
//                                            tasks (nothing is orphaned)
// Per task (Marlin's executor.js): spawn, then latest(); listen for
// pr_empty/pr_core/pr_hwerr.  When the task's first process exits and the
// contract has reported nothing yet, whatever the task left behind is
// killed with sigsend(9), ESRCH (errno 3: the contract emptied meanwhile)
// being benign.  Once both the exit and pr_empty are in (the whole tree is
// gone): abandon(), dispose(), removeAllListeners().
const childProcess = require('child_process');
const contract = require('illumos_contract');

let timeout = 5000;
const argv = process.argv.slice(2);
if (argv[0] === '--timeout') {
  argv.shift();
  timeout = Number(argv.shift());
}
const tasks = argv.length > 0 ? argv : [
  'echo hello from a task',
  'sleep 30 & (setsid sleep 30 &); echo "left two sleeps behind"; exit 3',
  '(setsid sleep 30 &); sleep 0.1; kill -ABRT $$',
  'sleep 30',
];

contract.set_template({
  type: 'process',
  critical: { pr_empty: true, pr_hwerr: true, pr_core: true },
  fatal: { pr_hwerr: true, pr_core: true },
  param: { noorphan: true },
});

// Kill the whole contract; ESRCH (errno 3) only means it is already empty.
function cancel(ct) {
  try {
    ct.sigsend(9);
    return true;
  } catch (e) {
    if (e.errno !== 3) throw e;
    return false;
  }
}

function execute(n, cmd) {
  return new Promise((resolve) => {
    const child = childProcess.spawn('sh', ['-c', cmd],
      { stdio: ['ignore', 'inherit', 'inherit'] });
    if (child.pid === undefined) {
      // Not started: no contract was made, and latest() would return the
      // previous task's.
      child.on('error', (e) => resolve(`task ${n}: not started: ${e.message}`));
      return;
    }
    const ct = contract.latest();
    const r = { code: null, signal: null, core: false, hwerr: false,
      leftovers: false, cancelled: false };
    let exited = false;
    let reported = false; // any contract event yet?
    let empty = false; // the barrier: exit and pr_empty

    const finish = () => {
      if (!exited || !empty) return;
      clearTimeout(timer);
      ct.abandon();
      ct.dispose();
      ct.removeAllListeners();
      resolve(`task ${n}: ${describe(r)} (contract ${ct.ctid})`);
    };
    const onEvent = (ev) => {
      if (ev.type === 'pr_core') r.core = true;
      if (ev.type === 'pr_hwerr') r.hwerr = true;
      if (ev.type === 'pr_empty') empty = true;
      reported = true;
      finish();
    };
    ct.on('pr_empty', onEvent);
    ct.on('pr_core', onEvent);
    ct.on('pr_hwerr', onEvent);

    child.on('exit', (code, signal) => {
      r.code = code;
      r.signal = signal;
      exited = true;
      if (!reported && cancel(ct) && !r.cancelled) r.leftovers = true;
      finish();
    });

    const timer = setTimeout(() => {
      r.cancelled = true;
      cancel(ct);
    }, timeout);
  });
}

function describe(r) {
  const words = [];
  if (r.cancelled) words.push(`cancelled after ${timeout} ms,`);
  words.push(r.code !== null ? `exit ${r.code}` : `killed by ${r.signal}`);
  if (r.core) words.push('(dumped core: the whole contract was killed)');
  if (r.hwerr) words.push('(hardware error)');
  if (r.leftovers) words.push('(left processes behind: killed)');
  return words.join(' ');
}

(async () => {
  console.log(`executor: ${tasks.length} task(s), timeout ${timeout} ms`);
  for (let i = 0; i < tasks.length; i++) {
    console.log(await execute(i + 1, tasks[i]));
  }
  // A real executor keeps its template for life; at shutdown clearing it
  // lets the library drop the contract it keeps ready for the next spawn.
  contract.clear_template();
  console.log('executor: done');
})();
