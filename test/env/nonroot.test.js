'use strict';
// Without root (docs/linux.md, "Without root"): as nobody with no delegation and
// cgroup membership forced, a clear EACCES naming the ways out and no hang
// (unforced, reaper membership takes over: test/env/container.test.js); inside
// a cgroup delegated to nobody, contracts work in full.
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const nb = require('../lib/nobody');
// Deadlines scale as helpers.js ms() does (test:asan sets the factor).
const SLOW = Math.max(1, Number(process.env.ILLUMOS_CONTRACT_TEST_SLOW) || 1);

const pkg = nb.stagePackage();
after(() => fs.rmSync(pkg, { recursive: true, force: true }));

test('as nobody without a delegated cgroup, cgroup membership forced: ' +
  'EACCES with the way out', async () => {
  const t0 = Date.now();
  const r = await nb.runAsNobody(`
    const ct = require(${JSON.stringify(pkg)});   // require never throws
    const f = ct.features;
    let err;
    try { ct.set_template({ type: 'process' }); } catch (e) { err = e; }
    console.log(JSON.stringify({ root: f.root, rootError: f.rootError,
      code: err && err.code, errno: err && err.errno, message: err && err.message }));
  `, { timeout: 20000, env: { ILLUMOS_CONTRACT_MEMBERSHIP: 'cgroup' } });
  assert.strictEqual(r.code, 0, r.err);
  const o = JSON.parse(r.out);
  assert.strictEqual(o.root, null);
  assert.strictEqual(o.code, 'EACCES');
  assert.strictEqual(o.errno, 13);
  assert.match(o.message, /systemd-run --user --scope -p Delegate=yes/);
  assert.match(o.message, /ILLUMOS_CONTRACT_ROOT/);
  assert.match(o.rootError, /Delegate=yes/);
  assert.ok(Date.now() - t0 < 15000 * SLOW, 'answered promptly');
});

for (const mode of ['atfork', 'shim']) {
test(`as nobody in a delegated cgroup (${mode}): contracts work in full`, async (t) => {
  const cg = nb.delegatedCgroup(`full-${mode}`);
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
      // A fatal core kills the rest, setsid daemon included; critical
      // events count until acked.  That needs the proc connector, which
      // some kernels open to CAP_NET_ADMIN only: then the template is
      // refused, never accepted and left unapplied.
      const fatal = { fatal: { pr_core: true },
        critical: { pr_empty: true, pr_core: true } };
      if (!ct.features.events.pr_core) {
        try { ct.set_template({ type: 'process', ...fatal });
          out.fatalRefused = 'accepted'; } catch (e) { out.fatalRefused = e.code; }
        ct.clear_template();
      } else {
      const f = spawnIn('sh', ['-c', 'ulimit -c 0; (setsid sleep 100 &); sleep 0.2; kill -SEGV $$'],
        fatal);
      const cores = [];
      f.c.on('pr_core', (e) => cores.push(e));
      while (f.c.status().pr_members.length < 2) await new Promise((r) => setTimeout(r, 5));
      const fpids = f.c.status().pr_members;
      const fe = await new Promise((r) => f.c.on('pr_empty', r));
      out.fatalGone = fpids.every(gone);
      out.cores = cores.map((e) => e.signal);
      out.nevents = f.c.status().nevents;
      for (const e of [...cores, fe]) f.c.ack(e.evid);
      out.neventsAcked = f.c.status().nevents;
      f.c.dispose();
      }
      // stop, freeze, usage.
      const s = spawnIn('sh', ['-c', 'trap "" TERM; (setsid sleep 100 &); sleep 100'], {});
      while (s.c.status().pr_members.length < 2) await new Promise((r) => setTimeout(r, 5));
      await s.c.freeze();
      out.frozen = s.c.status().frozen;
      out.stop = await s.c.stop({ timeout: 200 });
      out.usage = typeof s.c.usage().userCPUTime;
      s.c.dispose();
      // Holder death: a noorphan contract of a second process dies with it.
      const h2 = cp.spawn(process.execPath, ['-e', \`
        const ct = require(\${JSON.stringify(${JSON.stringify(pkg)})});
        ct.set_template({ type: 'process', param: { noorphan: true } });
        require('child_process').spawn('sh', ['-c', '(setsid sleep 100 &); sleep 100'], { stdio: 'ignore' });
        ct.clear_template();
        const c = ct.latest();
        const t = setInterval(() => { const m = c.status().pr_members;
          if (m.length >= 3) { clearInterval(t); console.log(JSON.stringify(m)); } }, 2);
      \`], { stdio: ['ignore', 'pipe', 'inherit'] });
      const hm = JSON.parse(await new Promise((r) => h2.stdout.once('data', r)));
      h2.kill('SIGKILL');
      const t0 = Date.now();
      const slow = Number(process.env.ILLUMOS_CONTRACT_TEST_SLOW) || 1;
      while (!hm.every(gone) && Date.now() - t0 < 3000 * slow) await new Promise((r) => setTimeout(r, 5));
      out.holderDeathGone = hm.every(gone);
      console.log(JSON.stringify(out));
    })().catch((e) => { console.log(JSON.stringify({ error: e.stack })); });
  `, { cgroup: cg, env: { ILLUMOS_CONTRACT_SPAWN: mode } });
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
  if (o.features.events.pr_fork) {
    assert.ok(forks.length >= 3, JSON.stringify(o.events));
    assert.ok(forks.every((e) => e.pid > 0 && e.ppid > 0));
    assert.strictEqual(exits.length, forks.length);
    assert.ok(exits.every((e) => typeof e.exitstatus === 'number'));
    assert.strictEqual(o.fatalGone, true, r.out);
    assert.deepStrictEqual(o.cores, [11]);
    assert.strictEqual(o.nevents, 2);
    assert.strictEqual(o.neventsAcked, 0);
  } else {
    // This kernel keeps the connector from nobody: features say so, only
    // the fork the spawn itself made is told (no member event is made
    // up), a fatal core set is refused.
    assert.deepStrictEqual(Object.keys(o.features.events)
      .filter((k) => o.features.events[k]), ['pr_empty']);
    assert.strictEqual(forks.length, 1, JSON.stringify(o.events));
    assert.strictEqual(exits.length, 0, JSON.stringify(o.events));
    assert.strictEqual(o.fatalRefused, 'ENOTSUP');
  }
  assert.strictEqual(o.daemonGone, true, r.out);
  assert.strictEqual(o.features.spawn, mode);
  assert.strictEqual(o.frozen, true);
  assert.deepStrictEqual(o.stop, { forced: true });
  assert.strictEqual(o.usage, 'number');
  assert.strictEqual(o.holderDeathGone, true, r.out);
});
}

test('without the proc connector: features say so, pr_empty and sigsend work',
  async (t) => {
    const cg = nb.delegatedCgroup('nocn');
    t.after(() => nb.removeCgroup(cg));
    const r = await nb.runAsNobody(`
      const ct = require(${JSON.stringify(pkg)});
      const cp = require('child_process');
      const out = { events: ct.features.events };
      try {
        ct.set_template({ type: 'process', critical: { pr_fork: true } });
      } catch (e) { out.err = { code: e.code, message: e.message }; }
      ct.set_template({ type: 'process' });
      cp.spawn('sh', ['-c', '(setsid sleep 100 &); sleep 100'], { stdio: 'ignore' });
      ct.clear_template();
      const c = ct.latest();
      (async () => {
        while (c.status().pr_members.length < 2) await new Promise((r) => setTimeout(r, 5));
        const e = new Promise((r) => c.on('pr_empty', r));
        c.sigsend('SIGKILL');
        out.empty = (await e).type;
        c.dispose();
        console.log(JSON.stringify(out));
      })();
    `, { cgroup: cg, env: { ILLUMOS_CONTRACT_TEST_NO_CONNECTOR: '1' } });
    assert.strictEqual(r.code, 0, r.err);
    const o = JSON.parse(r.out);
    assert.strictEqual(o.events.pr_empty, true);
    assert.strictEqual(o.events.pr_fork, false);
    assert.strictEqual(o.events.pr_exit, false);
    assert.strictEqual(o.err.code, 'ENOTSUP');
    assert.match(o.err.message, /proc connector/);
    assert.strictEqual(o.empty, 'pr_empty');
  });

test('nobody cannot adopt, signal or alter root\'s contracts, nor read a closed root',
  async (t) => {
    const h = require('../lib/helpers');
    const root = h.useRoot('nr');
    const ct = require('../..');
    ct.set_template({ type: 'process' });
    const child = require('child_process').spawn('sleep', ['100'], { stdio: 'ignore' });
    ct.clear_template();
    const c = ct.latest();
    c.abandon(); // an orphan: adoptable, but not by another uid
    t.after(() => { try { process.kill(child.pid, 'SIGKILL'); } catch {} c.dispose(); });
    const r = await nb.runAsNobody(`
      const ct = require(${JSON.stringify(pkg)});
      const fs = require('fs');
      const out = {};
      const code = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
      out.adopt = code(() => ct.adopt(${c.ctid}));
      const o = ct.observe(${c.ctid});
      out.observeState = o.status().state;
      out.sigsend = code(() => o.sigsend('SIGKILL'));
      out.xattr = code(() => require('child_process').execFileSync('sh', ['-c',
        'exec 2>/dev/null; printf x > ${root}/${c.ctid}/cgroup.procs'], { stdio: 'ignore' }));
      o.dispose();
      console.log(JSON.stringify(out));
    `, { env: { ILLUMOS_CONTRACT_ROOT: root } });
    assert.strictEqual(r.code, 0, r.err);
    const o = JSON.parse(r.out);
    assert.strictEqual(o.adopt, 'EPERM');
    assert.strictEqual(o.observeState, 'orphan');
    assert.strictEqual(o.sigsend, 'EPERM');
    assert.notStrictEqual(o.xattr, 'ok');
    assert.ok(h.alive(child.pid), 'the member survived');
    // A root nobody cannot read cannot be observed.
    fs.chmodSync(root, 0o700);
    const r2 = await nb.runAsNobody(`
      const ct = require(${JSON.stringify(pkg)});
      try { ct.observe(${c.ctid}); console.log('observed'); }
      catch (e) { console.log(e.code); }
    `, { env: { ILLUMOS_CONTRACT_ROOT: root } });
    fs.chmodSync(root, 0o755);
    assert.match(r2.out.trim(), /^E(ACCES|PERM|SRCH)$/);
  });
