'use strict';
// Without root (DESIGN 4, issue 11): as nobody with no delegation, a clear
// EACCES naming the ways out and no hang; inside a cgroup delegated to
// nobody, contracts work in full.
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const nb = require('./lib/nobody');

const pkg = nb.stagePackage();
after(() => fs.rmSync(pkg, { recursive: true, force: true }));

test('as nobody without a delegated cgroup: EACCES with the way out', async () => {
  const t0 = Date.now();
  const r = await nb.runAsNobody(`
    const ct = require(${JSON.stringify(pkg)});   // require never throws
    const f = ct.features;
    let err;
    try { ct.set_template({ type: 'process' }); } catch (e) { err = e; }
    console.log(JSON.stringify({ root: f.root, rootError: f.rootError,
      code: err && err.code, errno: err && err.errno, message: err && err.message }));
  `, { timeout: 20000 });
  assert.strictEqual(r.code, 0, r.err);
  const o = JSON.parse(r.out);
  assert.strictEqual(o.root, null);
  assert.strictEqual(o.code, 'EACCES');
  assert.strictEqual(o.errno, 13);
  assert.match(o.message, /systemd-run --user --scope -p Delegate=yes/);
  assert.match(o.message, /ILLUMOS_CONTRACT_ROOT/);
  assert.match(o.rootError, /Delegate=yes/);
  assert.ok(Date.now() - t0 < 15000, 'answered promptly');
});

test('as nobody in a delegated cgroup: contracts work in full', async (t) => {
  const cg = nb.delegatedCgroup('full');
  t.after(() => nb.removeCgroup(cg));
  const r = await nb.runAsNobody(`
    const ct = require(${JSON.stringify(pkg)});
    const cp = require('child_process');
    const out = { uid: process.getuid(), features: ct.features };
    function spawnIn(cmd, args, template) {
      ct.set_template({ type: 'process', ...template });
      const child = cp.spawn(cmd, args, { stdio: 'ignore' });
      ct.clear_template();
      return { child, c: ct.latest() };
    }
    (async () => {
      // A daemonized grandchild keeps the contract non-empty; events carry
      // their payloads.
      const { child, c } = spawnIn('sh', ['-c',
        '(setsid sh -c "sleep 0.3" &); exit 0'],
        { informative: { pr_fork: true, pr_exit: true } });
      const evs = [];
      for (const n of ['pr_fork', 'pr_exit']) c.on(n, (e) => evs.push(e));
      const childExit = new Promise((r) => child.on('exit', r));
      const empty = new Promise((r) => c.on('pr_empty', r));
      await childExit;
      out.membersAfterChildExit = c.status().pr_members.length;
      out.empty = await empty;
      out.events = evs;
      out.state = c.status().state;
      c.dispose();
      // sigsend kills a setsid daemon.
      const d = spawnIn('sh', ['-c', 'setsid sleep 100 & sleep 100'], {});
      while (d.c.status().pr_members.length < 2) await new Promise((r) => setTimeout(r, 5));
      const pids = d.c.status().pr_members;
      const e2 = new Promise((r) => d.c.on('pr_empty', r));
      d.c.sigsend('SIGTERM');
      await e2;
      const fs = require('fs');
      const gone = (p) => { try { const s = fs.readFileSync('/proc/' + p + '/stat', 'utf8');
        return 'ZX'.includes(s[s.lastIndexOf(')') + 2]); } catch { return true; } };
      out.daemonGone = pids.every(gone);
      d.c.dispose();
      console.log(JSON.stringify(out));
    })().catch((e) => { console.log(JSON.stringify({ error: e.stack })); });
  `, { cgroup: cg });
  assert.strictEqual(r.code, 0, r.err + r.out);
  const o = JSON.parse(r.out);
  assert.strictEqual(o.error, undefined, o.error);
  assert.notStrictEqual(o.uid, 0);
  assert.strictEqual(o.features.delegated, true);
  assert.strictEqual(o.features.root, `${cg}/contract`);
  assert.ok(o.membersAfterChildExit >= 1);
  assert.strictEqual(o.empty.type, 'pr_empty');
  const forks = o.events.filter((e) => e.type === 'pr_fork');
  const exits = o.events.filter((e) => e.type === 'pr_exit');
  assert.ok(forks.length >= 3, JSON.stringify(o.events));
  assert.ok(forks.every((e) => e.pid > 0 && e.ppid > 0));
  assert.strictEqual(exits.length, forks.length);
  assert.ok(exits.every((e) => typeof e.exitstatus === 'number'));
  assert.strictEqual(o.daemonGone, true);
});
