'use strict';
// docs/security.md: another local user (setpriv with numeric uids 65534
// and 65533, no accounts needed), a hostile member of our own tree (the
// holder's uid rewriting its contract's records) and a root process with a
// user's environment, for both memberships.  Each test failed before its
// fix (the points of docs/security.md, named in each title).
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');
const nb = require('../lib/nobody');

const pkg = nb.stagePackage();
after(() => fs.rmSync(pkg, { recursive: true, force: true }));
const lib = JSON.stringify(pkg);
const STRANGER = 65534;
const VICTIM = 65533;
const tool = (name) => path.join(pkg, 'build', 'Release', name);

// Our environment for a child node, without the test runner's context.
function envWith(extra) {
  const env = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

function asUid(uid, cmd) {
  return ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups',
    '--', ...cmd];
}

// A process of another user that holds an flock on file until killed.
async function strangerLock(file) {
  // Its own process group: flock's child (the sleep) holds the lock too.
  const p = cp.spawn(asUid(STRANGER, [])[0], [...asUid(STRANGER, []).slice(1),
    'flock', '-x', file, 'sleep', '600'], { stdio: 'ignore', detached: true });
  p.kill = () => { try { process.kill(-p.pid, 'SIGKILL'); } catch {} };
  // Held once our own non-blocking try fails.
  await h.until(() => cp.spawnSync('flock', ['-n', '-x', file, 'true'])
    .status === 1, 10000, 'the stranger\'s lock');
  return p;
}

function cgRoot(tag) {
  const dir = path.join(h.cgroup2Mount(), `ict-sec-${tag}-${process.pid}`);
  fs.mkdirSync(dir);
  return dir;
}

function removeCg(dir) {
  nb.removeCgroup(dir);
}

function registry(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ict-sec-${tag}-`));
}

// A registry whose records were planted (a FIFO would hang reapRoot's
// read): kill the anchor's tree by its pid, wait for it, remove it all.
async function killPlanted(anchor) {
  for (let pass = 0; pass < 50; pass++) {
    const tree = h.descendants(anchor);
    if (tree.length === 0) break;
    for (const p of tree) try { process.kill(p, 'SIGKILL'); } catch {}
  }
  try { process.kill(anchor, 'SIGKILL'); } catch {}
  await h.until(() => !h.alive(anchor), 5000, 'the anchor to go');
}

async function dropPlanted(reg, anchor) {
  await killPlanted(anchor);
  await keeperLeaves(reg);	// it would make the registry again
  fs.rmSync(reg, { recursive: true, force: true });
}

// The holder is gone and a member spoiled its contract's records: the
// keeper, which can never see that orphan empty, leaves it (docs/security.md).
async function keeperLeaves(reg) {
  await h.until(() => h.keepersOf(reg).length === 0, 10000,
    'the keeper to give the spoiled contract up and leave');
}

// Point 1: a stranger's flock on the cgroup root blocks no spawn.
test('point 1: another user\'s flock on the cgroup root does not block ' +
  'set_template and spawn', async (t) => {
  const root = cgRoot('lockroot');
  t.after(() => removeCg(root));
  const locker = await strangerLock(root);
  t.after(() => locker.kill('SIGKILL'));
  const r = await nb.runWrapped(`
    const ct = require(${lib});
    const cp = require('child_process');
    ct.set_template({ type: 'process' });
    cp.spawn('true', [], { stdio: 'ignore' });
    ct.clear_template();
    const c = ct.latest();
    c.on('pr_empty', () => { console.log('empty ' + c.ctid); process.exit(0); });
  `, (c) => c, { env: { ILLUMOS_CONTRACT_ROOT: root,
    ILLUMOS_CONTRACT_MEMBERSHIP: 'cgroup' }, timeout: 20000 });
  assert.strictEqual(r.code, 0, `hung or failed: ${r.signal} ${r.err}`);
  assert.match(r.out, /^empty \d+/);
});

// Point 1: a stranger's flock on a contract keeps no noorphan member alive.
test('point 1: another user\'s flock on a contract does not keep a ' +
  'SIGKILLed noorphan holder\'s members alive', async (t) => {
  const root = cgRoot('lockct');
  t.after(() => removeCg(root));
  const holder = cp.spawn(process.execPath, ['-e', `
    const ct = require(${lib});
    const cp = require('child_process');
    ct.set_template({ type: 'process', param: { noorphan: true } });
    cp.spawn('sleep', ['600'], { stdio: 'ignore' });
    ct.clear_template();
    const c = ct.latest();
    const t = setInterval(() => {
      const m = c.status().pr_members;
      if (m.length > 0) {
        clearInterval(t);
        console.log(JSON.stringify({ ctid: c.ctid, member: m[0] }));
      }
    }, 2);
    setInterval(() => {}, 1000);
  `], { env: envWith({ ILLUMOS_CONTRACT_ROOT: root,
    ILLUMOS_CONTRACT_MEMBERSHIP: 'cgroup' }), stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await h.once(holder.stdout, 'data', 10000);
  const { ctid, member } = JSON.parse(String(line));
  const locker = await strangerLock(path.join(root, String(ctid)));
  t.after(() => locker.kill('SIGKILL'));
  holder.kill('SIGKILL');
  await h.until(() => !h.alive(member), 15000, 'the member to be killed');
  // And ctstat answers.
  const s = cp.spawnSync(tool('ctstat'), [], { timeout: 15000,
    env: envWith({ ILLUMOS_CONTRACT_ROOT: root }) });
  assert.strictEqual(s.status, 0, String(s.stderr));
});

// Point 2: a squatted registry name is skipped; none left names the owner.
test('point 2: a registry name squatted by another user is skipped; ' +
  'with all taken, the error names the owner', async (t) => {
  const names = [];
  for (const base of ['/dev/shm', '/tmp']) {
    names.push(`${base}/illumos-contract-${VICTIM}`);
    for (let k = 1; k < 4; k++) names.push(`${base}/illumos-contract-${VICTIM}-${k}`);
  }
  const clean = () => {
    for (const n of names) fs.rmSync(n, { recursive: true, force: true });
  };
  clean();
  t.after(clean);
  const squat = (n) => cp.execFileSync(asUid(STRANGER, [])[0],
    [...asUid(STRANGER, []).slice(1), 'mkdir', '-m', '700', n]);
  squat(names[0]);
  const script = `
    const ct = require(${lib});
    const cp = require('child_process');
    try {
      ct.set_template({ type: 'process' });
      cp.spawn('true', [], { stdio: 'ignore' });
      ct.clear_template();
      const c = ct.latest();
      c.on('pr_empty', () => {
        console.log(JSON.stringify({ root: ct.features.root }));
        process.exit(0);
      });
    } catch (e) {
      console.log(JSON.stringify({ code: e.code, message: e.message }));
    }`;
  const env = { ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' };
  let r = await nb.runWrapped(script, (c) => asUid(VICTIM, c), { env, timeout: 20000 });
  assert.strictEqual(r.code, 0, r.err);
  assert.deepStrictEqual(JSON.parse(r.out), { root: names[1] });
  fs.rmSync(names[1], { recursive: true, force: true });
  for (const n of names.slice(1)) squat(n);
  r = await nb.runWrapped(script, (c) => asUid(VICTIM, c), { env, timeout: 20000 });
  const o = JSON.parse(r.out);
  assert.strictEqual(o.code, 'EACCES', r.out);
  assert.match(o.message, new RegExp(`uids ${STRANGER}`));
});

// Point 3: root with a user's $XDG_RUNTIME_DIR does not use it.
test('point 3: root with another user\'s XDG_RUNTIME_DIR keeps its ' +
  'registry out of it', async (t) => {
  const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-sec-xdg-'));
  fs.chownSync(xdg, STRANGER, STRANGER);
  t.after(() => fs.rmSync(xdg, { recursive: true, force: true }));
  // Root's own registry is made where it belongs: gone again after, if
  // this test made it.
  const own = `/dev/shm/illumos-contract-${process.getuid()}`;
  if (!fs.existsSync(own)) t.after(() => h.reapRoot(own));
  const r = await nb.runWrapped(`
    const ct = require(${lib});
    console.log(JSON.stringify({ root: ct.features.root }));
  `, (c) => c, { env: { ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper',
    XDG_RUNTIME_DIR: xdg } });
  assert.strictEqual(r.code, 0, r.err);
  const { root } = JSON.parse(r.out);
  assert.ok(typeof root === 'string' && !root.startsWith(xdg), root);
  assert.deepStrictEqual(fs.readdirSync(xdg), []);
});

// Point 3: no contract of root's in a cgroup another user was delegated.
// Point 3, the anchor's directory: it gets it as an inherited fd (@N),
// never a path.  Here the contract's name in the registry is redirected
// (the spare renamed away, a symlink to another user's directory put in
// its place) before the spawn: an anchor that opened its path (as it did)
// wrote its records into the link's target, root-owned files in a
// directory another user controls.  With the fd, it writes only into the
// directory its holder made.
test('point 3: an anchor whose contract path is redirected to another ' +
  'user\'s directory writes only into its own', async (t) => {
  const reg = registry('redirect');
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-sec-target-'));
  fs.chownSync(target, STRANGER, STRANGER);
  t.after(async () => {
    await keeperLeaves(reg);	// it would make the registry again
    fs.rmSync(reg, { recursive: true, force: true });
    fs.rmSync(target, { recursive: true, force: true });
  });
  const r = await nb.runWrapped(`
    const ct = require(${lib});
    const cp = require('child_process');
    const fs = require('fs');
    const path = require('path');
    const reg = ${JSON.stringify(reg)};
    ct.set_template({ type: 'process' });
    // The spare the next spawn uses: the registry's one contract name.
    const names = fs.readdirSync(reg).filter((n) => /^\\d+$/.test(n));
    const moved = path.join(reg, 'moved');
    fs.renameSync(path.join(reg, names[0]), moved);
    fs.symlinkSync(${JSON.stringify(target)}, path.join(reg, names[0]));
    const child = cp.spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
    ct.clear_template();
    const out = { names, ctid: ct.latest().ctid };
    child.on('exit', async (code) => {
      out.code = code;
      // The anchor records the end once its wait finds no child left.
      const t0 = Date.now();
      while (!fs.existsSync(path.join(moved, 'user.ct.done')) &&
        Date.now() - t0 < ${h.ms(5000)}) {
        await new Promise((r) => setTimeout(r, 10));
      }
      out.moved = fs.readdirSync(moved).sort();
      out.target = fs.readdirSync(${JSON.stringify(target)});
      console.log(JSON.stringify(out));
      process.exit(0);
    });
  `, (c) => c, { env: { ILLUMOS_CONTRACT_ROOT: reg,
    ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' } });
  assert.strictEqual(r.code, 0, r.err);
  const o = JSON.parse(r.out);
  assert.strictEqual(o.names.length, 1, JSON.stringify(o.names));
  assert.strictEqual(String(o.ctid), o.names[0]);
  assert.strictEqual(o.code, 3);
  assert.deepStrictEqual(o.target, [], 'the anchor wrote into the ' +
    'redirected path');
  for (const rec of ['user.ct.anchor', 'user.ct.program', 'user.ct.done']) {
    assert.ok(o.moved.includes(rec), `${rec} not in its own directory: ` +
      JSON.stringify(o.moved));
  }
});

test('point 3: root makes no contract under a cgroup delegated to ' +
  'another user (it could cgroup.kill them)', async (t) => {
  const deleg = nb.delegatedCgroup('sec');
  t.after(() => nb.removeCgroup(deleg));
  const r = await nb.runWrapped(`
    const ct = require(${lib});
    try {
      ct.set_template({ type: 'process' });
      require('child_process').spawn('true', [], { stdio: 'ignore' });
      console.log(JSON.stringify({ made: ct.latest().ctid }));
    } catch (e) {
      console.log(JSON.stringify({ code: e.code, message: e.message }));
    }
  `, (c) => c, { env: { ILLUMOS_CONTRACT_ROOT: path.join(deleg, 'contract'),
    ILLUMOS_CONTRACT_MEMBERSHIP: 'cgroup' } });
  assert.strictEqual(r.code, 0, r.err);
  const o = JSON.parse(r.out);
  assert.strictEqual(o.code, 'EACCES', r.out);
  assert.match(o.message, new RegExp(`uid ${nb.nobodyIds().uid}`));
});

test('point 4: a record turned into a FIFO by a member is refused, no ' +
  'hang (status and ctstat)', async (t) => {
  const reg = registry('fifo');
  const r = await nb.runWrapped(`
    const ct = require(${lib});
    const cp = require('child_process');
    const fs = require('fs');
    const path = require('path');
    ct.set_template({ type: 'process' });
    cp.spawn('sleep', ['600'], { stdio: 'ignore' });
    ct.clear_template();
    const c = ct.latest();
    const rec = path.join(${JSON.stringify(reg)}, String(c.ctid), 'user.ct.anchor');
    const out = { ctid: c.ctid, anchor: Number(fs.readFileSync(rec, 'utf8').split(' ')[0]) };
    fs.unlinkSync(rec);
    cp.execFileSync('mkfifo', [rec]);
    try { c.status(); out.code = 'none'; } catch (e) { out.code = e.code; }
    console.log(JSON.stringify(out));
    process.exit(0);
  `, (c) => c, { env: { ILLUMOS_CONTRACT_ROOT: reg,
    ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' }, timeout: 20000 });
  assert.strictEqual(r.code, 0, `hung: ${r.signal} ${r.err}`);
  const o = JSON.parse(r.out);
  t.after(() => dropPlanted(reg, o.anchor));
  assert.strictEqual(o.code, 'EBADMSG');
  const s = cp.spawnSync(tool('ctstat'), ['-v', '-i', String(o.ctid)], {
    timeout: 15000, env: envWith({ ILLUMOS_CONTRACT_ROOT: reg,
      ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' }) });
  assert.notStrictEqual(s.signal, 'SIGTERM', 'ctstat hung');
  await keeperLeaves(reg);
});

test('point 4: a forged anchor record ("1 <init\'s start>") lists no ' +
  'stranger as a member', async (t) => {
  const reg = registry('forge');
  const initStart = fs.readFileSync('/proc/1/stat', 'utf8').split(') ')[1]
    .split(' ')[19];
  const r = await nb.runWrapped(`
    const ct = require(${lib});
    const cp = require('child_process');
    const fs = require('fs');
    const path = require('path');
    ct.set_template({ type: 'process' });
    cp.spawn('sleep', ['600'], { stdio: 'ignore' });
    ct.clear_template();
    const c = ct.latest();
    const rec = path.join(${JSON.stringify(reg)}, String(c.ctid), 'user.ct.anchor');
    const out = { ctid: c.ctid, anchor: Number(fs.readFileSync(rec, 'utf8').split(' ')[0]) };
    fs.writeFileSync(rec + '.new', '1 ${initStart}');
    fs.renameSync(rec + '.new', rec);
    try { out.members = c.status().pr_members.length; } catch (e) { out.code = e.code; }
    console.log(JSON.stringify(out));
    process.exit(0);
  `, (c) => c, { env: { ILLUMOS_CONTRACT_ROOT: reg,
    ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' }, timeout: 20000 });
  assert.strictEqual(r.code, 0, r.err);
  const o = JSON.parse(r.out);
  t.after(() => dropPlanted(reg, o.anchor));
  assert.strictEqual(o.members, undefined, `listed ${o.members} members`);
  assert.strictEqual(o.code, 'EBADMSG');
  await keeperLeaves(reg);
});

// Point 4, the forged record's hang: a contract whose anchor record fails
// its proof can never be seen empty, so what waits for that must settle
// with EBADMSG (before: stop() and whenEmpty() never settled, and sigsend
// said ESRCH).  A child script, so that a hang is a deadline's failure.
function forgedScript(reg, body) {
  return `
    const ct = require(${lib});
    const cp = require('child_process');
    const fs = require('fs');
    const path = require('path');
    const DEADLINE = ${h.ms(5000)};
    const rec = (ctid) => path.join(${JSON.stringify(reg)}, String(ctid),
      'user.ct.anchor');
    const anchorOf = (ctid) => Number(fs.readFileSync(rec(ctid), 'utf8')
      .split(' ')[0]);
    function forge(ctid, text) {
      fs.writeFileSync(rec(ctid) + '.new', text);
      fs.renameSync(rec(ctid) + '.new', rec(ctid));
    }
    function made(cmd, args) {
      ct.set_template({ type: 'process' });
      cp.spawn(cmd, args, { stdio: 'ignore' });
      ct.clear_template();
      return ct.latest();
    }
    // 'resolved', or the code the promise rejected with (its message in
    // outcome.message); 'HUNG' past the deadline.
    async function outcome(p) {
      let timer;
      const hung = new Promise((resolve) => {
        timer = setTimeout(() => resolve('HUNG'), DEADLINE);
      });
      try {
        return await Promise.race([p.then(() => 'resolved'), hung]);
      } catch (e) {
        outcome.message = e.message;
        return e.code;
      } finally {
        clearTimeout(timer);
      }
    }
    (async () => {
      ${body}
    })().then(() => process.exit(0), (e) => {
      console.error(e);
      process.exit(1);
    });`;
}

// Run forgedScript(reg, body) under reaper membership, its contracts
// given up after test t; what its second line says.  Its first line names
// the anchors to kill.
async function runForged(t, reg, body) {
  const r = await nb.runWrapped(forgedScript(reg, body), (c) => c,
    { env: { ILLUMOS_CONTRACT_ROOT: reg,
      ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' }, timeout: 60000 });
  const lines = r.out.trim().split('\n').map((l) => JSON.parse(l));
  t.after(() => dropForged(reg, lines[0].anchors));
  assert.strictEqual(r.code, 0, `${r.signal} ${r.err}`);
  return lines[1];
}

// As dropPlanted, for holders that exited without waiting for their
// keeper: it writes the contracts' records until it gives them up (each
// is forged, or its anchor killed here), so it must be gone first.
async function dropForged(reg, anchors) {
  for (const anchor of anchors) await killPlanted(anchor);
  await keeperLeaves(reg);
  fs.rmSync(reg, { recursive: true, force: true });
}

const initStart = () => fs.readFileSync('/proc/1/stat', 'utf8')
  .split(') ')[1].split(' ')[19];

// The holder's script for a record tampered with while it waits: every
// way to wait for the contract settles, each with its code; the anchor
// (the member the record hid) is still alive after.
function settleAfter(tamper) {
  return `
      const c = made('sleep', ['600']);
      const out = { ctid: c.ctid, anchors: [anchorOf(c.ctid)] };
      console.log(JSON.stringify(out));
      const waiting = c.whenEmpty();
      ${tamper}
      try { c.sigsend('SIGTERM'); out.sigsend = 'sent'; } catch (e) {
        out.sigsend = e.code;
      }
      out.stop = await outcome(c.stop({ timeout: 200 }));
      out.waiting = await outcome(waiting);
      out.later = await outcome(c.whenEmpty());
      out.message = outcome.message;
      out.using = await outcome(c[Symbol.asyncDispose]());
      out.alive = (() => { try { process.kill(out.anchors[0], 0);
        return true; } catch { return false; } })();
      console.log(JSON.stringify(out));
  `;
}

function assertSettled(o, message) {
  assert.deepStrictEqual({ sigsend: o.sigsend, stop: o.stop,
    waiting: o.waiting, later: o.later, using: o.using },
  { sigsend: 'EBADMSG', stop: 'EBADMSG', waiting: 'EBADMSG',
    later: 'EBADMSG', using: 'EBADMSG' });
  assert.match(o.message, message);
  assert.strictEqual(o.alive, true, 'nothing was signalled');
}

test('point 4: a forged anchor record ("1 <init\'s start>"): stop(), ' +
  'whenEmpty(), sigsend and await using settle with EBADMSG', async (t) => {
  const o = await runForged(t, registry('forgewait'),
    settleAfter(`forge(c.ctid, '1 ${initStart()}');`));
  assertSettled(o, /forged|refused/);
});

// A member deletes the anchor record instead of forging it.  Before, the
// contract read as a spare whose anchor is still starting: populated, so
// stop() rejected with ENODATA while whenEmpty() (and the keeper, once
// the holder is gone) waited until the directory went.  A committed
// contract always has its anchor record (the holder writes it before the
// state "owned"), so it is broken, as a forged one: EBADMSG, said once.
test('point 4: an anchor record deleted by a member: stop(), whenEmpty(), ' +
  'sigsend and await using settle with EBADMSG', async (t) => {
  const o = await runForged(t, registry('deleted'),
    settleAfter('fs.unlinkSync(rec(c.ctid));'));
  assertSettled(o, /refused|missing|deleted/);
});

// The record names another contract's live anchor: a ct-exec that holds a
// directory, only not this one.  Refused once (after the proof's wait for
// a just-started anchor), never again at that cost; the other contract's
// members are not touched.
test('point 4: an anchor record naming another contract\'s anchor: ' +
  'EBADMSG, the refusal is not paid on every read, the other tree lives',
async (t) => {
  const reg = registry('forgeother');
  const o = await runForged(t, reg, `
      const a = made('sleep', ['600']);
      const b = made('sleep', ['600']);
      const out = { anchors: [anchorOf(b.ctid), anchorOf(a.ctid)] };
      console.log(JSON.stringify(out));
      const bMember = b.status().pr_members[0];
      forge(a.ctid, fs.readFileSync(rec(b.ctid), 'utf8'));
      const waiting = a.whenEmpty();
      out.stop = await outcome(a.stop({ timeout: 200 }));
      out.waiting = await outcome(waiting);
      // Each read proves the record again: the refusal is remembered.
      out.reads = [];
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        try { a.status(); out.reads.push('read'); } catch (e) {
          out.reads.push(e.code);
        }
        out.readMs = Math.max(out.readMs || 0, Date.now() - t0);
      }
      out.bAlive = (() => { try { process.kill(bMember, 0); return true; }
        catch { return false; } })();
      out.bStatus = b.status().pr_members.length;
      console.log(JSON.stringify(out));
  `);
  assert.strictEqual(o.stop, 'EBADMSG');
  assert.strictEqual(o.waiting, 'EBADMSG');
  assert.deepStrictEqual(o.reads, ['EBADMSG', 'EBADMSG', 'EBADMSG']);
  // The proof waits up to 2 s for a just-started anchor: not on each read.
  assert.ok(o.readMs < 1000, `a read took ${o.readMs} ms`);
  assert.strictEqual(o.bAlive, true, 'stop() of the forged one reached ' +
    'the other contract\'s member');
  assert.strictEqual(o.bStatus, 1);
});

test('point 4: run() whose record is forged settles with EBADMSG and ' +
  'what it knows', async (t) => {
  const reg = registry('forgerun');
  const o = await runForged(t, reg, `
      const p = ct.run('sh', ['-c', 'echo out; exec sleep 600'],
        { stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { anchors: [anchorOf(p.contract.ctid)] };
      console.log(JSON.stringify(out));
      await new Promise((resolve) => p.child.stdout.once('data', resolve));
      forge(p.contract.ctid, '1 ${initStart()}');
      out.stop = await outcome(p.stop());
      out.run = await outcome(p);
      const e = out.run === 'HUNG' ? {} : await p.catch((err) => err);
      out.fields = { command: e.command, stdout: e.stdout,
        stderr: e.stderr, duration: typeof e.durationMs,
        exit: 'exitCode' in e && 'signal' in e };
      console.log(JSON.stringify(out));
  `);
  assert.strictEqual(o.stop, 'EBADMSG');
  assert.strictEqual(o.run, 'EBADMSG');
  assert.deepStrictEqual(o.fields, { command: "sh -c 'echo out; exec sleep 600'",
    stdout: 'out\n', stderr: '', duration: 'number', exit: true });
});

test('point 4: a record linked to /dev/zero is refused (ctstat stays small)',
  async (t) => {
    const reg = registry('zero');
    const r = await nb.runWrapped(`
      const ct = require(${lib});
      const cp = require('child_process');
      const fs = require('fs');
      const path = require('path');
      ct.set_template({ type: 'process' });
      cp.spawn('sleep', ['600'], { stdio: 'ignore' });
      ct.clear_template();
      const c = ct.latest();
      const rec = path.join(${JSON.stringify(reg)}, String(c.ctid), 'user.ct.terms');
      const out = { ctid: c.ctid, anchor: Number(fs.readFileSync(path.join(path.dirname(rec), 'user.ct.anchor'), 'utf8').split(' ')[0]) };
      fs.unlinkSync(rec);
      fs.symlinkSync('/dev/zero', rec);
      console.log(JSON.stringify(out));
      process.exit(0);
    `, (c) => c, { env: { ILLUMOS_CONTRACT_ROOT: reg,
      ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' }, timeout: 20000 });
    assert.strictEqual(r.code, 0, r.err);
    const o = JSON.parse(r.out);
    t.after(() => dropPlanted(reg, o.anchor));
    const s = cp.spawnSync(tool('ctstat'), ['-v', '-i', String(o.ctid)], {
      timeout: 15000, env: envWith({ ILLUMOS_CONTRACT_ROOT: reg,
        ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' }) });
    assert.strictEqual(s.signal, null, 'ctstat was killed (hung or ran away)');
    assert.doesNotMatch(String(s.stdout), new RegExp(`^${o.ctid} .*process`, 'm'),
      'the contract was read as if sound');
  });

// The anchor's word pipe (docs/security.md, "Helpers and tools"): shared
// by every anchor of a holder, and a member can open its anchor's end
// through /proc/<ppid>/fd.  Words are hints: forged ones, naming its own
// contract and its neighbours, end no contract; each still says
// pr_empty once, when its tree is gone.
test('point 4: forged words on the anchor\'s word pipe end no contract',
  async (t) => {
    const reg = registry('word');
    t.after(async () => {
      h.reapRoot(reg);
      await keeperLeaves(reg);	// it would make the registry again
      fs.rmSync(reg, { recursive: true, force: true });
    });
    const r = await nb.runWrapped(`
      const ct = require(${lib});
      const cp = require('child_process');
      ct.set_template({ type: 'process', critical: { pr_empty: true },
        informative: {} });
      cp.spawn('sleep', ['600'], { stdio: 'ignore' });
      const victim = ct.latest();
      const ids = [0, 1, 2, 3, 4].map((i) => String(victim.ctid + i));
      const hostile = cp.spawn('sh', ['-c', 'n=0; for f in /proc/$PPID/fd/*; ' +
        'do if [ -p "$f" ]; then for id in "$@"; do echo "$id" > "$f"; done; ' +
        'n=$((n+1)); fi; done; echo "wrote $n"; exec sleep 600', 'sh', ...ids],
        { stdio: ['ignore', 'pipe', 'ignore'] });
      const own = ct.latest();
      ct.clear_template();
      const empties = new Map([[victim.ctid, 0], [own.ctid, 0]]);
      const ended = [victim, own].map((c) => new Promise((res) => {
        c.on('pr_empty', (ev) => {
          empties.set(c.ctid, empties.get(c.ctid) + 1);
          c.ack(ev.evid);
          res();
        });
      }));
      hostile.stdout.setEncoding('utf8');
      hostile.stdout.once('data', async (d) => {
        // The words, if they ended anything, are read within this wait.
        await new Promise((res) => setTimeout(res, 300));
        const out = { wrote: d.trim(), during: [...empties.values()],
          members: [victim, own].map((c) => c.status().pr_members.length) };
        await Promise.all([victim.stop(), own.stop(), ...ended]);
        // A second pr_empty, if any, would come with the next dispatch.
        await new Promise((res) => setTimeout(res, 100));
        out.after = [...empties.values()];
        console.log(JSON.stringify(out));
        process.exit(0);
      });
    `, (c) => c, { env: { ILLUMOS_CONTRACT_ROOT: reg,
      ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' }, timeout: 20000 });
    assert.strictEqual(r.code, 0, r.err);
    const o = JSON.parse(r.out);
    assert.strictEqual(o.wrote, 'wrote 1', 'the word pipe is reachable');
    assert.deepStrictEqual(o.during, [0, 0], 'no forged word ended a tree');
    assert.ok(o.members.every((n) => n > 0), JSON.stringify(o.members));
    assert.deepStrictEqual(o.after, [1, 1], 'pr_empty once each, at the end');
  });

// Point 6, the hostile member (reaper membership): it SIGKILLs its own
// anchor and at once daemonizes twice, to leave the contract.  The tree
// comes back to the holder, a child subreaper, which holds it (stopped)
// and kills it on stop(); before, the daemons ran on under init, out of
// reach of stop(), noorphan and the keeper (docs/security.md, "A killed
// anchor").
test('point 6: a member that kills its anchor and daemonizes is held and ' +
  'killed by stop()', async (t) => {
  const nap = `600.${process.pid}`;
  const tag = `sleep\0${nap}\0`;
  const left = () => h.running((cmdline) => cmdline === tag);
  try {
    const o = await runForged(t, registry('killanchor'), `
      const c = made('sh', ['-c', 'sleep 0.3; kill -9 $PPID; ' +
        'setsid sleep ${nap} & (sleep ${nap} &); exec sleep ${nap}']);
      const out = { ctid: c.ctid, anchors: [anchorOf(c.ctid)] };
      console.log(JSON.stringify(out));
      out.lost = await outcome(c.whenEmpty());
      const held = c.members();
      out.held = held.length > 0 && held.every((m) => m.state === 'T');
      out.stop = await outcome(c.stop());
      c.dispose();
      console.log(JSON.stringify(out));
    `);
    assert.deepStrictEqual({ lost: o.lost, held: o.held, stop: o.stop },
      { lost: 'EOWNERDEAD', held: true, stop: 'EOWNERDEAD' });
    await h.until(() => left().length === 0, h.ms(3000),
      'no member left running');
  } finally {
    for (const pid of left()) process.kill(Number(pid), 'SIGKILL');
  }
});

// Point 7: the keeper holds none of its holder's fds.
for (const membership of ['cgroup', 'reaper']) {
  test(`point 7 (${membership}): the keeper has /dev/null on 0-2 and no ` +
    'inherited fd', async (t) => {
    const reg = membership === 'reaper' ? registry('keep') : cgRoot('keep');
    t.after(async () => {
      if (membership !== 'reaper') return removeCg(reg);
      await keeperLeaves(reg);	// it would make the registry again
      return h.reapRoot(reg);
    });
    const holder = cp.spawn(process.execPath, ['-e', `
      const ct = require(${lib});
      const cp = require('child_process');
      ct.set_template({ type: 'process' });
      cp.spawn('sleep', ['600'], { stdio: 'ignore' });
      ct.clear_template();
      const c = ct.latest();
      console.log(JSON.stringify({ pid: process.pid }));
      process.stdin.on('data', () => c.stop().then(() => process.exit(0)));
    `], { env: envWith({ ILLUMOS_CONTRACT_ROOT: reg,
      ILLUMOS_CONTRACT_MEMBERSHIP: membership }),
    stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await h.once(holder.stdout, 'data', 10000);
    const { pid } = JSON.parse(String(line));
    let keeper = 0;
    await h.until(() => {
      for (const e of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(e)) continue;
        let argv;
        try { argv = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0'); } catch { continue; }
        if (argv[0] === 'ct-keeper' && argv[2] === String(pid)) keeper = Number(e);
      }
      return keeper !== 0;
    }, 10000, 'the keeper');
    const fds = {};
    for (const fd of fs.readdirSync(`/proc/${keeper}/fd`)) {
      try { fds[fd] = fs.readlinkSync(`/proc/${keeper}/fd/${fd}`); } catch {}
    }
    holder.stdin.write('x\n');
    await h.once(holder, 'exit', 10000);
    for (const fd of ['0', '1', '2']) assert.strictEqual(fds[fd], '/dev/null', JSON.stringify(fds));
    // 3: its command pipe; anything else is a descriptor of its poll loop.
    for (const [fd, to] of Object.entries(fds)) {
      if (Number(fd) > 2) assert.ok(!/^pipe:/.test(to) || fd === '3', JSON.stringify(fds));
    }
  });
}

// Point 8: release builds have no test switch.
test('point 8: a release build reads no ILLUMOS_CONTRACT_TEST_* switch',
  () => {
    const src = path.join(__dirname, '..', '..', 'src');
    for (const f of fs.readdirSync(path.join(src, 'linux'))) {
      if (!f.endsWith('.c')) continue;
      const r = cp.spawnSync('cc', ['-E', '-D_GNU_SOURCE', `-I${src}`,
        `-I${path.join(src, 'linux')}`, path.join(src, 'linux', f)],
      { encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.strictEqual(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /getenv\s*\(\s*"ILLUMOS_CONTRACT_TEST_/,
        `${f} reads a test switch in a release build`);
    }
  });

// Point 11: no spawn under an active template runs outside a contract.
// docker --network=host, rootless runc: a pid namespace of its own in the
// host's network namespace.  The kernel takes the connector's listen
// request and ignores it, so nothing may be claimed from it.
test('point 9: where the kernel ignores the connector (own pid namespace, ' +
  'host network), features claim pr_empty only and member events as ' +
  'critical or fatal throw ENOTSUP', (t) => {
  const script = `
    const ct = require(${lib});
    const f = ct.features;
    const out = { events: Object.keys(f.events).filter((k) => f.events[k]),
      trace: f.trace };
    try {
      ct.set_template({ type: 'process', fatal: { pr_core: true } });
      ct.clear_template();
      out.fatal = 'accepted';
    } catch (e) { out.fatal = e.code; }
    try {
      ct.spawn('true', [], { trace: true, stdio: 'ignore' });
      out.trace_spawn = 'accepted';
    } catch (e) { out.trace_spawn = e.code; }
    const { contract } = ct.spawn('sh', ['-c', 'sleep 0.05 &'],
      { stdio: 'ignore' });
    contract.on('pr_empty', () => {
      contract.dispose();
      out.emptied = true;
      console.log(JSON.stringify(out));
    });`;
  // Roots of its own: not the machine's default ones, which other runs
  // (in other pid namespaces) may share.
  const roots = { cgroup: cgRoot('p9'), reaper: registry('p9') };
  t.after(() => {
    h.reapRoot(roots.reaper);
    removeCg(roots.cgroup);
  });
  for (const membership of ['cgroup', 'reaper']) {
    const r = cp.spawnSync('unshare', ['-m', '-p', '-f', '--mount-proc',
      process.execPath, '-e', script], { encoding: 'utf8',
      env: envWith({ ILLUMOS_CONTRACT_MEMBERSHIP: membership,
        ILLUMOS_CONTRACT_ROOT: roots[membership] }),
      timeout: h.ms(20000) });
    assert.strictEqual(r.status, 0, `${membership}: ${r.stderr}`);
    assert.deepStrictEqual(JSON.parse(r.stdout), { events: ['pr_empty'],
      trace: false, fatal: 'ENOTSUP', trace_spawn: 'ENOTSUP',
      emptied: true }, membership);
  }
});

test('point 11: execSync with a template active under an anchor fails ' +
  'closed (ENOTSUP), nothing runs', async (t) => {
  const reg = registry('sync');
  t.after(() => h.reapRoot(reg));
  const marker = path.join(reg, 'ran');
  const r = await nb.runWrapped(`
    const ct = require(${lib});
    const cp = require('child_process');
    ct.set_template({ type: 'process' });
    let code = 'none';
    try { cp.execSync('touch ${marker}'); } catch (e) { code = e.code; }
    console.log(JSON.stringify({ code }));
  `, (c) => c, { env: { ILLUMOS_CONTRACT_ROOT: reg,
    ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' } });
  assert.strictEqual(r.code, 0, r.err);
  assert.deepStrictEqual(JSON.parse(r.out), { code: 'ENOTSUP' });
  assert.ok(!fs.existsSync(marker), 'the child ran outside any contract');
});

// Point 11, a forced ILLUMOS_CONTRACT_SPAWN=atfork where it cannot work: a
// libuv whose spawns run no atfork handler (posix_spawn, clone).  Node's
// libuv here forks, so test/lib/nofork.c, preloaded, makes its fork() one
// that runs none (glibc's _Fork).  Every way to start a child with a
// process template active must then throw ENOTSUP and start nothing (it
// ran the child outside any contract, silently); unforced, the library
// sees that no handler ran and takes the shim, whose child is a member.
// Cgroup membership: under reaper membership an anchor starts every
// contract, whatever is forced.
function noforkLib(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-sec-nofork-'));
  fs.chmodSync(dir, 0o755);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const so = path.join(dir, 'nofork.so');
  const r = cp.spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', so,
    path.join(__dirname, '..', 'lib', 'nofork.c')], { encoding: 'utf8' });
  return r.status === 0 ? so : null;
}

test('point 11: a forced ILLUMOS_CONTRACT_SPAWN=atfork where no fork runs ' +
  'the atfork handlers fails closed (ENOTSUP), nothing runs', async (t) => {
  const so = noforkLib(t);
  if (so === null) {
    t.skip('no cc, or a libc without _Fork (glibc < 2.34)');
    return;
  }
  const root = cgRoot('nofork');
  t.after(() => removeCg(root));
  const marks = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-sec-marks-'));
  t.after(() => fs.rmSync(marks, { recursive: true, force: true }));
  // LD_PRELOAD after any sanitizer runtime (test:asan), which must be first.
  const preload = [process.env.LD_PRELOAD, so].filter(Boolean).join(' ');
  const script = (forced) => `
    const ct = require(${lib});
    const cp = require('child_process');
    const path = require('path');
    const mark = (n) => path.join(${JSON.stringify(marks)}, '${forced}-' + n);
    ct.set_template({ type: 'process' });
    const out = { codes: {} };
    const ways = {
      spawn: () => cp.spawn('touch', [mark('spawn')], { stdio: 'ignore' }),
      execFile: () => cp.execFile('touch', [mark('execFile')]),
      spawnSync: () => { const r = cp.spawnSync('touch', [mark('spawnSync')]);
        if (r.error) throw r.error; },
      execSync: () => cp.execSync('touch ' + mark('execSync')),
      execFileSync: () => cp.execFileSync('touch', [mark('execFileSync')]),
    };
    for (const [name, f] of Object.entries(ways)) {
      try { f(); out.codes[name] = 'ran'; } catch (e) { out.codes[name] = e.code; }
    }
    // The child of a spawn that ran: in its contract's cgroup?
    const latest = () => { try { return ct.latest().ctid; } catch (e) {
      return e.code; } };
    if (out.codes.spawn === 'ran') {
      const child = cp.spawn('sh', ['-c', 'cat /proc/self/cgroup'],
        { stdio: ['ignore', 'pipe', 'ignore'] });
      out.cgroup = '';
      child.stdout.on('data', (d) => { out.cgroup += d; });
      child.on('close', () => { out.ctid = latest(); finish(); });
    } else {
      finish();
    }
    function finish() {
      ct.clear_template();
      // Without a template the preload changes nothing: a plain spawn runs.
      cp.execFileSync('touch', [mark('plain')]);
      console.log(JSON.stringify(out));
      process.exit(0);
    }
  `;
  const run = (forced) => nb.runWrapped(script(forced || 'auto'),
    (c) => ['env', `LD_PRELOAD=${preload}`, ...c], { env: {
      ILLUMOS_CONTRACT_ROOT: root, ILLUMOS_CONTRACT_MEMBERSHIP: 'cgroup',
      ...(forced ? { ILLUMOS_CONTRACT_SPAWN: forced } : {}) } });
  const forced = await run('atfork');
  assert.strictEqual(forced.code, 0, forced.err);
  const f = JSON.parse(forced.out);
  assert.deepStrictEqual(f.codes, { spawn: 'ENOTSUP', execFile: 'ENOTSUP',
    spawnSync: 'ENOTSUP', execSync: 'ENOTSUP', execFileSync: 'ENOTSUP' });
  assert.deepStrictEqual(fs.readdirSync(marks), ['atfork-plain'],
    'a child ran outside any contract');
  // Unforced, under the same preload: the shim, and the child is inside.
  const auto = await run(null);
  assert.strictEqual(auto.code, 0, auto.err);
  const a = JSON.parse(auto.out);
  assert.strictEqual(a.codes.spawn, 'ran');
  assert.match(a.cgroup, new RegExp(`^0::.*/${path.basename(root)}/` +
    `${a.ctid}$`, 'm'));
});

for (const membership of ['cgroup', 'reaper']) {
  test(`point 11 (${membership}): ctstat -v prints a hostile fmri, aux and ` +
    'creator with their control bytes escaped', async (t) => {
    const reg = membership === 'reaper' ? registry('esc') : cgRoot('esc');
    t.after(async () => {
      if (membership !== 'reaper') return removeCg(reg);
      await keeperLeaves(reg);	// it would make the registry again
      return h.reapRoot(reg);
    });
    const env = envWith({ ILLUMOS_CONTRACT_ROOT: reg,
      ILLUMOS_CONTRACT_MEMBERSHIP: membership });
    const holder = cp.spawn(process.execPath, ['-e', `
      const ct = require(${lib});
      // The creator is the holder's comm, which any process sets itself.
      process.title = 'c\\u001b[2Jc';
      ct.set_template({ type: 'process', svc_fmri: 'svc:/x\\u001b]0;owned\\u0007',
        svc_aux: 'a\\u009b31ma' });
      require('child_process').spawn('sleep', ['600'], { stdio: 'ignore' });
      ct.clear_template();
      const c = ct.latest();
      console.log(JSON.stringify({ ctid: c.ctid }));
      process.stdin.on('data', () => c.stop().then(() => process.exit(0)));
    `], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    const line = await h.once(holder.stdout, 'data', 10000);
    const { ctid } = JSON.parse(String(line));
    const s = cp.spawnSync(tool('ctstat'), ['-v', '-i', String(ctid)],
      { env, encoding: 'latin1', timeout: 15000 });
    holder.stdin.write('x\n');
    await h.once(holder, 'exit', 10000);
    assert.strictEqual(s.status, 0, s.stderr);
    assert.doesNotMatch(s.stdout, /[\x1b\x07\x9b]/);
    assert.match(s.stdout, /svc:\/x\\033\]0;owned\\007/);
    // C1 as UTF-8 (U+009B, CSI: c2 9b), each byte escaped.
    assert.match(s.stdout, /aux: +a\\302\\23331ma\n/);
    assert.match(s.stdout, /creator: +c\\033\[2Jc\n/);
  });

  // ctwatch prints no fmri, aux or creator; its untrusted strings are the
  // core paths of pr_core, which name the dumping member's cwd: a
  // directory a member names as it likes.
  test(`point 11 (${membership}): ctwatch -v prints a core path with its ` +
    'control bytes escaped', async (t) => {
    const pattern = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    if (pattern.startsWith('|') || pattern.trim().startsWith('/')) {
      t.skip(`core_pattern ${pattern.trim()} names no member's cwd`);
      return;
    }
    const reg = membership === 'reaper' ? registry('cw') : cgRoot('cw');
    const cores = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-sec-core-'));
    const dir = path.join(cores, 'd\x1b]0;owned\x07d');
    fs.mkdirSync(dir);
    const env = envWith({ ILLUMOS_CONTRACT_ROOT: reg,
      ILLUMOS_CONTRACT_MEMBERSHIP: membership, D: dir });
    // A contract held by ctrun: each line on its stdin makes a member
    // dump core in dir.
    const runner = cp.spawn(tool('ctrun'), ['-v', '-i', 'core', '--', 'sh',
      '-c', 'while read x; do (cd "$D" && ulimit -c unlimited && ' +
      'exec sh -c \'kill -SEGV $$\'); done'],
    { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let rout = '';
    runner.stdout.on('data', (d) => { rout += d; });
    runner.stderr.on('data', (d) => { rout += d; });
    let watcher = null;
    t.after(async () => {
      if (watcher !== null) watcher.kill('SIGKILL');
      runner.stdin.end();
      if (runner.exitCode === null && runner.signalCode === null) {
        await h.once(runner, 'exit', 10000);
      }
      fs.rmSync(cores, { recursive: true, force: true });
      if (membership !== 'reaper') return removeCg(reg);
      await keeperLeaves(reg);
      return h.reapRoot(reg);
    });
    await h.until(() => /created contract id \d+/.test(rout), 10000,
      'ctrun\'s contract');
    const id = rout.match(/created contract id (\d+)/)[1];
    watcher = cp.spawn(tool('ctwatch'), ['-v', id],
      { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let wout = '';
    watcher.stdout.setEncoding('latin1');
    watcher.stdout.on('data', (d) => { wout += d; });
    await h.until(() => /^CTID/.test(wout), 10000, 'ctwatch\'s header');
    // The path is worked out while the member dumps: a loaded machine can
    // miss that moment, so a few tries.
    for (let i = 0; i < 5 && !/process core:/.test(wout); i++) {
      runner.stdin.write('go\n');
      await h.until(() => (wout.match(/core dumped/g) || []).length > i ||
        /process core:/.test(wout), 10000, 'a pr_core line').catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(wout, /\tprocess core: .*\n/, wout);
    assert.doesNotMatch(wout, /[\x1b\x07]/);
    assert.match(wout, /\tprocess core: .*\/d\\033\]0;owned\\007d\/core/);
  });
}
