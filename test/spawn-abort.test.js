'use strict';
// spawn()'s abort as child_process's: it returns, and the child emits an
// AbortError 'error' asynchronously; the whole tree is stopped.
const test = require('node:test');
const assert = require('node:assert');
const ct = require('..');

test('spawn() with an aborted signal returns; an async AbortError follows', async () => {
  const ac = new AbortController();
  ac.abort(new Error('before'));
  const { child, contract } = ct.spawn('sleep', ['30'],
    { stdio: 'ignore', signal: ac.signal });
  let sync = true;
  const err = await new Promise((r) => { child.once('error', r); sync = false; });
  assert.strictEqual(sync, false);
  assert.strictEqual(err.name, 'AbortError');
  assert.strictEqual(err.code, 'ABORT_ERR');
  assert.strictEqual(err.cause.message, 'before');
  await contract.whenEmpty({ timeout: 20000 });
  contract.dispose();
});

test('spawn() aborted mid-way emits an AbortError and stops the tree', async () => {
  const ac = new AbortController();
  const { child, contract } = ct.spawn('sh', ['-c', 'sleep 30 & wait'],
    { stdio: 'ignore', signal: ac.signal });
  const err = new Promise((r) => child.once('error', r));
  ac.abort();
  assert.strictEqual((await err).code, 'ABORT_ERR');
  await contract.whenEmpty({ timeout: 20000 });
  contract.dispose();
});
