'use strict';
// Reaper membership where no cgroup can be written (docs/linux.md, "Membership:
// cgroup or reaper"): a container simulated with unshare -m -n (and once with
// -p -f --mount-proc, node as PID 1), the cgroup2 mount remounted
// read-only inside it, as root and as nobody; and nobody on the host
// without delegation, where the proc connector still opens.
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const nb = require('../lib/nobody');
const h = require('../lib/helpers');

const pkg = nb.stagePackage();
const regs = [];
after(() => {
  for (const r of regs) {
    h.reapRoot(path.join(r, 'illumos-contract'));
    fs.rmSync(r, { recursive: true, force: true });
  }
  fs.rmSync(pkg, { recursive: true, force: true });
});

// A registry the runner may own (0700), removed after the file.
function registry(nobody) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-reg-'));
  if (nobody) {
    const { uid, gid } = nb.nobodyIds();
    fs.chownSync(dir, uid, gid);
  }
  regs.push(dir);
  return dir;
}

// What the script inside does: every check prints one field of `out`.
const script = (lib) => `
const ct = require(${JSON.stringify(lib)});
const cp = require('child_process');
const fs = require('fs');
const out = { uid: process.getuid(), pid: process.pid,
  membership: ct.features.membership, events: ct.features.events,
  freeze: ct.features.freeze };
const alive = (p) => { try { process.kill(p, 0); return true; } catch { return false; } };
const SLOW = Number(process.env.ILLUMOS_CONTRACT_TEST_SLOW) || 1;
const until = async (f) => { while (!f()) await new Promise((r) => setTimeout(r, 5)); };
(async () => {
  // A setsid daemon keeps run() waiting: it resolves after the daemon.
  const mark = process.env.XDG_RUNTIME_DIR + '/mark';
  const r = await ct.run('sh', ['-c',
    '(setsid sh -c "sleep 0.3; echo done > ' + mark + '" &); exit 5'],
    { stdio: 'ignore', reject: false });
  out.run = { code: r.code, daemonDone: fs.existsSync(mark) };

  // stop() of a TERM-ignoring tree escalates; no survivor.
  const { contract } = ct.spawn('sh', ['-c', 'trap "" TERM; ' +
    '(setsid sh -c "trap \\\\"\\\\" TERM; sleep 100" &); sleep 100'],
    { stdio: 'ignore' });
  // One read: a transient subshell may leave between two.
  let pids = [];
  await until(() => (pids = contract.status().pr_members).length >= 3);
  const s = await contract.stop({ timeout: 200 });
  out.stop = { forced: s.forced, members: pids.length,
    survivors: pids.filter(alive).length };
  contract.dispose();

  // pr_empty exactly once, and another process observes it too.
  const t = ct.spawn('sh', ['-c', '(setsid sleep 0.4 &); exit 0'],
    { stdio: 'ignore' }).contract;
  let empties = 0;
  t.on('pr_empty', () => { empties++; });
  const observer = cp.spawn(process.execPath, ['-e', \`
    const o = require(\${JSON.stringify(${JSON.stringify(lib)})}).observe(\${t.ctid});
    const keep = setInterval(() => {}, 1000);
    o.on('pr_empty', () => { console.log('observed'); o.dispose();
      clearInterval(keep); });\`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let seen = '';
  observer.stdout.on('data', (d) => { seen += d; });
  const emptied = new Promise((res) => t.once('pr_empty', res));
  await new Promise((res) => observer.on('exit', res));
  await emptied;
  await new Promise((res) => setTimeout(res, 50 * SLOW)); // a second would come now
  out.empty = { empties, observed: seen.trim() };
  t.dispose();

  // A SIGKILLed holder of a noorphan contract takes its tree along.
  const holder = cp.spawn(process.execPath, ['-e', \`
    const ct = require(\${JSON.stringify(${JSON.stringify(lib)})});
    const { contract } = ct.spawn('sh', ['-c', '(setsid sleep 100 &); sleep 100'],
      { stdio: 'ignore', template: { type: 'process', param: { noorphan: true } } });
    const poll = () => { const m = contract.status().pr_members;
      if (m.length >= 2) console.log(JSON.stringify({ ctid: contract.ctid, m }));
      else setTimeout(poll, 5); };
    poll();\`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const { ctid, m: tree } = await new Promise((res) => holder.stdout.once('data',
    (d) => res(JSON.parse(d))));
  holder.kill('SIGKILL');
  const t0 = Date.now();
  await until(() => !tree.some(alive) || Date.now() - t0 > 5000 * SLOW);
  // The keeper removes the record after the tree is gone: wait for that
  // too, since leaving (as PID 1) would kill the keeper on its way.
  await until(() => !ct.list().includes(ctid) || Date.now() - t0 > 10000 * SLOW);
  out.holderDeath = { tree: tree.length, survivors: tree.filter(alive).length };

  // A program that ends before spawn() returns (true) still empties: its
  // anchor may be gone before the spawn's commit reads it.
  out.quick = 0;
  for (let i = 0; i < 20; i++) {
    const q = ct.spawn('true', [], { stdio: 'ignore' }).contract;
    await q.whenEmpty({ timeout: 5000 * SLOW });
    q.dispose();
    out.quick++;
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function check(o) {
  assert.strictEqual(o.membership, 'reaper');
  assert.deepStrictEqual(o.run, { code: 5, daemonDone: true });
  assert.strictEqual(o.stop.forced, true);
  assert.ok(o.stop.members >= 3, 'the whole tree was seen');
  assert.strictEqual(o.stop.survivors, 0);
  assert.deepStrictEqual(o.empty, { empties: 1, observed: 'observed' });
  assert.ok(o.holderDeath.tree >= 2);
  assert.strictEqual(o.holderDeath.survivors, 0);
  assert.strictEqual(o.freeze, false);
  assert.strictEqual(o.quick, 20);
}

for (const who of ['root', 'nobody']) {
  for (const pidns of [false, true]) {
    const what = `${pidns ? 'pid+net' : 'net'} namespace, read-only cgroupfs`;
    test(`as ${who} in a container (${what}): reaper membership in full`,
      async () => {
        const reg = registry(who === 'nobody');
        const r = await nb.runContained(script(pkg), {
          nobody: who === 'nobody', pidns,
          env: { XDG_RUNTIME_DIR: reg }, timeout: 30000 });
        assert.strictEqual(r.code, 0, r.err);
        const o = JSON.parse(r.out);
        check(o);
        if (pidns) assert.strictEqual(o.pid, 1, 'node is PID 1');
        // No connector in another network namespace: pr_empty alone.
        assert.deepStrictEqual(Object.keys(o.events).filter((k) => o.events[k]),
          ['pr_empty']);
        assert.deepStrictEqual(h.contractDirs(path.join(reg,
          'illumos-contract')), [], 'no contract left in the registry');
      });
  }
}

test('as nobody on the host without delegation: reaper membership, with ' +
  'per-member events from the connector where the kernel opens it to nobody',
async () => {
  const reg = registry(true);
  const r = await nb.runAsNobody(`
    const ct = require(${JSON.stringify(pkg)});
    const out = { membership: ct.features.membership,
      events: ct.features.events, evs: [] };
    const { contract } = ct.spawn('sh', ['-c', '(setsid sh -c "exit 3" &); exit 4'],
      { stdio: 'ignore', template: { type: 'process',
        informative: { pr_fork: true, pr_exit: true } } });
    for (const n of ['pr_fork', 'pr_exit']) {
      contract.on(n, (e) => out.evs.push([n, e.exitstatus === undefined ?
        null : e.exitstatus >> 8]));
    }
    contract.on('pr_empty', () => {
      contract.dispose();
      console.log(JSON.stringify(out));
    });
  `, { env: { XDG_RUNTIME_DIR: reg } });
  assert.strictEqual(r.code, 0, r.err);
  const o = JSON.parse(r.out);
  assert.strictEqual(o.membership, 'reaper');
  if (!o.events.pr_fork) {
    // Some kernels (6.18 here) open the connector to CAP_NET_ADMIN only:
    // then features claim pr_empty alone, and no member event is made up.
    assert.deepStrictEqual(Object.keys(o.events).filter((k) => o.events[k]),
      ['pr_empty']);
    assert.deepStrictEqual(o.evs, []);
    return;
  }
  const forks = o.evs.filter((e) => e[0] === 'pr_fork').length;
  const exits = o.evs.filter((e) => e[0] === 'pr_exit').map((e) => e[1]);
  // sh, the subshell, and the setsid daemon: each forked and exited.
  assert.strictEqual(forks, 3);
  assert.strictEqual(exits.length, 3);
  assert.ok(exits.includes(4) && exits.includes(3), JSON.stringify(exits));
});

test('ILLUMOS_CONTRACT_MEMBERSHIP=cgroup without a usable root keeps the ' +
  'clear EACCES; a bad value is refused', async () => {
  const r = await nb.runAsNobody(`
    const ct = require(${JSON.stringify(pkg)});
    const err = (f) => { try { f(); return null; } catch (e) { return e.code; } };
    console.log(JSON.stringify({ membership: ct.features.membership,
      code: err(() => ct.set_template({ type: 'process' })) }));
  `, { env: { ILLUMOS_CONTRACT_MEMBERSHIP: 'cgroup' } });
  assert.strictEqual(r.code, 0, r.err);
  assert.deepStrictEqual(JSON.parse(r.out), { membership: null,
    code: 'EACCES' });
  const bad = await nb.runAsNobody(`
    const ct = require(${JSON.stringify(pkg)});
    try { ct.set_template({ type: 'process' }); } catch (e) {
      console.log(e.code, /cgroup or reaper/.test(e.message)); }
  `, { env: { ILLUMOS_CONTRACT_MEMBERSHIP: 'both' } });
  assert.strictEqual(bad.out.trim(), 'EINVAL true');
});

test('another user gets EACCES from a registry, never access', async () => {
  // Root's registry, which others may reach but not enter (0700).
  const reg = registry(false);
  fs.chmodSync(reg, 0o755);
  const dir = path.join(reg, 'illumos-contract');
  fs.mkdirSync(dir, { mode: 0o700 });
  const r = await nb.runAsNobody(`
    const ct = require(${JSON.stringify(pkg)});
    const code = (f) => { try { f(); return 'none'; } catch (e) { return e.code; } };
    console.log(JSON.stringify({ membership: ct.features.membership,
      observe: code(() => ct.observe(1)), list: code(() => ct.list()) }));
  `, { env: { ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper',
    ILLUMOS_CONTRACT_ROOT: dir } });
  assert.strictEqual(r.code, 0, r.err);
  const o = JSON.parse(r.out);
  assert.strictEqual(o.observe, 'EACCES');
  assert.strictEqual(o.list, 'EACCES');
});
