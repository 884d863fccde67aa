'use strict';
// Traces (docs/trace.md): trace: true in spawn()/run() options gives one
// record per process that was ever a member; ctrun --trace FILE writes
// them as Chrome Trace Event Format JSON or as a timeline page, which
// real headless Chromium renders.  Also: a 20,000-fork storm, and a
// closed connector (unshare -n) refusing trace: true with ENOTSUP.
const { test } = require('node:test');
const assert = require('node:assert');
const cp = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const h = require('../lib/helpers');

const reaper = process.env.ILLUMOS_CONTRACT_MEMBERSHIP === 'reaper';
h.useRoot(reaper ? 'trace-r' : 'trace');
const ct = require('../..');

const top = path.join(__dirname, '..', '..');
const ctrun = path.join(top, 'build', 'Release', 'ctrun');
const KEYS = ['pid', 'ppid', 'argv', 'startTime', 'endTime', 'exitCode',
  'signal', 'userCPUTime', 'systemCPUTime'];

function tmpdir(t) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-trace-'));
  t.after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function byArgv0(procs, name) {
  return procs.filter((p) => p.argv.length > 0 &&
    path.basename(p.argv[0]) === name);
}

test('run() with trace: true: one record per process, with argv, ' +
  'parents, times, exit codes and signals', async () => {
  const before = Date.now();
  const r = await ct.run('sh', ['-c',
    'sleep 0.5; (exit 3); sh -c "kill -TERM \\$\\$"; ' +
    '(setsid sh -c "sleep 0.3; true" &); true'],
  { trace: true, stdio: 'ignore' });
  const after = Date.now();
  const procs = r.processes;
  assert.ok(Array.isArray(procs));
  for (const p of procs) {
    for (const k of KEYS) assert.ok(k in p, `record has ${k}`);
    assert.ok(Number.isInteger(p.pid) && p.pid > 0);
    assert.ok(Array.isArray(p.argv));
    assert.ok(p.startTime >= before - 1 && p.startTime <= after,
      `startTime ${p.startTime} in [${before}, ${after}]`);
    assert.ok(p.endTime !== null && p.endTime >= p.startTime &&
      p.endTime <= after + 1);
    assert.ok(p.exitCode === null || p.signal === null);
    assert.ok(p.exitCode !== null || p.signal !== null,
      `pid ${p.pid} ended somehow`);
  }
  // The first process is the program itself, under this process.
  const [first] = procs;
  // (Under reaper membership too: the anchor is never a record.)
  assert.strictEqual(first.pid, r.pid);
  assert.strictEqual(first.ppid, process.pid);
  assert.deepStrictEqual(first.argv.slice(0, 2), ['sh', '-c']);
  assert.strictEqual(first.exitCode, 0);
  // Children are under it, with the argv of their exec: read at once
  // from /proc, so a process gone before that says so (docs/trace.md).
  const direct = procs.filter((p) => p.ppid === first.pid);
  const execd = direct.filter((p) => p.execTimes.length > 0);
  const sleep = execd.find((p) => p.argv[0] === 'sleep' ||
    (p.missed && p.missed.includes('argv')));
  assert.ok(sleep, 'sleep was recorded');
  if (!(sleep.missed && sleep.missed.includes('argv'))) {
    assert.deepStrictEqual(sleep.argv, ['sleep', '0.5']);
  }
  assert.strictEqual(sleep.exitCode, 0);
  assert.ok(sleep.endTime - sleep.startTime >= 450, 'it slept');
  // A death by signal, from the exit status itself.
  const killed = direct.filter((p) => p.signal !== null);
  assert.strictEqual(killed.length, 1);
  assert.strictEqual(killed[0].signal, 'SIGTERM');
  // The subshell that exits 3 is a fork of sh that never execs.
  const three = procs.filter((p) => p.exitCode === 3);
  assert.strictEqual(three.length, 1);
  assert.strictEqual(three[0].ppid, first.pid);
  assert.deepStrictEqual(three[0].argv, first.argv);
  assert.deepStrictEqual(three[0].execTimes, []);
  // The daemon (setsid, reparented) is there too, after its parent left.
  const daemon = procs.filter((p) => p.ppid !== first.pid &&
    p.pid !== first.pid);
  assert.ok(daemon.length >= 1, 'the setsid daemon was recorded');
  assert.ok(daemon.some((p) => p.endTime >= first.endTime - 1),
    'the daemon outlived the first process');
  // Every pid once (none reused in so short a run), parents known.
  const pids = new Set(procs.map((p) => p.pid));
  assert.strictEqual(pids.size, procs.length);
  for (const p of procs.slice(1)) assert.ok(pids.has(p.ppid), `${p.pid}'s parent`);
  // CPU: µs numbers, or null where the parent reaped it before we read.
  for (const p of procs) {
    assert.strictEqual(p.userCPUTime === null, p.systemCPUTime === null);
    if (p.userCPUTime !== null) assert.ok(p.userCPUTime >= 0);
    else assert.ok(p.missed.includes('cpu'));
  }
});

test('ct.trace() while the tree runs: endTime, exitCode and signal are null',
  async () => {
    const { child, contract } = ct.spawn('sh', ['-c', 'sleep 30 & wait'],
      { trace: true, stdio: 'ignore' });
    try {
      // What the wait needs is sleep's exec (the record takes its argv
      // then), which no event reports: the fork may come and go before
      // it, so waiting on pr_fork sat out a whole deadline when the fork
      // was already seen.  Poll the trace, with a scaled deadline.
      let recs;
      await h.until(() => byArgv0(recs = contract.trace(), 'sleep')
        .length === 1, 5000, 'sleep in the trace');
      const [s] = byArgv0(recs, 'sleep');
      assert.strictEqual(s.endTime, null);
      assert.strictEqual(s.exitCode, null);
      assert.strictEqual(s.signal, null);
      assert.strictEqual(s.userCPUTime, null);
      assert.strictEqual(recs[0].pid, child.pid);
      assert.strictEqual(recs[0].ppid, process.pid);
      await contract.stop({ signal: 'SIGKILL' });
      const done = contract.trace();
      assert.ok(done.every((p) => p.endTime !== null));
      assert.strictEqual(byArgv0(done, 'sleep')[0].signal, 'SIGKILL');
    } finally {
      contract.dispose();
    }
  });

test('trace is opt-in and type-checked', async () => {
  const { contract } = ct.spawn('true', [], { stdio: 'ignore' });
  try {
    assert.throws(() => contract.trace(), { code: 'ENOENT' });
  } finally {
    await contract.whenEmpty?.();
    contract.dispose();
  }
  assert.throws(() => ct.spawn('true', [], { trace: 'yes' }),
    { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  assert.strictEqual(ct.features.trace, true);
  const r = await ct.run('true', [], { stdio: 'ignore' });
  assert.ok(!('processes' in r));
});

test('where the proc connector is closed (unshare -n), trace: true ' +
  'throws ENOTSUP and features.trace is false', { skip: reaper }, () => {
  const script = `
    const ct = require(${JSON.stringify(top)});
    let code = null;
    try { ct.spawn('true', [], { trace: true, stdio: 'ignore' }); }
    catch (e) { code = e.code; }
    const r = ct.spawn('true', [], { stdio: 'ignore' });
    r.contract.dispose();
    console.log(JSON.stringify({ code, trace: ct.features.trace,
      fork: ct.features.events.pr_fork }));`;
  const out = cp.execFileSync('unshare', ['-n', process.execPath, '-e',
    script], { encoding: 'utf8', env: process.env });
  assert.deepStrictEqual(JSON.parse(out),
    { code: 'ENOTSUP', trace: false, fork: false });
});

test('a 20,000-fork storm with trace: true: every record, or the loss ' +
  'counted', { skip: reaper }, async (t) => {
  const storm = h.storm();
  const FORKS = 20000;
  const rss0 = process.memoryUsage().rss;
  const r = await ct.run(storm, [String(FORKS)], { trace: true,
    stdio: ['ignore', 'pipe', 'inherit'] });
  assert.strictEqual(Number(r.stdout.trim()), FORKS);
  const procs = r.processes;
  const lost = procs.lost || 0;
  const ended = procs.filter((p) => p.exitCode === 0).length;
  const incomplete = procs.filter((p) => p.missed &&
    (p.missed.includes('exit') || p.missed.includes('fork'))).length;
  t.diagnostic(`storm: ${procs.length} records, ${ended} with exit 0, ` +
    `${incomplete} incomplete, ${lost} connector overflows, ` +
    `rss +${((process.memoryUsage().rss - rss0) / 1024 / 1024).toFixed(1)} MiB`);
  if (lost === 0) {
    // Nothing dropped: the storm process and each of its forks, whole.
    assert.strictEqual(procs.length, FORKS + 1);
    assert.strictEqual(ended, FORKS + 1);
    assert.strictEqual(incomplete, 0);
  } else {
    // Dropped: said so, and what is recorded is marked where it is a bound.
    assert.ok(lost > 0);
    assert.ok(procs.length <= FORKS + 1 + incomplete);
  }
});

// A small C project, built with make -j4 under ctrun --trace.
function project(dir) {
  const objs = [];
  for (let i = 1; i <= 6; i++) {
    fs.writeFileSync(path.join(dir, `f${i}.c`),
      `int f${i}(int x) { return x * ${i}; }\n`);
    objs.push(`f${i}.o`);
  }
  fs.writeFileSync(path.join(dir, 'main.c'), 'int main(void) { return 0; }\n');
  objs.push('main.o');
  fs.writeFileSync(path.join(dir, 'Makefile'),
    `prog: ${objs.join(' ')}\n\tcc -o $@ ${objs.join(' ')}\n` +
    '%.o: %.c\n\tcc -O2 -c $< -o $@\n');
}

function traceOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) return JSON.parse(text);
  const m = /<script id="trace" type="application\/json">\n([^]*?)<\/script>/
    .exec(text);
  assert.ok(m, 'the page embeds the trace');
  return JSON.parse(m[1]);
}

test('ctrun --trace FILE.json: Chrome Trace Event Format of a make -j4 ' +
  'build', (t) => {
  const dir = tmpdir(t);
  project(dir);
  const file = path.join(dir, 'build.json');
  cp.execFileSync(ctrun, ['--trace', file, 'make', '-j4'],
    { cwd: dir, stdio: 'ignore', env: process.env });
  assert.ok(fs.existsSync(path.join(dir, 'prog')));
  const tr = traceOf(file);
  assert.ok(Array.isArray(tr.traceEvents));
  const xs = tr.traceEvents.filter((e) => e.ph === 'X');
  // make, and per object cc + cc1 + as, and the link (cc, collect2, ld).
  assert.ok(xs.length >= 1 + 7 * 3 + 1, `${xs.length} processes`);
  assert.strictEqual(xs[0].name, 'make');
  assert.deepStrictEqual(xs[0].args.argv, ['make', '-j4']);
  assert.strictEqual(xs.filter((e) => e.name === 'cc').length, 8);
  // Under reaper membership too: the anchor is never a record.
  assert.ok(xs.every((e) => e.name !== 'ct-exec'), 'no anchor');
  for (const e of xs) {
    assert.strictEqual(e.tid, e.pid);
    assert.ok(Number.isInteger(e.ts) && Number.isInteger(e.dur));
    assert.strictEqual(e.args.exit, 'exit 0');
    assert.ok(Number.isInteger(e.args.ppid));
  }
  // Nested: every record but the first comes after its parent.
  const seen = new Set([xs[0].pid]);
  for (const e of xs.slice(1)) {
    assert.ok(seen.has(e.args.ppid), `${e.name} after its parent`);
    seen.add(e.pid);
  }
  // exec as instant events; names for the tracks.
  assert.ok(tr.traceEvents.filter((e) => e.ph === 'i' && e.name === 'exec')
    .length >= xs.length - 1);
  assert.ok(tr.traceEvents.some((e) => e.ph === 'M' &&
    e.name === 'process_name' && e.args.name === 'make'));
});

function chromium() {
  const find = () => ['chromium', 'chromium-browser'].find((c) =>
    cp.spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
  if (find() === undefined) {
    const r = cp.spawnSync('sh', ['-c',
      'DEBIAN_FRONTEND=noninteractive apt-get install -y chromium'],
    { stdio: 'ignore', timeout: 240000 });
    if (r.status !== 0) return null;
  }
  return find() || null;
}

test('ctrun --trace FILE.html: one self-contained page; headless ' +
  'Chromium draws a row per process', { timeout: 280000 },
(t) => {
  const browser = chromium();
  if (browser === null) {
    t.skip('chromium is not installed and apt-get install chromium failed');
    return;
  }
  const dir = tmpdir(t);
  project(dir);
  const file = path.join(dir, 'build.html');
  cp.execFileSync(ctrun, ['--trace', file, 'make', '-j4'],
    { cwd: dir, stdio: 'ignore', env: process.env });
  const html = fs.readFileSync(file, 'utf8');
  // No network resource: nothing fetched, and the page's CSP forbids it.
  assert.ok(!/\b(src|href)\s*=/.test(html), 'no src= or href=');
  assert.ok(html.includes("default-src 'none'"));
  const n = traceOf(file).traceEvents.filter((e) => e.ph === 'X').length;
  const profile = path.join(dir, 'profile');
  // The browser is not ours: under npm run test:asan the ASan runtime
  // preloaded for the addon would go into it too, and Chromium with
  // gcc's libasan under it hangs (its own allocator and sandbox).
  const env = { ...process.env };
  for (const k of ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS']) delete env[k];
  const dom = cp.execFileSync(browser, ['--headless', '--no-sandbox',
    '--disable-gpu', `--user-data-dir=${profile}`, '--dump-dom',
    `file://${file}`], { encoding: 'utf8', timeout: h.ms(60000), env,
    stdio: ['ignore', 'pipe', 'ignore'] });
  assert.match(dom, new RegExp(`data-rendered="${n}"`));
  const rows = dom.match(/<div class="row" data-pid="\d+"/g) || [];
  assert.strictEqual(rows.length, n);
  assert.match(dom, /make -j4/);
  assert.ok((dom.match(/exit 0<\/div>/g) || []).length === n,
    'each row says how it ended');
});
