'use strict';
// spawn()'s abort and timeout as child_process's (docs/api.md,
// "Extensions"): an aborted signal never throws; the child emits an
// AbortError 'error' asynchronously; an abort or a timeout stops the whole
// tree, and `ended` says which fired and whether SIGKILL was needed.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ChildProcess } = require('child_process');
const { once } = require('events');
const h = require('../lib/helpers');

const root = h.useRoot('spawn-abort');
const ct = require('../..');

const STUBBORN = 'trap "" TERM; (setsid sh -c \'trap "" TERM; sleep 100\' &); ' +
  'sleep 100';

test('an already aborted signal: spawn() returns, starts nothing, and an ' +
  'AbortError follows asynchronously', async (t) => {
  const mark = path.join(os.tmpdir(), `ict-abort-${process.pid}`);
  t.after(() => fs.rmSync(mark, { force: true }));
  const before = h.contractDirs(root);
  const ac = new AbortController();
  ac.abort(new Error('before'));
  const r = ct.spawn('touch', [mark], { stdio: 'ignore', signal: ac.signal });
  assert.ok(r.child instanceof ChildProcess);
  assert.strictEqual(r.child.pid, undefined);
  assert.strictEqual(r.contract, null);
  let sync = true;
  const err = await new Promise((res) => {
    r.child.once('error', res);
    sync = false;
  });
  assert.strictEqual(sync, false, 'not emitted before spawn() returned');
  assert.deepStrictEqual(await once(r.child, 'close'), [null, null],
    "then 'close', as after a failed spawn");
  assert.ok(err instanceof Error);
  assert.strictEqual(err.name, 'AbortError');
  assert.strictEqual(err.code, 'ABORT_ERR');
  assert.strictEqual(err.cause.message, 'before');
  assert.deepStrictEqual(await r.ended,
    { timedOut: false, aborted: true, forced: false });
  assert.ok(!fs.existsSync(mark), 'the program never ran');
  assert.deepStrictEqual(h.contractDirs(root), before, 'no contract made');
  // Bad options are still refused at once, aborted or not.
  assert.throws(() => ct.spawn('true', [], { signal: ac.signal,
    killSignal: 'SIGBOGUS' }), (e) => e.code === 'ERR_OUT_OF_RANGE' ||
    e.code === 'ERR_UNKNOWN_SIGNAL');
});

test('an abort mid-way stops the whole tree and emits an AbortError',
  async () => {
    const ac = new AbortController();
    const { child, contract, ended } = ct.spawn('sh',
      ['-c', '(setsid sleep 100 &); sleep 100'],
      { stdio: 'ignore', signal: ac.signal });
    const pids = await h.sleepers(contract, 2);
    const err = new Promise((res) => child.once('error', res));
    const reason = new Error('enough');
    ac.abort(reason);
    const e = await err;
    assert.strictEqual(e.code, 'ABORT_ERR');
    assert.strictEqual(e.cause, reason);
    assert.deepStrictEqual(await ended,
      { timedOut: false, aborted: true, forced: false });
    await contract.whenEmpty();
    assert.ok(pids.every((pid) => !h.alive(pid)), 'every member is gone');
    contract.dispose();
  });

test('a timeout stops the whole tree; ended says it fired and that SIGKILL ' +
  'was needed', async () => {
  const { child, contract, ended } = ct.spawn('sh', ['-c', STUBBORN],
    { stdio: 'ignore', timeout: 200, forceKillAfterDelay: 200 });
  let errors = 0;
  child.on('error', () => errors++);
  const pids = await h.sleepers(contract, 2);
  assert.deepStrictEqual(await ended,
    { timedOut: true, aborted: false, forced: true });
  assert.ok(pids.every((pid) => !h.alive(pid)));
  assert.strictEqual(errors, 0, 'a timeout is no error, as in child_process');
  contract.dispose();
});

test('a tree that ends by itself: ended all false; no timeout or signal: ' +
  'ended is null', async () => {
  const a = ct.spawn('true', [], { stdio: 'ignore', timeout: 60000,
    signal: new AbortController().signal });
  assert.deepStrictEqual(await a.ended,
    { timedOut: false, aborted: false, forced: false });
  a.contract.dispose();
  const b = ct.spawn('true', [], { stdio: 'ignore' });
  assert.strictEqual(b.ended, null);
  await b.contract.whenEmpty();
  b.contract.dispose();
  // Disposed before it emptied: ended still settles.
  const c = ct.spawn('sleep', ['100'], { stdio: 'ignore', timeout: 60000 });
  const pid = c.child.pid;
  c.contract.sigsend('SIGKILL');
  c.contract.dispose();
  assert.deepStrictEqual(await c.ended,
    { timedOut: false, aborted: false, forced: false });
  await h.until(() => !h.alive(pid), 5000, 'the sleep is gone');
});
