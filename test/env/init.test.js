'use strict';
// ctrun as a container's init (docs/containers.md, "PID 1"; ctrun(1),
// INIT): PID 1 of a new pid namespace, or -s a subreaper in one, over the
// tree of test/lib/inittree.sh -- a program, a setsid daemon, a worker in
// its own process group, each trapping TERM, and 1,000 orphans (100 in the
// cases after the first two, which fork less on a shared host).  One
// SIGTERM to the init must reach every trap; no zombie may be left; the
// init exits with the program's status.  Membership is forced per case
// (cgroup with a writable cgroupfs as root; reaper in a simulated
// container, read-only cgroupfs, as root and as nobody).
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const { once } = require('events');
const nb = require('../lib/nobody');
const h = require('../lib/helpers');

const pkg = nb.stagePackage();
const ctrun = path.join(pkg, 'build', 'Release', 'ctrun');
const tree = path.join(pkg, 'inittree.sh');
fs.copyFileSync(path.join(__dirname, '..', 'lib', 'inittree.sh'), tree);
fs.chmodSync(tree, 0o644);
const cgRoot = h.cgroupRoot('init');
const dirs = [];
after(() => {
  for (const d of dirs) {
    h.reapRoot(path.join(d, 'illumos-contract'));
    fs.rmSync(d, { recursive: true, force: true });
  }
  fs.rmSync(pkg, { recursive: true, force: true });
});

const ORPHANS = 1000;

// A directory for the traps' files (and the registry), nobody's if asked.
function scratch(nobody) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-init-'));
  fs.chmodSync(d, 0o755);
  if (nobody) {
    const { uid, gid } = nb.nobodyIds();
    fs.chownSync(d, uid, gid);
  }
  dirs.push(d);
  return d;
}

const comm = (p) => {
  try { return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim(); } catch {
    return '';
  }
};

/*
 * Run ctrun [opts] -- sh inittree.sh in a new pid namespace: as its PID 1,
 * or (subreaper) as the child of a shell that is PID 1.  container: also
 * a network namespace and the cgroupfs read-only, as a container has it.
 * Resolves { code, signal, files } after one SIGTERM to ctrun.
 */
async function runInit({ membership, container = false, nobody = false,
  subreaper = false, opts = [], code = '7', orphans = ORPHANS }) {
  const d = scratch(nobody);
  const argv = [ctrun, ...(subreaper ? ['-s'] : []), ...opts, '--', 'sh',
    tree, d, String(orphans), String(h.ms(3000) / 10), code];
  const inner = nobody ? nb.asNobody(argv) : argv;
  // In the subreaper case sh stays PID 1 (it would not reap) and hands on
  // ctrun's status.
  const run = subreaper ? '"$@"; exit $?' : 'exec "$@"';
  const pre = container ? 'mount -o remount,bind,ro "$0" && ' : '';
  const cmd = ['unshare', '--kill-child', ...(container ? ['-m', '-n'] : []), '-p', '-f',
    '--mount-proc', 'sh', '-c', pre + run, h.cgroup2Mount(), ...inner];
  const env = { PATH: process.env.PATH, ILLUMOS_CONTRACT_MEMBERSHIP: membership,
    XDG_RUNTIME_DIR: d };
  if (membership === 'cgroup') env.ILLUMOS_CONTRACT_ROOT = cgRoot;
  for (const k of ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  const p = cp.spawn(cmd[0], cmd.slice(1), { env, cwd: os.tmpdir(),
    stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (b) => { err += b; });
  const exited = once(p, 'exit');
  let init;
  try {
    await h.until(() => ['ready', 'daemon.pid', 'worker.pid'].every((f) =>
      fs.existsSync(path.join(d, f))), 120000, 'the tree to be ready');
    await h.until(() => (init = h.descendants(p.pid).find((q) =>
      comm(q) === 'ctrun')) !== undefined, 5000, 'ctrun');
    process.kill(init, 'SIGTERM');
    let timer;
    const [c, signal] = await Promise.race([exited, new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error('the init did not exit; left: ' +
        h.descendants(p.pid).map((q) => `${q} ${comm(q)}`).join(', ') +
        `; files: ${fs.readdirSync(d).join(' ')}; ${err}`)), h.ms(60000));
    })]).finally(() => clearTimeout(timer));
    const files = {};
    for (const f of fs.readdirSync(d)) {
      if (!fs.statSync(path.join(d, f)).isFile()) continue;
      files[f] = fs.readFileSync(path.join(d, f), 'utf8').trim();
    }
    const left = h.contractDirs(path.join(d, 'illumos-contract'));
    return { code: c, signal, files, err, left };
  } finally {
    if (p.exitCode === null && p.signalCode === null) {
      // --kill-child does not reach an init that changed its uid.
      if (init !== undefined) try { process.kill(init, 'SIGKILL'); } catch {}
      p.kill('SIGKILL');
      await exited;
    }
  }
}

function check(r, code) {
  assert.strictEqual(r.code, code, r.err);
  for (const who of ['program', 'daemon', 'worker']) {
    assert.strictEqual(r.files[`${who}.trap`], 'trapped',
      `${who}'s TERM trap ran: ${JSON.stringify(r.files)}`);
  }
  assert.strictEqual(r.files.zombies, '0', 'no zombie after the orphans exited');
  assert.deepStrictEqual(r.left, [], 'no contract left in the registry');
}


test('PID 1, cgroup membership: SIGTERM stops the whole tree, the ' +
  "program's exit code is ctrun's", async () => {
  check(await runInit({ membership: 'cgroup' }), 7);
});

test('PID 1 in a container (reaper membership, read-only cgroupfs), ' +
  'as root: a program killed by its TERM gives 128 + 15', async () => {
  check(await runInit({ membership: 'reaper', container: true,
    code: 'signal' }), 128 + 15);
});

test('PID 1 in a container (reaper membership, read-only cgroupfs), ' +
  'as nobody', async () => {
  check(await runInit({ membership: 'reaper', container: true,
    nobody: true, orphans: 100 }), 7);
});

test('-s: a subreaper that is not PID 1 reaps and stops the same way ' +
  '(cgroup and reaper membership)', async () => {
  check(await runInit({ membership: 'cgroup', subreaper: true,
    orphans: 100 }), 7);
  check(await runInit({ membership: 'reaper', subreaper: true,
    nobody: true, orphans: 100 }), 7);
});

// Reaper membership in a network namespace of its own: no proc connector,
// whose events a loaded host (other suites' forks) may delay.
const quiet = (d) => ({ PATH: process.env.PATH,
  ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper', XDG_RUNTIME_DIR: d });

// The members that catch USR1 wait in short sleeps, never in a long one
// forked just before the signal: a shell's fork that has not yet exec'd
// sleep runs the shell's USR1 handler (it only sets a flag), then execs and
// lives on with the signal spent -- a `sleep 1000` that never ends kept
// the contract, and so ctrun, alive (a full npm test once, 2026-12-02).
test('the grace period ends in SIGKILL of every member that ignores TERM; ' +
  '-g sends every signal to every member', async () => {
  // A member that ignores TERM: ctrun exits once it is SIGKILLed.
  const d = scratch(false);
  const r = cp.spawnSync('unshare', ['--kill-child', '-n', '-p', '-f', '--mount-proc',
    ctrun,
    '-k', '0.2', '--', 'sh', '-c',
    `(setsid sh -c 'trap "" TERM; sleep 1000 & echo $$ > ${d}/ign; wait' &)
     until [ -f ${d}/ign ]; do sleep 0.01; done; kill -TERM 1; sleep 1000`],
  { env: quiet(d), timeout: h.ms(60000), killSignal: 'SIGKILL' });
  assert.strictEqual(r.status, 128 + 15, String(r.stderr));
  // -g: SIGUSR1 reaches the setsid daemon too.
  const g = cp.spawnSync('unshare', ['--kill-child', '-n', '-p', '-f', '--mount-proc',
    ctrun,
    '-g', '--', 'sh', '-c',
    `(setsid sh -c 'trap "echo > ${d}/usr1; exit 0" USR1; echo > ${d}/d; ` +
    `while :; do sleep 0.05; done' &)
     trap 'exit 3' USR1
     until [ -f ${d}/d ]; do sleep 0.01; done; kill -USR1 1
     while :; do sleep 0.05; done`],
  { env: quiet(d), timeout: h.ms(60000), killSignal: 'SIGKILL' });
  // The program's trap exits 3; the daemon's wrote its file and exited.
  assert.strictEqual(g.status, 3, String(g.stderr));
  assert.ok(fs.existsSync(path.join(d, 'usr1')), 'the daemon got SIGUSR1');
});

test('usage: -g and -k need init; -l none is not for an init', () => {
  for (const [args, re] of [[['-g', 'true'], /-g and -k need -s/],
    [['-k', '1', 'true'], /-g and -k need -s/],
    [['-s', '-k', 'x', 'true'], /invalid grace period/],
    [['-s', '-l', 'none', 'true'], /-l none cannot be used as init/]]) {
    const r = cp.spawnSync(ctrun, args);
    assert.strictEqual(r.status, 125);
    assert.match(String(r.stderr), re);
  }
});
