'use strict';
// Node as PID 1 (docs/containers.md, "Node as PID 1"; CMD ["node",
// "server.js"]): node with the library, PID 1 of a new pid namespace
// (unshare -p -f --mount-proc), reaps the zombies handed to it -- the
// orphans of a contract's tree, its own keeper and anchors -- and never
// one that libuv or spawnSync waits for.  Each script below runs inside
// and prints what it saw as one JSON line; zombies are counted from the
// namespace's own /proc.  Cases under both memberships: cgroup (root, a
// writable cgroupfs) and reaper (a simulated container: -m -n, the
// cgroupfs read-only).
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

const lib = path.join(__dirname, '..', '..');
const cgRoot = h.cgroupRoot('nodeinit');
const dirs = [];
after(() => {
  for (const d of dirs) {
    h.reapRoot(path.join(d, 'illumos-contract'));
    fs.rmSync(d, { recursive: true, force: true });
  }
});

// What every script starts with: the library, and the namespace's zombies.
const prelude = `
const ct = require(${JSON.stringify(lib)});
const cp = require('child_process');
const fs = require('fs');
const { once } = require('events');
const sleep = (n) => new Promise((r) => setTimeout(r, n));
const zombies = () => fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p))
  .filter((p) => {
    try {
      const s = fs.readFileSync('/proc/' + p + '/stat', 'utf8');
      return s.slice(s.lastIndexOf(')') + 2)[0] === 'Z';
    } catch { return false; }
  }).map((p) => p + ' ' + fs.readFileSync('/proc/' + p + '/comm', 'utf8')
    .trim());
// Only our own processes left: the kernel's view settles, then we count.
const settled = async () => {
  for (let i = 0; i < 200; i++) {
    const live = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p) &&
      p !== '1').filter((p) => {
      try {
        const s = fs.readFileSync('/proc/' + p + '/stat', 'utf8');
        return s.slice(s.lastIndexOf(')') + 2)[0] !== 'Z';
      } catch { return false; }
    });
    if (live.length === 0) break;
    await sleep(25);
  }
  await sleep(200); // the last SIGCHLD's reap
};
const out = { pid: process.pid, membership: ct.features.membership };
const done = () => { process.stdout.write(JSON.stringify(out) + '\\n'); process.exit(0); };
`;

// (a) run() of a tree that leaves two orphans behind.
const orphans = prelude + `
(async () => {
  const r = await ct.run('/bin/sh', ['-c', '(sleep 0.2 &); (sleep 0.3 &); sleep 1'],
    { stdio: 'ignore', reject: false });
  out.code = r.code;
  await settled();
  out.zombies = zombies();
  done();
})();
`;

// (b) plain children keep their 'exit', execFileSync its output, while
// orphans (of a plain child and of contracts) are reaped all along.
const concurrent = prelude + `
const within = (p, n, what) => Promise.race([p, sleep(n).then(() => {
  throw new Error(what + ' lost');
})]);
(async () => {
  const factory = cp.spawn('sh', ['-c',
    'i=0; while [ $i -lt 300 ]; do (true &); i=$((i+1)); done'], { stdio: 'ignore' });
  const factoryExit = once(factory, 'exit'); // it may end before we look
  const trees = [];
  for (let i = 0; i < 4; i++) {
    trees.push(ct.run('/bin/sh', ['-c', 'for i in 1 2 3 4 5 6 7 8; do (true &); done; exit 3'],
      { stdio: 'ignore', reject: false }));
  }
  // A worker that loaded the library spawns too: its spawns in flight
  // hold off the main thread's reaps, and the other way round.
  const { Worker } = require('worker_threads');
  const worker = new Worker(
    'const ct = require(' + JSON.stringify(${JSON.stringify(lib)}) + ');' +
    "const cp = require('child_process');" +
    "const { once } = require('events');" +
    "const { parentPort } = require('worker_threads');" +
    '(async () => { const r = { codes: [], outputs: [] };' +
    'for (let i = 0; i < 15; i++) {' +
    "  const c = cp.spawn('sh', ['-c', 'exit 5'], { stdio: 'ignore' });" +
    "  r.codes.push((await once(c, 'exit'))[0]);" +
    "  r.outputs.push(cp.execFileSync('sh', ['-c', 'echo w$0', String(i)]).toString());" +
    '}' +
    // Still running when the worker ends: nobody waits for it then, and
    // its zombie is ours to reap.
    "cp.spawn('sleep', ['0.5'], { stdio: 'ignore' });" +
    'parentPort.postMessage(r); })();', { eval: true });
  const fromWorker = once(worker, 'message');
  out.codes = [];
  out.outputs = [];
  out.errors = [];
  for (let i = 0; i < 30; i++) {
    try {
      const c = cp.spawn('sh', ['-c', 'exit 7'], { stdio: 'ignore' });
      const [code] = await within(once(c, 'exit'), 10000, "a plain child's 'exit'");
      out.codes.push(code);
      out.outputs.push(cp.execFileSync('sh', ['-c', 'echo out$0', String(i)]).toString());
    } catch (e) {
      out.errors.push(String(e.message));
    }
  }
  try {
    out.factory = (await within(factoryExit, 30000, "the factory's 'exit'"))[0];
    out.trees = (await within(Promise.all(trees), 30000, 'run()')).map((r) => r.code);
    out.worker = (await within(fromWorker, 30000, "the worker's children"))[0];
    await worker.terminate();
  } catch (e) {
    out.errors.push(String(e.message));
  }
  await settled();
  out.zombies = zombies();
  done();
})();
`;

// (c) a holder child (its own node) SIGKILLed: its keeper (our child since
// it started) and its tree end; nothing of them may stay a zombie.
const holder = prelude + `
(async () => {
  const code = 'const ct = require(' + JSON.stringify(${JSON.stringify(lib)}) + ');' +
    "ct.spawn('sh', ['-c', 'sleep 100 & sleep 100'], { stdio: 'ignore' });" +
    "setInterval(() => {}, 1000); process.stdout.write('ready\\\\n');";
  const c = cp.spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(c.stdout, 'data');
  await sleep(100);
  c.kill('SIGKILL');
  out.holder = (await once(c, 'exit'))[1];
  await settled();
  out.zombies = zombies();
  done();
})();
`;

function scratch() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-nodeinit-'));
  dirs.push(d);
  return d;
}

// Run script as node, PID 1 of a new pid namespace; its JSON line.
function asInit(script, { membership, container = false }) {
  const d = scratch();
  const pre = container ? 'mount -o remount,bind,ro "$0" && ' : '';
  const cmd = ['unshare', '--kill-child', ...(container ? ['-m', '-n'] : []),
    '-p', '-f', '--mount-proc', 'sh', '-c', pre + 'exec "$@"', h.cgroup2Mount(),
    process.execPath, '-e', script];
  const env = { PATH: process.env.PATH, ILLUMOS_CONTRACT_MEMBERSHIP: membership,
    XDG_RUNTIME_DIR: d };
  if (membership === 'cgroup') env.ILLUMOS_CONTRACT_ROOT = cgRoot;
  for (const k of ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS',
    'ILLUMOS_CONTRACT_TEST_SLOW']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  const r = cp.spawnSync(cmd[0], cmd.slice(1), { env, cwd: os.tmpdir(),
    encoding: 'utf8', timeout: h.ms(120000) });
  const line = (r.stdout || '').trim().split('\n').pop();
  let o;
  try {
    o = JSON.parse(line);
  } catch {
    assert.fail(`no result (status ${r.status}, signal ${r.signal}): ` +
      `${r.stdout} ${r.stderr}`);
  }
  assert.strictEqual(o.pid, 1, 'node is PID 1');
  assert.strictEqual(o.membership, membership, r.stderr);
  return o;
}

const cells = [
  { name: 'cgroup membership', membership: 'cgroup' },
  { name: 'reaper membership in a container', membership: 'reaper',
    container: true },
];

for (const cell of cells) {
  test(`node as PID 1, ${cell.name}: run() of a tree that leaves ` +
    'orphans leaves no zombie', () => {
    const o = asInit(orphans, cell);
    assert.strictEqual(o.code, 0);
    assert.deepStrictEqual(o.zombies, [], 'no zombie left');
  });

  test(`node as PID 1, ${cell.name}: a SIGKILLed holder leaves no ` +
    'keeper, anchor or member zombie', () => {
    const o = asInit(holder, cell);
    assert.strictEqual(o.holder, 'SIGKILL');
    assert.deepStrictEqual(o.zombies, [], 'no zombie left');
  });
}

test("node as PID 1: a plain spawn keeps its 'exit' and execFileSync its " +
  'output, in the main thread and in a worker, while orphans are reaped', () => {
  for (const cell of cells) {
    const o = asInit(concurrent, cell);
    assert.deepStrictEqual(o.errors, [], cell.name);
    assert.deepStrictEqual(o.codes, Array(30).fill(7), cell.name);
    assert.deepStrictEqual(o.outputs,
      Array.from({ length: 30 }, (_, i) => `out${i}\n`), cell.name);
    assert.strictEqual(o.factory, 0, cell.name);
    assert.deepStrictEqual(o.trees, [3, 3, 3, 3], cell.name);
    assert.deepStrictEqual(o.worker, { codes: Array(15).fill(5),
      outputs: Array.from({ length: 15 }, (_, i) => `w${i}\n`) }, cell.name);
    assert.deepStrictEqual(o.zombies, [], `${cell.name}: no zombie left`);
  }
});
