'use strict';
// Observers of contracts that end as they are observed, and ids reused
// while a handle on the old contract is still open (found by the soak).
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');
const common = require('../fuzz/common');

const root = h.useRoot('observe');
const ct = require('../..');
const LIB = JSON.stringify(path.join(__dirname, '..', '..'));
const NAMES = ['pr_fork', 'pr_exit', 'pr_core', 'pr_signal', 'pr_empty', 'pr_lost'];
const ALL = { pr_empty: true, pr_fork: true, pr_exit: true, pr_core: true,
  pr_signal: true };

// Run `script` in a node child with `env`; resolve its RESULT {json}.
function run(script, env, ms = 20000) {
  return new Promise((resolve, reject) => {
    const p = cp.spawn(process.execPath, ['-e', script], {
      env: { ...process.env, ILLUMOS_CONTRACT_ROOT: root, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), h.ms(ms));
    p.on('close', (code, signal) => {
      clearTimeout(t);
      const r = common.parseResult(out);
      if (r === null) reject(new Error(`child: ${code} ${signal}: ${err}`));
      else resolve(r);
    });
  });
}

// A contract of ours running `script`, every event recorded, disposed
// (its members killed) when test t ends.
function ours(t, script) {
  ct.set_template({ type: 'process', informative: ALL });
  let child;
  try {
    child = cp.spawn('sh', ['-c', script], { stdio: 'ignore' });
  } finally {
    ct.clear_template();
  }
  const c = ct.latest();
  t.after(() => {
    try { c.sigsend('SIGKILL'); } catch { /* empty already */ }
    try { c.dispose(); } catch { /* disposed already */ }
  });
  const events = [];
  for (const n of NAMES) c.on(n, (ev) => events.push(ev.type));
  return { child, c, events, empty: h.once(c, 'pr_empty', 10000) };
}

// In the observer: wait for pr_empty of c, then one more turn for any
// duplicate already queued; report how many came.
const COUNT_EMPTIES = `
  const empties = (c) => new Promise((resolve) => {
    let n = 0;
    const t = setTimeout(() => resolve(n),
      10000 * (Number(process.env.ILLUMOS_CONTRACT_TEST_SLOW) || 1));
    c.on('pr_empty', () => {
      if (n++ === 0) setImmediate(() => { clearTimeout(t); resolve(n); });
    });
  });
`;

test('an observer whose contract is buried as it opens it gets one pr_empty',
  async (t) => {
    // Empty, still held by us (not yet buried): the observer's open
    // succeeds; the test hook buries it right after the observer's
    // inotify watch is set, before the observer first reads cgroup.events.
    const { c, empty } = ours(t, 'exit 0');
    await empty;
    const r = await run(`
      const ct = require(${LIB});
      ${COUNT_EMPTIES}
      const o = ct.observe(${c.ctid});
      const st = o.status().state;
      empties(o).then((n) => {
        console.log('RESULT ' + JSON.stringify({ st, n, gone:
          !require('fs').existsSync(process.env.ILLUMOS_CONTRACT_ROOT + '/${c.ctid}') }));
        o.dispose();
      });
    `, { ILLUMOS_CONTRACT_TEST_BURY_ON_OBSERVE: '1' });
    assert.strictEqual(r.gone, true, 'the hook buried the contract');
    assert.strictEqual(r.st, 'dead');
    assert.strictEqual(r.n, 1, 'pr_empty at the observer');
  });

const reaper = process.env.ILLUMOS_CONTRACT_MEMBERSHIP === 'reaper';
const CGROUP_ONLY = reaper && 'drives cgroup files (cgroup membership only)';

test('an observer hears of a contract removed before its last ' +
  'cgroup.events notification was sent', { skip: CGROUP_ONLY }, async (t) => {
    // Without the proc connector the observer knows no member, so only
    // inotify tells it the contract ended.  The kernel holds a
    // cgroup.events notification back for 10 ms after the previous one,
    // and rmdir cancels it: freeze (a notification), then observe, kill,
    // and remove within those 10 ms.  All synchronous in the observer, so
    // no notification sent before the removal is read before it.
    let hit = 0;
    for (let i = 0; i < 3; i++) {
      const { child, c, empty } = ours(t, 'exec sleep 100');
      await h.until(() => c.status().pr_members.length === 1, 5000,
        'the member to run');
      const r = await run(`
        const ct = require(${LIB});
        const fs = require('fs');
        ${COUNT_EMPTIES}
        const SLOW = Number(process.env.ILLUMOS_CONTRACT_TEST_SLOW) || 1;
        const dir = process.env.ILLUMOS_CONTRACT_ROOT + '/${c.ctid}';
        const events = () => fs.readFileSync(dir + '/cgroup.events', 'utf8');
        const spin = (re) => {
          const end = Date.now() + 5000 * SLOW;
          while (!re.test(events())) {
            if (Date.now() > end) throw new Error('timed out: ' + re);
          }
        };
        fs.writeFileSync(dir + '/cgroup.freeze', '1');
        spin(/frozen 1/);
        const t0 = process.hrtime.bigint();
        const o = ct.observe(${c.ctid});
        let pid = null;
        o.on('pr_empty', (ev) => { pid = ev.pid; });
        fs.writeFileSync(dir + '/cgroup.kill', '1');
        spin(/populated 0/);
        for (;;) {
          try { fs.rmdirSync(dir); break; } catch (e) {
            if (e.code !== 'EBUSY') throw e;
          }
        }
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        empties(o).then((n) => {
          console.log('RESULT ' + JSON.stringify({ n, ms, pid }));
          o.dispose();
        });
      `, { ILLUMOS_CONTRACT_TEST_NO_CONNECTOR: '1' });
      assert.strictEqual(r.n, 1, `pr_empty at the observer (removed after ${r.ms} ms)`);
      // No connector, the directory gone: still a pid, the first member's.
      assert.strictEqual(r.pid, child.pid);
      if (r.ms < 10) hit++;
      await empty;
    }
    t.diagnostic(`${hit} of 3 removals within the kernel's 10 ms`);
  });

// Ids are next-fit from the root's user.ct.next: set it to reuse an id.
const setNext = `import os, sys; os.setxattr(sys.argv[1], 'user.ct.next', sys.argv[2].encode())`;
const havePython = cp.spawnSync('python3', ['-c', 'import os; os.setxattr'],
  { stdio: 'ignore' }).status === 0;

test('a contract made under the id of one we still observe gets its own ' +
  'events, and the old handle only the old ones',
{ skip: CGROUP_ONLY || (!havePython && 'needs python3 to set user.ct.next') },
async () => {
    // In a jail and root of its own.
    const jail = common.makeJail('reuse');
    try {
      const w = await common.runWorker(jail, ['-e', `
        const ct = require(${LIB});
        const cp = require('child_process');
        const fs = require('fs');
        const root = process.env.ILLUMOS_CONTRACT_ROOT;
        const SLOW = Number(process.env.ILLUMOS_CONTRACT_TEST_SLOW) || 1;
        const NAMES = ${JSON.stringify(NAMES)};
        const record = (c) => {
          const evs = [];
          for (const n of NAMES) c.on(n, (ev) => evs.push(ev.type));
          return evs;
        };
        const once = (em, ev, ms = 10000) => new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('timed out: ' + ev)), ms * SLOW);
          em.once(ev, (a) => { clearTimeout(t); resolve(a); });
        });
        const subdirs = () => fs.readdirSync(root, { withFileTypes: true })
          .filter((e) => e.isDirectory()).map((e) => e.name);
        const syncUntil = (cond, what) => {
          const end = Date.now() + 15000 * SLOW;
          while (!cond()) {
            if (Date.now() > end) throw new Error('timed out waiting for ' + what);
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          }
        };
        (async () => {
          // Another process holds contract 1, and exits when it empties.
          const holder = cp.spawn(process.execPath, ['-e', \`
            const ct = require(${LIB});
            ct.set_template({ type: 'process', informative: ${JSON.stringify(ALL)} });
            require('child_process').spawn('sleep', ['100'], { stdio: 'ignore' });
            ct.clear_template();
            const c = ct.latest();
            c.on('pr_empty', () => { c.dispose(); process.exit(0); });
            const t = setInterval(() => {
              if (c.status().pr_members.length === 1) {
                clearInterval(t);
                console.log(c.ctid);
              }
            }, 2);
          \`], { stdio: ['ignore', 'pipe', 'inherit'] });
          const line = await once(holder.stdout, 'data');
          const id = Number(String(line).trim());
          const old = ct.observe(id);
          const oldEvs = record(old);
          const oldEmpty = once(old, 'pr_empty');
          // End it; wait (without letting our event loop run, so the old
          // handle has heard of nothing yet) until its holder removed it
          // and left, and its keeper too; then make its id the next one.
          fs.writeFileSync(root + '/' + id + '/cgroup.kill', '1');
          syncUntil(() => subdirs().length === 0, 'the root to empty');
          cp.execFileSync('python3', ['-c', ${JSON.stringify(setNext)}, root, String(id)]);
          // Our first contract: it gets the old one's id.
          ct.set_template({ type: 'process', informative: ${JSON.stringify(ALL)} });
          cp.spawn('sh', ['-c', 'sleep 0.05 & wait'], { stdio: 'ignore' });
          ct.clear_template();
          const c = ct.latest();
          const evs = record(c);
          await Promise.all([once(c, 'pr_empty'), oldEmpty]);
          await new Promise(setImmediate); // any duplicate already queued
          const st = c.status();
          console.log('RESULT ' + JSON.stringify({ id, newId: c.ctid, evs, oldEvs,
            state: st.state, holder: st.holder, pid: process.pid }));
          c.dispose();
          old.dispose();
        })().catch((e) => { console.log('RESULT ' + JSON.stringify({ error: e.stack })); });
      `], { timeout: h.ms(60000) });
      const r = common.parseResult(w.out);
      assert.ok(r !== null, `worker: ${w.code} ${w.signal} ${w.err}`);
      assert.strictEqual(r.error, undefined, r.error);
      assert.strictEqual(r.newId, r.id, 'the new contract reused the id');
      assert.strictEqual(r.state, 'owned');
      assert.strictEqual(r.holder, r.pid);
      const count = (evs, type) => evs.filter((e) => e === type).length;
      assert.strictEqual(count(r.evs, 'pr_fork'), 2, JSON.stringify(r.evs));
      assert.strictEqual(count(r.evs, 'pr_exit'), 2, JSON.stringify(r.evs));
      assert.strictEqual(count(r.evs, 'pr_empty'), 1, JSON.stringify(r.evs));
      assert.strictEqual(r.evs.at(-1), 'pr_empty', JSON.stringify(r.evs));
      // The old one: its member's end (or pr_lost, if its EXIT came after
      // the grace period), one pr_empty, none of the new one's forks.
      assert.strictEqual(count(r.oldEvs, 'pr_empty'), 1, JSON.stringify(r.oldEvs));
      assert.strictEqual(r.oldEvs.at(-1), 'pr_empty', JSON.stringify(r.oldEvs));
      assert.ok(r.oldEvs.every((e) => ['pr_signal', 'pr_exit', 'pr_lost',
        'pr_empty'].includes(e)), JSON.stringify(r.oldEvs));
      assert.deepStrictEqual(await common.checkAfterExit(jail, w.pid), []);
    } finally {
      common.removeJail(jail);
    }
  });
