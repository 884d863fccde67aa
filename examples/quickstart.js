const contract = require('illumos_contract');
const { spawn } = require('child_process');

// Every child spawned while this is active lands in a new contract.
contract.set_template({
  type: 'process',
  critical: { pr_empty: true },
  informative: { pr_fork: true, pr_exit: true },
  cookie: '0xdeadbeef',
});
const child = spawn('sh', ['-c', '(setsid sleep 0.5 &); echo started'],
  { stdio: 'inherit' });
contract.clear_template();

const ct = contract.latest(); // the contract the spawn just created
ct.on('pr_fork', (ev) => console.log(`pid ${ev.pid} forked by ${ev.ppid}`));
ct.on('pr_exit', (ev) => console.log(`pid ${ev.pid} exited (${ev.exitstatus})`));
child.on('exit', (code) => console.log(
  `sh exited ${code}; still running: ${ct.status().pr_members.length}`));
ct.on('pr_empty', (ev) => {
  console.log(`contract ${ev.ctid} is empty: the daemon is gone too`);
  ct.ack(ev.evid); // critical events stay counted until acknowledged
  ct.abandon();
  ct.dispose();
});
