'use strict';
// The examples in examples/ run as documented, each in a few seconds, and
// leave no contract and no process behind.  They require('illumos_contract')
// by name: a temp dir with node_modules/illumos_contract -> the repository
// is put on NODE_PATH (and is their cwd, where a task's core file would go).
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('ex');
const top = path.join(__dirname, '..', '..');
let dir;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-ex-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(top, path.join(dir, 'node_modules', 'illumos_contract'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

// Run examples/<name> with args; resolve {code, signal, out, lines}.
async function example(name, args, ms = 5000) {
  const p = cp.spawn(process.execPath, [path.join(top, 'examples', name),
    ...args], {
    cwd: dir,
    env: { ...process.env, ILLUMOS_CONTRACT_ROOT: root,
      NODE_PATH: path.join(dir, 'node_modules') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  let code;
  let signal;
  try {
    [code, signal] = await h.once(p, 'close', ms);
  } catch (e) {
    p.kill('SIGKILL');
    throw new Error(`${name} did not exit by itself in ${ms} ms:\n${out}${err}`);
  }
  const lines = out.trim().split('\n');
  return { code, signal, out: out + err, lines };
}

async function nothingLeft(what) {
  await h.until(() => h.contractDirs(root).length === 0, 3000,
    `${what}: every contract removed (left: ${h.contractDirs(root)})`);
}

test('supervisor.js restarts a daemonizing service N times, then stops it',
  async () => {
    const t0 = Date.now();
    const r = await example('supervisor.js', ['3', '0.5']);
    assert.strictEqual(r.code, 0, r.out);
    const mine = r.lines.filter((l) => l.startsWith('supervisor: '));
    const starts = mine.filter((l) =>
      /^supervisor: start \d: contract \d+, service pid \d+$/.test(l));
    assert.strictEqual(starts.length, 4, r.out);
    // Each time the service exits at once, and its daemon lives on.
    const held = / service exited 0; the contract still holds [1-9]\d* /;
    assert.strictEqual(mine.filter((l) => held.test(l)).length, 4, r.out);
    const empties = mine.map((l) =>
      l.match(/^supervisor: start (\d): contract (\d+) is empty \(daemon (\d+) gone\)$/))
      .filter(Boolean);
    assert.deepStrictEqual(empties.map((m) => m[1]), ['1', '2', '3'], r.out);
    for (const m of empties) assert.ok(!h.alive(Number(m[3])), `daemon ${m[3]}`);
    // ... and the 4th incarnation is stopped, daemon included.
    assert.match(mine[mine.length - 2],
      /^supervisor: stopping contract \d+ after 3 restarts$/, r.out);
    assert.strictEqual(mine[mine.length - 1],
      'supervisor: stopped (forced: false); 4 starts in all', r.out);
    assert.ok(Date.now() - t0 < h.ms(5000), `took ${Date.now() - t0} ms`);
    await nothingLeft('supervisor');
  });

test('run-and-clean.js kills what the command left behind', async () => {
  // A background job, a setsid daemon, and one that ignores SIGTERM.
  const cmd = 'sleep 30 & (setsid sleep 30 &); (trap "" TERM; exec sleep 30) & ' +
    'sleep 0.3; echo done; exit 3';
  const r = await example('run-and-clean.js',
    ['--grace', '300', '--', 'sh', '-c', cmd]);
  assert.strictEqual(r.code, 3, r.out);
  assert.strictEqual(r.lines[0], 'done');
  const m = r.lines[1].match(
    /^run-and-clean: sh exited 3; left behind: 3 process\(es\) \((\d+) (\d+) (\d+)\)$/);
  assert.ok(m, r.out);
  assert.match(r.lines[2],
    /^run-and-clean: clean \(SIGKILL needed: true\)(, [\d.]+ ms CPU in all)?$/);
  for (const pid of m.slice(1)) {
    assert.ok(!h.alive(Number(pid)), `left-behind pid ${pid} is gone`);
  }
  await nothingLeft('run-and-clean');
});

test('run-and-clean.js --wait: run() waits for the tree, or stops it',
  async () => {
    let r = await example('run-and-clean.js',
      ['--wait', '3000', '--', 'sh', '-c', '(setsid sleep 0.2 &); exit 0']);
    assert.strictEqual(r.code, 0, r.out);
    assert.match(r.lines[0], /^run-and-clean: sh exited 0; the whole tree finished by itself/);
    r = await example('run-and-clean.js', ['--wait', '300', '--grace', '300',
      '--', 'sh', '-c', '(setsid sleep 30 &); exit 5']);
    assert.strictEqual(r.code, 5, r.out);
    assert.match(r.lines[0], new RegExp('^run-and-clean: sh exited 5; ' +
      'the tree was still running after 300 ms: stopped ' +
      '\\(SIGKILL needed: false\\)'));
    r = await example('run-and-clean.js', ['--', 'no-such-command-ict']);
    assert.strictEqual(r.code, 127, r.out);
    assert.match(r.lines[0], /^run-and-clean: cannot run no-such-command-ict: .*ENOENT/);
    await nothingLeft('run-and-clean --wait');
  });

test('executor.js: one contract per task from a template kept active',
  async () => {
    const r = await example('executor.js', ['--timeout', '500',
      'echo hello',
      'sleep 30 & (setsid sleep 30 &); exit 3',
      'ulimit -c 0; (setsid sleep 30 &); sleep 0.1; kill -ABRT $$',
      'sleep 30']);
    assert.strictEqual(r.code, 0, r.out);
    const tasks = r.lines.filter((l) => l.startsWith('task '))
      .map((l) => l.replace(/ \(contract \d+\)$/, ''));
    assert.deepStrictEqual(tasks, [
      'task 1: exit 0',
      // its first process exited, the rest was killed with sigsend(9)
      'task 2: exit 3 (left processes behind: killed)',
      // pr_core is fatal: the whole contract, setsid daemon included, dies
      'task 3: killed by SIGABRT (dumped core: the whole contract was killed)',
      'task 4: cancelled after 500 ms, killed by SIGKILL',
    ], r.out);
    assert.ok(r.lines.includes('hello'), r.out);
    assert.strictEqual(r.lines[r.lines.length - 1], 'executor: done');
    const ctids = r.lines.map((l) => l.match(/\(contract (\d+)\)$/))
      .filter(Boolean).map((m) => m[1]);
    assert.strictEqual(new Set(ctids).size, 4, 'a contract per task');
    await nothingLeft('executor');
  });
