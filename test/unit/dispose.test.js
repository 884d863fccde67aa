'use strict';
// Explicit resource management on Contract (docs/api.md, "Extensions"): Symbol.dispose
// disposes (again: nothing), Symbol.asyncDispose stops the tree this
// process holds, then disposes; `using` / `await using` where the Node in
// use parses them.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const h = require('../lib/helpers');

h.useRoot('dispose');
const ct = require('../..');

const tree = ['-c', '(setsid sleep 100 &); sleep 100'];

const { sleepers } = h;

const disposed = (e) => e.code === 'ERR_CONTRACT_DISPOSED';

test('Contract has both disposal symbols', () => {
  assert.strictEqual(typeof Symbol.dispose, 'symbol');
  assert.strictEqual(typeof ct.Contract.prototype[Symbol.dispose], 'function');
  assert.strictEqual(typeof ct.Contract.prototype[Symbol.asyncDispose],
    'function');
});

test('Symbol.dispose disposes; again, it does nothing', async () => {
  const { contract: c } = ct.spawn('sleep', ['100'], { stdio: 'ignore' });
  const pid = c.status().pr_members[0];
  const ctid = c.ctid;
  c[Symbol.dispose]();
  assert.throws(() => c.status(), disposed);
  c[Symbol.dispose]();
  c.dispose(); // DESIGN §2c: dispose() again does nothing
  assert.throws(() => c.on('pr_exit', () => {}), disposed,
    'a listener after dispose is refused');
  assert.ok(h.alive(pid), 'dispose does not stop the tree');
  const a = ct.observe(ctid);
  const empty = h.once(a, 'pr_empty');
  process.kill(pid, 'SIGKILL');
  await empty;
  a.dispose();
});

test('Symbol.asyncDispose stops the whole tree, then disposes', async () => {
  const { contract: c } = ct.spawn('sh', tree, { stdio: 'ignore' });
  const pids = await sleepers(c, 2);
  await c[Symbol.asyncDispose]();
  assert.ok(pids.every((p) => !h.alive(p)), 'every member is gone');
  assert.throws(() => c.status(), disposed);
  await c[Symbol.asyncDispose](); // again: nothing
});

test('Symbol.asyncDispose of an observer only disposes it', async () => {
  const { contract: c } = ct.spawn('sleep', ['100'], { stdio: 'ignore' });
  const [pid] = c.status().pr_members;
  const o = ct.observe(c.ctid);
  await o[Symbol.asyncDispose]();
  assert.throws(() => o.status(), disposed);
  assert.ok(h.alive(pid), 'an observer cannot stop the tree');
  await c[Symbol.asyncDispose]();
  assert.ok(!h.alive(pid));
});

// Compile a body using `using` declarations, or null where this Node's
// parser does not have them yet (Node 20 and 22).
function compile(body) {
  const AsyncFunction = (async () => {}).constructor;
  try {
    return new AsyncFunction('ct', 'h', 'sleepers', body);
  } catch (e) {
    if (e instanceof SyntaxError) return null;
    throw e;
  }
}

test('using and await using', async (t) => {
  const fn = compile(`
    let inner;
    let pids;
    {
      await using c = ct.spawn('sh', ${JSON.stringify(tree)},
        { stdio: 'ignore' }).contract;
      using o = ct.observe(c.ctid);
      inner = [c, o];
      pids = await sleepers(c, 2);
    }
    return { inner, pids };`);
  if (fn === null) {
    t.skip(`Node ${process.versions.node} does not parse using declarations`);
    return;
  }
  const { inner, pids } = await fn(ct, h, sleepers);
  assert.ok(pids.every((p) => !h.alive(p)), 'the tree was stopped');
  for (const c of inner) assert.throws(() => c.status(), disposed);
});
