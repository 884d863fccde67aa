'use strict';
// A real container (docs/containers.md, "Containers recipe"): Debian's
// runc runs an OCI bundle made here -- `runc spec`'s defaults (namespaces
// pid, mount, ipc, uts and network; the cgroupfs mounted read-only; three
// capabilities; no_new_privs), a read-only root that is a nearly empty
// directory with the host's /usr and /etc bound read-only, the staged
// package at /pkg (read-only), tmpfs on /tmp and /run, and one writable
// bind, /out, where the processes inside leave their files.  Nothing else
// is set inside: the library chooses its membership and its registry
// itself (reaper, /dev/shm).
//
// (1) ctrun as PID 1, root: `runc kill ID TERM` reaches the trap of the
//     program, of a setsid daemon and of a worker in its own process group
//     (test/lib/inittree.sh); no zombie after 100 orphans; `runc run`
//     exits with the program's status.
// (2) the same as uid 1000, the program dying of its TERM (128 + 15).
// (3) node as PID 1 with the library: run() of a tree that leaves orphans,
//     no zombie left.
// runc itself is installed by .ci/run (like chromium); without it the
// file skips.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const { once } = require('events');
const nb = require('../lib/nobody');
const h = require('../lib/helpers');

function which(cmd) {
  for (const d of (process.env.PATH || '').split(':').concat(['/usr/sbin', '/sbin'])) {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return path.join(d, cmd);
    } catch {}
  }
  return null;
}

const runc = which('runc');
const skip = runc === null ? 'runc is not installed (.ci/run installs ' +
  "Debian's runc: apt-get install runc)" : process.getuid() !== 0 ?
  'runc needs root' : false;

const ORPHANS = 100;
let seq = 0;

// A bundle in a temp dir, and `runc run` of it in the background.  The
// caller's t.after removes both, whatever happened.
function container(t, { uid = 0, gid = 0, args, files = {} }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-runc-'));
  fs.chmodSync(dir, 0o755);
  const id = `ict-${process.pid}-${++seq}`;
  const state = path.join(dir, 'state'); // runc --root: ours alone
  const pkg = nb.stagePackage();
  for (const [name, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(pkg, name), text, { mode: 0o644 });
  }
  const out = path.join(dir, 'out');
  fs.mkdirSync(out, { mode: 0o755 });
  fs.chownSync(out, uid, gid);
  let p;
  let exited;
  t.after(async () => {
    if (p && p.exitCode === null && p.signalCode === null) {
      cp.spawnSync(runc, ['--root', state, 'kill', id, 'KILL']);
      p.kill('SIGKILL');
      await exited;
    }
    cp.spawnSync(runc, ['--root', state, 'delete', '-f', id]);
    fs.rmSync(pkg, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // The root: empty directories to mount on; /bin, /lib... as the host
  // has them (symlinks into /usr on a merged-/usr system, else binds).
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(rootfs, { mode: 0o755 });
  fs.chmodSync(rootfs, 0o755);
  const binds = [['/usr', '/usr'], ['/etc', '/etc'], [pkg, '/pkg']];
  for (const d of ['usr', 'etc', 'pkg', 'out', 'tmp', 'run', 'proc', 'dev', 'sys']) {
    fs.mkdirSync(path.join(rootfs, d), { mode: 0o755 });
  }
  for (const d of ['bin', 'sbin', 'lib', 'lib64', 'lib32', 'libx32']) {
    let st;
    try { st = fs.lstatSync(`/${d}`); } catch { continue; }
    if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(`/${d}`), path.join(rootfs, d));
    } else {
      fs.mkdirSync(path.join(rootfs, d), { mode: 0o755 });
      binds.push([`/${d}`, `/${d}`]);
    }
  }

  // runc's own default spec, then what this test changes.
  cp.execFileSync(runc, ['spec', '--bundle', dir]);
  const cfgFile = path.join(dir, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  cfg.root = { path: 'rootfs', readonly: true };
  cfg.hostname = id;
  const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  // Under test:asan the sanitizer runtime (under /usr) comes along.
  for (const k of ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS',
    'ILLUMOS_CONTRACT_TEST_SLOW']) {
    if (process.env[k] !== undefined) env.push(`${k}=${process.env[k]}`);
  }
  cfg.process = { ...cfg.process, terminal: false, cwd: '/', args, env,
    user: { uid, gid } };
  for (const [src, dst] of binds) {
    cfg.mounts.push({ destination: dst, type: 'bind', source: src,
      options: ['rbind', 'ro', 'nosuid', 'nodev'] });
  }
  cfg.mounts.push({ destination: '/out', type: 'bind', source: out,
    options: ['rbind', 'rw', 'nosuid', 'nodev'] });
  for (const d of ['/tmp', '/run']) {
    cfg.mounts.push({ destination: d, type: 'tmpfs', source: 'tmpfs',
      options: ['nosuid', 'nodev', 'mode=1777', 'size=16m'] });
  }
  // What the test relies on from runc's defaults: say so if they change.
  const ns = cfg.linux.namespaces.map((n) => n.type).sort();
  assert.deepStrictEqual(ns.filter((n) => n !== 'cgroup'),
    ['ipc', 'mount', 'network', 'pid', 'uts'], 'runc spec namespaces');
  const cg = cfg.mounts.find((m) => m.destination === '/sys/fs/cgroup');
  assert.ok(cg && cg.options.includes('ro'), 'runc mounts the cgroupfs read-only');
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 1));

  p = cp.spawn(runc, ['--root', state, 'run', '--bundle', dir, id],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (b) => { stdout += b; });
  p.stderr.on('data', (b) => { stderr += b; });
  exited = once(p, 'exit');
  const rc = (...a) => cp.spawnSync(runc, ['--root', state, ...a],
    { encoding: 'utf8' });
  return {
    id, out, rc,
    output: () => ({ stdout, stderr }),
    // PID 1's host pid, once runc says the container runs.
    pid: () => {
      const s = rc('state', id);
      if (s.status !== 0) return 0;
      const j = JSON.parse(s.stdout);
      return j.status === 'running' ? j.pid : 0;
    },
    // `runc run`'s exit: the container's PID 1's status.
    async exit(limit, what) {
      let timer;
      try {
        return await Promise.race([exited, new Promise((_, rej) => {
          timer = setTimeout(() => rej(new Error(`${what} did not exit; ` +
            `files: ${fs.readdirSync(out).join(' ')}; ${stderr}`)), h.ms(limit));
        })]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

const read = (d) => {
  const files = {};
  for (const f of fs.readdirSync(d)) {
    const q = path.join(d, f);
    if (fs.statSync(q).isFile()) files[f] = fs.readFileSync(q, 'utf8').trim();
  }
  return files;
};

async function ctrunInit(t, { uid, gid, code }) {
  const c = container(t, { uid, gid,
    files: { 'inittree.sh': fs.readFileSync(path.join(__dirname, '..', 'lib',
      'inittree.sh')) },
    args: ['/pkg/build/Release/ctrun', '--', 'sh', '/pkg/inittree.sh', '/out',
      String(ORPHANS), String(h.ms(3000) / 10), code] });
  await h.until(() => ['ready', 'daemon.pid', 'worker.pid'].every((f) =>
    fs.existsSync(path.join(c.out, f))), 10000,
  'the tree to be ready');
  const init = c.pid();
  assert.ok(init > 0, 'runc state: running');
  // As the container sees itself: ctrun is PID 1, as the asked uid, and
  // the library chose reaper membership with its registry in /dev/shm.
  assert.strictEqual(fs.readFileSync(`/proc/${init}/comm`, 'utf8').trim(), 'ctrun');
  const status = fs.readFileSync(`/proc/${init}/status`, 'utf8');
  assert.match(status, new RegExp(`^NSpid:\\s+${init}\\s+1$`, 'm'));
  assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s`, 'm'));
  const shm = fs.readdirSync(`/proc/${init}/root/dev/shm`);
  assert.ok(shm.includes(`illumos-contract-${uid}`),
    `the registry in the container's /dev/shm: ${shm}`);
  const k = c.rc('kill', c.id, 'TERM');
  assert.strictEqual(k.status, 0, k.stderr);
  const [status1, signal] = await c.exit(10000, 'ctrun');
  return { code: status1, signal, files: read(c.out), ...c.output() };
}

function check(r, code) {
  assert.strictEqual(r.signal, null, r.stderr);
  assert.strictEqual(r.code, code, r.stderr);
  for (const who of ['program', 'daemon', 'worker']) {
    assert.strictEqual(r.files[`${who}.trap`], 'trapped',
      `${who}'s TERM trap ran: ${JSON.stringify(r.files)}`);
  }
  assert.strictEqual(r.files.zombies, '0', 'no zombie after the orphans exited');
}

test('runc: ctrun as PID 1, root, read-only root fs: TERM reaches every ' +
  "trap, no zombie, runc run exits with the program's code", { skip },
async (t) => {
  check(await ctrunInit(t, { uid: 0, gid: 0, code: '7' }), 7);
});

test('runc: ctrun as PID 1, uid 1000, read-only root fs: the same; a ' +
  'program killed by its TERM gives 128 + 15', { skip }, async (t) => {
  check(await ctrunInit(t, { uid: 1000, gid: 1000, code: 'signal' }), 128 + 15);
});

// Inside: run() of a tree whose two subshells leave orphans (they come to
// the anchor, its subreaper) and whose setsid daemon outlives the
// program; then every zombie of the namespace is counted from /proc until
// none is left, or the deadline.
const nodeScript = `
const ct = require('/pkg');
const fs = require('fs');
const SLOW = Number(process.env.ILLUMOS_CONTRACT_TEST_SLOW) || 1;
const states = () => fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p))
  .map((p) => {
    try {
      const s = fs.readFileSync('/proc/' + p + '/stat', 'utf8');
      return [p, s.slice(s.lastIndexOf(')') + 2)[0]];
    } catch { return [p, 'X']; }
  });
const until = async (f, n) => {
  const end = Date.now() + n * SLOW;
  while (!f() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
};
(async () => {
  const out = { pid: process.pid, uid: process.getuid(),
    membership: ct.features.membership,
    events: Object.keys(ct.features.events).filter((k) => ct.features.events[k]) };
  const r = await ct.run('/bin/sh', ['-c', '(sleep 0.2 &); (sleep 0.3 &); ' +
    '(setsid sh -c "sleep 0.4; echo > /out/daemon" &); exit 4'],
  { stdio: 'ignore', reject: false });
  out.code = r.code;
  out.daemonDone = fs.existsSync('/out/daemon');
  // Every other process gone (the anchor, the keeper), then no zombie.
  await until(() => states().every(([p, s]) => p === '1' || s === 'Z'), 5000);
  await until(() => states().every(([, s]) => s !== 'Z'), 5000);
  out.left = states().filter(([p]) => p !== '1');
  fs.writeFileSync('/out/result', JSON.stringify(out));
})().catch((e) => { fs.writeFileSync('/out/error', String(e.stack)); process.exit(1); });
`;

test('runc: node as PID 1 with the library, read-only root fs: run() of a ' +
  'tree that leaves orphans, no zombie left', { skip }, async (t) => {
  const c = container(t, { files: { 'init.js': nodeScript },
    args: ['node', '/pkg/init.js'] });
  const [code, signal] = await c.exit(10000, 'node');
  const files = read(c.out);
  assert.deepStrictEqual([code, signal], [0, null],
    `${files.error || ''} ${c.output().stderr}`);
  const o = JSON.parse(files.result);
  assert.strictEqual(o.pid, 1, 'node is PID 1');
  assert.strictEqual(o.membership, 'reaper');
  // Its own network namespace: no proc connector, pr_empty alone.
  assert.deepStrictEqual(o.events, ['pr_empty']);
  assert.deepStrictEqual({ code: o.code, daemonDone: o.daemonDone },
    { code: 4, daemonDone: true });
  assert.deepStrictEqual(o.left, [], 'no process and no zombie left');
});
