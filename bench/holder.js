'use strict';
// holder_death_ms: a holder of a noorphan contract (a setsid daemon and a
// child in it) SIGKILLed: the time until every member is gone, over
// TRIALS trials; median and max.  Under either membership (run.js runs it
// under cgroup membership and under ILLUMOS_CONTRACT_MEMBERSHIP=reaper):
// the holder's keeper sees it die and kills the contract's members.
//
// The members are watched from /proc (a zombie counts as gone: it is
// dead, its parent has yet to reap it), polled in setImmediate turns.
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const { useRoot, nowNs, round, log, done, once, median, quantile } =
  require('./common');

useRoot('holder');

const TRIALS = Number(process.env.ICT_BENCH_HOLDER_TRIALS) || 100;

function alive(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const s = st.slice(st.lastIndexOf(')') + 2)[0];
    return s !== 'Z' && s !== 'X';
  } catch {
    return false;
  }
}

const HOLDER = `
  const ct = require(${JSON.stringify(path.join(__dirname, '..'))});
  const { contract } = ct.spawn('sh', ['-c', '(setsid sleep 100 &); sleep 100'],
    { stdio: 'ignore', template: { type: 'process', param: { noorphan: true } } });
  const poll = () => { const m = contract.status().pr_members;
    if (m.length >= 2) console.log(JSON.stringify(m)); else setTimeout(poll, 2); };
  poll();`;

async function holderDeath() {
  const times = [];
  for (let i = 0; i < TRIALS; i++) {
    const h = cp.spawn(process.execPath, ['-e', HOLDER],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await once(h.stdout, 'data', 20000);
    const tree = JSON.parse(line);
    const exited = once(h, 'exit', 10000);
    const t0 = nowNs();
    h.kill('SIGKILL');
    while (tree.some(alive)) {
      if (Number(nowNs() - t0) > 10e9) throw new Error('members survived');
      await new Promise((r) => setImmediate(r));
    }
    times.push(Number(nowNs() - t0) / 1e6);
    await exited;
  }
  return { median: round(median(times), 1), p90: round(quantile(times, 0.9),
    1), max: round(Math.max(...times), 1), trials: TRIALS };
}

(async () => {
  const membership = require('..').features.membership;
  const hd = await holderDeath();
  log(`holder (${membership}): ${hd.trials} trials: median ${hd.median} ` +
    `ms, max ${hd.max} ms`);
  done({ membership, holder_death_ms: hd });
})().catch((e) => { log(e.stack); process.exit(1); });
