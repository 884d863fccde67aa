'use strict';
// A workload to profile (docs/performance.md, "Where a contract's time
// goes"): N lifecycles of /bin/true, either plain (spawn -> 'exit'), in a
// contract (spawn -> 'exit' and pr_empty -> dispose), or spawn (in a
// contract, disposed at 'exit': what bench/spawn.js times), after 5
// unmeasured.
//   strace -f -c -o OUT node bench/profile/lifecycle.js plain|contract|spawn [N]
// Under cgroup membership it uses a root of its own, removed at the end.
const path = require('path');
const { useRoot } = require('../common');
useRoot('profile');
const contract = require(path.join(__dirname, '..', '..'));
const { spawn } = require('child_process');
const N = Number(process.argv[3] || 50);
const kind = process.argv[2];
async function one() {
  return new Promise((res) => {
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    if (kind === 'plain') { child.once('exit', res); return; }
    const ct = contract.latest();
    if (kind === 'spawn') {
      child.once('exit', () => { ct.dispose(); res(); });
      return;
    }
    let n = 0;
    const fin = () => { if (++n === 2) { ct.dispose(); res(); } };
    child.once('exit', fin);
    ct.once('pr_empty', fin);
  });
}
(async () => {
  if (kind !== 'plain') contract.set_template({ type: 'process', critical: { pr_empty: true } });
  for (let i = 0; i < 5; i++) await one();
  for (let i = 0; i < N; i++) await one();
  contract.clear_template();
})();
