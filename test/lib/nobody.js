'use strict';
// Running the library as `nobody`: a copy of the built package that
// nobody can read (the clone may sit under a 0700 home), and a cgroup
// delegated to nobody the way systemd's Delegate=yes does it.
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const { once } = require('events');
const h = require('./helpers');

const top = path.join(__dirname, '..', '..');

function copy(src, dst) {
  const st = fs.statSync(src);
  if (st.isDirectory()) {
    fs.mkdirSync(dst, { recursive: true, mode: 0o755 });
    for (const e of fs.readdirSync(src)) copy(path.join(src, e), path.join(dst, e));
  } else {
    fs.copyFileSync(src, dst);
    fs.chmodSync(dst, st.mode & 0o111 ? 0o755 : 0o644);
  }
}

// Stage index.js, lib/, the build products and node-gyp-build.
function stagePackage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-pkg-'));
  fs.chmodSync(dir, 0o755);
  for (const f of ['index.js', 'package.json', 'lib']) {
    copy(path.join(top, f), path.join(dir, f));
  }
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.chmodSync(path.join(dir, 'build'), 0o755);
  fs.chmodSync(path.join(dir, 'build', 'Release'), 0o755);
  // The addon and its helper programs (ct-exec, ct-keeper, the ct tools).
  const rel = path.join(top, 'build', 'Release');
  for (const f of fs.readdirSync(rel)) {
    if (fs.statSync(path.join(rel, f)).isFile()) {
      copy(path.join(rel, f), path.join(dir, 'build', 'Release', f));
    }
  }
  copy(path.join(top, 'node_modules', 'node-gyp-build'),
    path.join(dir, 'node_modules', 'node-gyp-build'));
  fs.chmodSync(path.join(dir, 'node_modules'), 0o755);
  return dir;
}

function nobodyIds() {
  const uid = Number(cp.execFileSync('id', ['-u', 'nobody']).toString());
  const gid = Number(cp.execFileSync('id', ['-g', 'nobody']).toString());
  return { uid, gid };
}

// A cgroup chowned to nobody like systemd delegates one.
function delegatedCgroup(tag) {
  const dir = path.join(h.cgroup2Mount(), `ict-deleg-${tag}-${process.pid}`);
  fs.mkdirSync(dir);
  const { uid, gid } = nobodyIds();
  for (const f of ['', 'cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control']) {
    fs.chownSync(path.join(dir, f), uid, gid);
  }
  return dir;
}

function removeCgroup(dir) {
  h.killTree(dir);
  try { fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1'); } catch {}
  const deadline = Date.now() + 5000;
  for (;;) {
    try { fs.rmdirSync(dir); return; } catch (e) {
      if (e.code === 'ENOENT' || Date.now() > deadline) return;
    }
    cp.spawnSync('sleep', ['0.01']);
  }
}

// Run node on script with argv = wrap(node, scriptFile); {code, out, err}.
async function runWrapped(script, wrap, { env = {}, timeout = 30000, cwd } = {}) {
  const scriptFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ict-s-')),
    'script.js');
  fs.chmodSync(path.dirname(scriptFile), 0o755);
  fs.writeFileSync(scriptFile, script, { mode: 0o644 });
  const argv = wrap([process.execPath, scriptFile]);
  const childEnv = { PATH: process.env.PATH, ...env };
  // Under test:asan the sanitizer runtime must come along.
  // ... and the deadline scale (helpers.js, ms()) for its own waits.
  for (const k of ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS',
    'ILLUMOS_CONTRACT_TEST_SLOW']) {
    if (process.env[k] !== undefined) childEnv[k] = process.env[k];
  }
  const p = cp.spawn(argv[0], argv.slice(1), {
    env: childEnv, cwd: cwd || os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  let exit;
  try {
    exit = await once(p, 'exit', { signal: AbortSignal.timeout(h.ms(timeout)) });
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
    p.kill('SIGKILL');
    exit = await once(p, 'exit');
  } finally {
    fs.rmSync(path.dirname(scriptFile), { recursive: true, force: true });
  }
  const [code, signal] = exit;
  return { code, signal, out, err };
}

function asNobody(cmd) {
  const { uid, gid } = nobodyIds();
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups',
    '--', ...cmd];
}

// Run node as nobody (optionally inside cgroup dir); resolve {code, out, err}.
function runAsNobody(script, { cgroup, ...opts } = {}) {
  return runWrapped(script, (cmd) => (cgroup
    ? ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup,
      ...asNobody(cmd)]
    : asNobody(cmd)), opts);
}

/*
 * Run node in a simulated container: new mount and network namespaces
 * (and with pidns a pid namespace, node as its PID 1), the cgroup2 mount
 * remounted read-only inside; as root, or as nobody.
 */
function runContained(script, { nobody = false, pidns = false, ...opts } = {}) {
  return runWrapped(script, (cmd) => ['unshare', '-m', '-n',
    ...(pidns ? ['-p', '-f', '--mount-proc'] : []),
    'sh', '-c', 'mount -o remount,bind,ro "$0" && exec "$@"',
    h.cgroup2Mount(), ...(nobody ? asNobody(cmd) : cmd)], opts);
}

module.exports = {
  stagePackage, delegatedCgroup, removeCgroup, runAsNobody, runContained,
  nobodyIds, runWrapped, asNobody,
};
