'use strict';
// init: ctrun as a container's PID 1 beside Debian's tini and dumb-init
// (docs/containers.md, "PID 1"; docs/performance.md).  Each init is PID 1
// of a new pid namespace (unshare -p -f --mount-proc) over the tree of
// test/lib/inittree.sh: a program, a setsid daemon and a worker in its own
// process group, each trapping TERM by writing a file, and 1,000 orphans
// that exit first.  Then one SIGTERM to the init.  Per init:
//
//   trapped      who got SIGTERM and ran its trap (its file exists);
//   killed       the others: SIGKILLed, by the init after its grace
//                period or by the kernel when PID 1 exits;
//   zombies      left in the namespace after the 1,000 orphan exits (the
//                tree counts them until none is left or 2 s passed);
//   term_ms      from the SIGTERM until the init has exited;
//   code         the init's exit status (the program's trap exits 0);
//   start_ms     `INIT -- true` from fork to exit, median of 50, minus a
//                plain `true` (not PID 1: ctrun -s, tini -s, dumb-init);
//   rss_kib      the init's resident set while the tree runs;
//   bytes        the init's file(s): ctrun with the two helpers it runs
//                (ct-exec, ct-keeper).
//
// ctrun runs twice: cgroup membership, and reaper membership in a
// simulated container (network namespace too, cgroupfs read-only).
// tini and dumb-init are installed with apt-get when missing (as root);
// an init that cannot be had is reported as such, not measured.
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const { once } = require('events');
const { cgroup2Mount, removeRoot, atExit, nowNs, round, log, done,
  quantile } = require('./common');

const top = path.join(__dirname, '..');
const rel = path.join(top, 'build', 'Release');
const ctrun = path.join(rel, 'ctrun');
const tree = path.join(top, 'test', 'lib', 'inittree.sh');
const ORPHANS = Number(process.env.ICT_BENCH_INIT_ORPHANS) || 1000;
const STARTS = 50;
const cgRoot = path.join(cgroup2Mount(), `ict-bench-init-${process.pid}`);
atExit(() => removeRoot(cgRoot));

function have(cmd) {
  return cp.spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

// Debian's packages, once; false when they cannot be installed.
function install() {
  if (have('tini') && have('dumb-init')) return true;
  if (process.getuid() !== 0) return false;
  log('init: apt-get install -y tini dumb-init');
  const r = cp.spawnSync('sh', ['-c', 'apt-get install -y -qq tini dumb-init ' +
    '|| { apt-get update -qq && apt-get install -y -qq tini dumb-init; }'],
  { stdio: ['ignore', 'ignore', 'inherit'] });
  return r.status === 0 && have('tini') && have('dumb-init');
}

const which = (cmd) => cp.execFileSync('sh', ['-c', `command -v ${cmd}`])
  .toString().trim();

const comm = (p) => {
  try { return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim(); } catch {
    return '';
  }
};

function descendants(pid) {
  const out = [];
  for (let i = -1; i < out.length; i++) {
    const p = i < 0 ? pid : out[i];
    let tasks = [];
    try { tasks = fs.readdirSync(`/proc/${p}/task`); } catch { continue; }
    for (const t of tasks) {
      try {
        for (const k of fs.readFileSync(`/proc/${p}/task/${t}/children`,
          'utf8').split(' ')) if (k.trim()) out.push(Number(k));
      } catch { /* gone */ }
    }
  }
  return out;
}

async function until(cond, ms) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

function rssKib(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`,
      'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function oneRun(init) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-bench-init-'));
  try {
    const pre = init.container ? 'mount -o remount,bind,ro "$0" && ' : '';
    const cmd = ['unshare', '--kill-child',
      ...(init.container ? ['-m', '-n'] : []), '-p', '-f', '--mount-proc',
      'sh', '-c', `${pre}exec "$@"`, cgroup2Mount(), ...init.argv, 'sh',
      tree, d, String(ORPHANS), '200', '0'];
    const env = { PATH: process.env.PATH, XDG_RUNTIME_DIR: d,
      ILLUMOS_CONTRACT_ROOT: init.membership === 'cgroup' ? cgRoot : undefined,
      ILLUMOS_CONTRACT_MEMBERSHIP: init.membership };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const p = cp.spawn(cmd[0], cmd.slice(1), { env, stdio: 'ignore' });
    const exited = once(p, 'exit');
    const ready = await until(() => ['ready', 'daemon.pid', 'worker.pid']
      .every((f) => fs.existsSync(path.join(d, f))), 180000);
    const pid = descendants(p.pid).find((q) => comm(q) === init.comm);
    if (!ready || pid === undefined) {
      p.kill('SIGKILL');
      await exited;
      return { error: 'the tree did not start' };
    }
    const rss = rssKib(pid);
    const t0 = nowNs();
    process.kill(pid, 'SIGTERM');
    const [code, signal] = await exited;
    const termMs = Number(nowNs() - t0) / 1e6;
    const trapped = ['program', 'daemon', 'worker'].filter((w) =>
      fs.existsSync(path.join(d, `${w}.trap`)));
    return {
      trapped,
      killed: ['program', 'daemon', 'worker'].filter((w) =>
        !trapped.includes(w)),
      zombies: Number(fs.readFileSync(path.join(d, 'zombies'), 'utf8')),
      term_ms: round(termMs, 1),
      code: signal !== null ? signal : code,
      rss_kib: rss,
    };
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
}

// fork to exit of argv, median ms of STARTS, not PID 1.
function startMs(argv, env) {
  const xs = [];
  for (let i = 0; i < STARTS; i++) {
    const t0 = nowNs();
    cp.spawnSync(argv[0], argv.slice(1), { env, stdio: 'ignore' });
    xs.push(Number(nowNs() - t0) / 1e6);
  }
  return quantile(xs, 0.5);
}

const size = (files) => files.reduce((n, f) => n + fs.statSync(f).size, 0);

async function main() {
  const ok = install();
  const inits = [
    { name: 'ctrun (cgroup)', comm: 'ctrun', membership: 'cgroup',
      argv: [ctrun, '--'], start: [ctrun, '-s', '--', 'true'],
      files: [ctrun, path.join(rel, 'ct-exec'), path.join(rel, 'ct-keeper')] },
    { name: 'ctrun (reaper, container)', comm: 'ctrun', membership: 'reaper',
      container: true, argv: [ctrun, '--'], start: [ctrun, '-s', '--', 'true'],
      files: [ctrun, path.join(rel, 'ct-exec'), path.join(rel, 'ct-keeper')] },
  ];
  if (ok) {
    const tini = which('tini');
    const dumb = which('dumb-init');
    inits.push(
      { name: 'tini', comm: 'tini', argv: [tini, '--'],
        start: [tini, '-s', '--', 'true'], files: [tini] },
      { name: 'tini -g', comm: 'tini', argv: [tini, '-g', '--'],
        start: [tini, '-s', '-g', '--', 'true'], files: [tini] },
      { name: 'dumb-init', comm: 'dumb-init', argv: [dumb],
        start: [dumb, 'true'], files: [dumb] });
  } else {
    log('init: tini and dumb-init are missing and cannot be installed ' +
      '(apt-get as root): ctrun alone');
  }
  const base = startMs(['true'], process.env);
  const out = { orphans: ORPHANS, inits: {}, missing: ok ? [] :
    ['tini', 'dumb-init'] };
  for (const init of inits) {
    log(`init: ${init.name}`);
    const r = await oneRun(init);
    const env = { ...process.env, ILLUMOS_CONTRACT_ROOT: init.membership ===
      'reaper' ? undefined : cgRoot };
    if (init.membership === 'reaper') {
      env.ILLUMOS_CONTRACT_MEMBERSHIP = 'reaper';
      env.ILLUMOS_CONTRACT_ROOT = fs.mkdtempSync(path.join(os.tmpdir(),
        'ict-bench-init-reg-'));
    }
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    r.start_ms = round(startMs(init.start, env) - base, 2);
    if (init.membership === 'reaper') {
      fs.rmSync(env.ILLUMOS_CONTRACT_ROOT, { recursive: true, force: true });
    }
    r.bytes = size(init.files);
    out.inits[init.name] = r;
    log(`init: ${init.name}: ${JSON.stringify(r)}`);
  }
  done(out);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
