'use strict';
// ct.members(), ct.whenEmpty(), dispose() twice and a listener after
// dispose, under the membership the environment forces (both in CI: the
// reaper half runs this file again with ILLUMOS_CONTRACT_MEMBERSHIP).
// The anchor of reaper membership is never a member's ppid: the program's
// parent is the process that spawned it, as its pr_fork and trace() say.
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const ct = require('../..');
const h = require('../lib/helpers');

const child = process.env.I24_MEMBERS_CHILD === '1';

async function body() {
  // The member says "ready" from its own code, so it has exec'd by then
  // (a shell's `sleep 30 & echo ready` can print before its fork has
  // exec'd sleep: that member is still "sh").
  const code = "setInterval(() => {}, 1e9); console.log('ready')";
  const t0 = Date.now();
  const { child: ch, contract } = ct.spawn('sh',
    ['-c', '"$0" -e "$1" & wait', process.execPath, code],
    { stdio: ['ignore', 'pipe', 'ignore'] });
  const t1 = Date.now();
  await new Promise((r) => ch.stdout.once('data', r));
  const ms = contract.members();
  const sleeper = ms.find((m) => m.argv[1] === '-e');
  assert.ok(sleeper, JSON.stringify(ms));
  assert.deepStrictEqual(sleeper.argv, [process.execPath, '-e', code]);
  // The kernel's name of the process, as /proc says: Node 20 and 22 keep
  // the file's name, 24 renames its main thread (so the process)
  // "MainThread", 26 "node-MainThread".
  assert.strictEqual(sleeper.comm, require('node:fs').readFileSync(
    `/proc/${sleeper.pid}/comm`, 'utf8').replace(/\n$/, ''));
  assert.ok(sleeper.comm.length > 0 && sleeper.comm.length <= 15);
  assert.strictEqual(typeof sleeper.state, 'string');
  assert.strictEqual(sleeper.state.length, 1);
  assert.ok(ms.every((m) => m.pid !== process.pid));
  // Who started whom: sh is our child (not the anchor's), node is sh's.
  const sh = ms.find((m) => m.pid === ch.pid);
  assert.ok(sh, JSON.stringify(ms));
  assert.strictEqual(sh.ppid, process.pid, JSON.stringify(ms));
  assert.strictEqual(sleeper.ppid, ch.pid, JSON.stringify(ms));
  // startTime to the clock tick, not to the second of /proc/stat's btime:
  // sh was forked during the call (spawn() forks before it returns; how
  // long that takes is the machine's, so the bounds are the call's own),
  // node after sh and before 'ready'.  The slack is the clock tick, not a
  // deadline.
  const tick = 20;
  assert.ok(sh.startTime >= t0 - tick && sh.startTime <= t1 + tick,
    `sh started ${sh.startTime - t0} ms after spawn() was called, ` +
    `which returned after ${t1 - t0} ms`);
  assert.ok(sleeper.startTime >= sh.startTime - tick &&
    sleeper.startTime <= Date.now() + tick,
    `node started ${sleeper.startTime - t0} ms after spawn() was called`);
  const byPid = (list) => list.map((m) => [m.pid, m.ppid, m.startTime])
    .sort((a, b) => a[0] - b[0]);
  const obs = ct.observe(contract.ctid);
  assert.deepStrictEqual(byPid(obs.members()), byPid(ms));
  obs.dispose();
  // An observer in another process sees the same tree.
  const other = spawnSync(process.execPath, ['-e', `
    const o = require(${JSON.stringify(path.join(__dirname, '..', '..'))})
      .observe(${contract.ctid});
    process.stdout.write(JSON.stringify(o.members()));
    o.dispose();`], { encoding: 'utf8', timeout: h.ms(30000) });
  assert.strictEqual(other.status, 0, other.stderr);
  assert.deepStrictEqual(byPid(JSON.parse(other.stdout)), byPid(ms));
  await assert.rejects(contract.whenEmpty({ timeout: 20 }),
    { code: 'ETIMEDOUT' });
  const ac = new AbortController();
  const p = contract.whenEmpty({ signal: ac.signal });
  ac.abort(new Error('why'));
  await assert.rejects(p, (e) => e.name === 'AbortError' &&
    e.code === 'ABORT_ERR' && e.cause.message === 'why');
  const done = contract.whenEmpty();
  contract.sigsend('SIGKILL');
  assert.deepStrictEqual(await done, { ctid: contract.ctid });
  assert.deepStrictEqual(await contract.whenEmpty(), { ctid: contract.ctid });
  contract.dispose();
  contract.dispose(); // again: nothing
  assert.throws(() => contract.on('pr_exit', () => {}),
    { code: 'ERR_CONTRACT_DISPOSED' });
}

if (child) {
  body().catch((e) => { console.error(e); process.exit(1); });
} else {
  // Each membership gets a root of its own, removed afterwards (never the
  // machine's default one, which other runs may share).
  const fs = require('node:fs');
  const os = require('node:os');
  const roots = {
    cgroup: h.cgroupRoot('members'),
    reaper: fs.mkdtempSync(path.join(os.tmpdir(), 'ict-members-')),
  };
  test.after(() => h.reapRoot(roots.reaper));
  for (const m of ['cgroup', 'reaper']) {
    test(`members/whenEmpty/dispose under ${m} membership`, () => {
      const r = spawnSync(process.execPath, [__filename], {
        env: { ...process.env, I24_MEMBERS_CHILD: '1',
          ILLUMOS_CONTRACT_MEMBERSHIP: m, ILLUMOS_CONTRACT_ROOT: roots[m] },
        encoding: 'utf8', timeout: h.ms(60000) });
      assert.strictEqual(r.status, 0, r.stderr);
    });
  }
}
