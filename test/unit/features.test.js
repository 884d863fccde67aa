'use strict';
// The JS layer against a backend whose features lack freeze and usage, as
// illumos's do: the real Linux addon, with features() saying so and
// freeze()/usage() failing with ENOTSUP as illumos's backend does (and
// counting calls).  stop(), run() and spawn() must finish without ever
// calling them.  (The illumos backend's own logic runs against a model
// of its kernel in test/c/run.sh: see test/illumos/README.md.)
const { test } = require('node:test');
const assert = require('node:assert');
const h = require('../lib/helpers');

h.useRoot('feat');
const { binding } = require('../../lib/binding');

const calls = { freeze: 0, usage: 0 };
const realFeatures = binding.features;
function enotsup(what) {
  const e = new Error(`ENOTSUP: illumos has no ${what}`);
  e.code = 'ENOTSUP';
  e.errno = 95;
  e.syscall = what;
  return e;
}
binding.features = () => ({ ...realFeatures(), freeze: false, usage: false,
  memory: false });
binding.freeze = () => {
  calls.freeze++;
  throw enotsup('freezer');
};
binding.usage = () => {
  calls.usage++;
  throw enotsup('per-contract CPU accounting');
};

const ct = require('../..');

// A shell that ignores SIGTERM, and says so on stdout once it does.
const STUBBORN = 'trap "" TERM; echo ready; while :; do sleep 1; done';

function ready(child) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    child.once('error', reject);
  });
}

test('features says what is missing', () => {
  assert.strictEqual(ct.features.freeze, false);
  assert.strictEqual(ct.features.usage, false);
});

test('stop() escalates to SIGKILL without a freezer',
  { timeout: h.ms(30000) }, async () => {
  const { child, contract: c } = ct.spawn('sh', ['-c', STUBBORN],
    { stdio: ['ignore', 'pipe', 'ignore'] });
  await ready(child);
  const pid = child.pid;
  assert.deepStrictEqual(await c.stop({ timeout: 100 }), { forced: true });
  assert.ok(!h.alive(pid));
  assert.deepStrictEqual(c.status().pr_members, []);
  assert.strictEqual(calls.freeze, 0);
  c.dispose();
});

test('stop() of a cooperative member needs no SIGKILL and no thaw',
  { timeout: h.ms(30000) }, async () => {
    const { child, contract: c } = ct.spawn('sh',
      ['-c', 'echo ready; exec sleep 100'],
      { stdio: ['ignore', 'pipe', 'ignore'] });
    await ready(child);
    assert.deepStrictEqual(await c.stop({ timeout: 60000 }),
      { forced: false });
    assert.strictEqual(calls.freeze, 0);
    c.dispose();
  });

test('run() aborted stops the tree and rejects without usage',
  { timeout: h.ms(30000) }, async () => {
  const ac = new AbortController();
  const before = new Set(ct.list('process'));
  const p = ct.run('sh', ['-c', STUBBORN], {
    stdio: 'ignore', signal: ac.signal, forceKillAfterDelay: 100,
  });
  // run() hands out no child: find its contract, and wait until the shell
  // runs sleep (its trap is set by then).
  const [id] = ct.list('process').filter((i) => !before.has(i));
  const watcher = ct.observe(id);
  await h.until(() => watcher.status().pr_members.length >= 2, 20000,
    'the shell runs sleep');
  watcher.dispose();
  ac.abort();
  const r = await p.then(() => assert.fail('run() resolved'), (e) => e);
  assert.strictEqual(r.code, 'ABORT_ERR');
  assert.strictEqual(r.ctid, id);
  assert.strictEqual(r.aborted, true);
  assert.strictEqual(r.forced, true);
  assert.strictEqual(r.usage, undefined);
  assert.strictEqual(calls.freeze, 0);
  assert.strictEqual(calls.usage, 0);
});

test('run() of a short command resolves; usage is not asked for',
  { timeout: h.ms(30000) }, async () => {
  const r = await ct.run('sh', ['-c', 'exit 3'], { stdio: 'ignore',
    reject: false });
  assert.strictEqual(r.code, 3);
  assert.strictEqual(r.usage, undefined);
  assert.strictEqual(calls.usage, 0);
});

test('spawn() with a signal stops the tree without a freezer',
  { timeout: h.ms(30000) }, async () => {
  const ac = new AbortController();
  const { child, contract: c } = ct.spawn('sh', ['-c', STUBBORN],
    { stdio: ['ignore', 'pipe', 'ignore'], signal: ac.signal,
      forceKillAfterDelay: 50 });
  await ready(child);
  const empty = h.once(c, 'pr_empty', 10000);
  ac.abort();
  await empty;
  assert.ok(!h.alive(child.pid));
  assert.strictEqual(calls.freeze, 0);
  c.dispose();
});

test('freeze(), thaw() and usage() throw ENOTSUP without calling the backend',
  { timeout: h.ms(30000) }, async () => {
    const { contract: c } = ct.spawn('sh', ['-c', 'exit 0'],
      { stdio: 'ignore' });
    await assert.rejects(c.freeze(), (e) => e.code === 'ENOTSUP' &&
      typeof e.errno === 'number' && e.syscall === 'freeze');
    await assert.rejects(c.thaw(), (e) => e.code === 'ENOTSUP');
    assert.throws(() => c.usage(), (e) => e.code === 'ENOTSUP');
    assert.strictEqual(calls.freeze, 0);
    assert.strictEqual(calls.usage, 0);
    await h.once(c, 'pr_empty');
    c.dispose();
  });
