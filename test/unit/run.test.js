'use strict';
// run() as Node users expect it (docs/api.md, "Extensions"): an abort rejects with an
// AbortError and a timeout with ETIMEDOUT, both once the whole tree is
// stopped and carrying the result's fields; a normal exit resolves; piped
// output comes back as stdout/stderr (encoding, maxBuffer); the promise
// exposes child and contract.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ChildProcess } = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('run');
const ct = require('../..');

function comm(p) {
  try { return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim(); } catch {
    return '';
  }
}

// The pids of a contract once n of its members run sleep.
async function sleepers(c, n) {
  await h.until(() => c.status().pr_members.filter(
    (p) => comm(p) === 'sleep').length >= n, 5000, `${n} sleepers`);
  return c.status().pr_members;
}

function gone(ctid) {
  return !fs.existsSync(path.join(root, String(ctid)));
}

test('an abort during the run rejects with AbortError after the whole ' +
  'tree is stopped', async () => {
  const ac = new AbortController();
  const p = ct.run('sh', ['-c', '(setsid sleep 100 &); sleep 100'],
    { stdio: 'ignore', signal: ac.signal });
  const pids = await sleepers(p.contract, 2);
  const reason = new Error('enough');
  ac.abort(reason);
  const e = await p.then(() => assert.fail('resolved'), (err) => err);
  assert.ok(e instanceof Error);
  assert.strictEqual(e.name, 'AbortError');
  assert.strictEqual(e.code, 'ABORT_ERR');
  assert.strictEqual(e.cause, reason);
  assert.ok(pids.every((pid) => !h.alive(pid)), 'every member is gone');
  assert.ok(gone(e.ctid));
  assert.strictEqual(e.ctid, p.contract.ctid);
  assert.strictEqual(e.pid, p.child.pid);
  assert.strictEqual(e.exitCode, null);
  assert.strictEqual(e.signal, 'SIGTERM');
  assert.strictEqual(e.forced, false);
  assert.strictEqual(e.aborted, true);
  assert.strictEqual(e.timedOut, false);
  assert.strictEqual(typeof e.usage.userCPUTime, 'number');
});

test('an abort without a reason: cause is the signal\'s own reason',
  async () => {
    const ac = new AbortController();
    const p = ct.run('sleep', ['100'], { stdio: 'ignore', signal: ac.signal });
    await sleepers(p.contract, 1);
    ac.abort();
    await assert.rejects(p, (e) => e.name === 'AbortError' &&
      e.code === 'ABORT_ERR' && e.cause === ac.signal.reason &&
      e.cause.name === 'AbortError');
  });

test('an abort before the call rejects the same way and starts nothing',
  async () => {
    const mark = path.join(os.tmpdir(), `ict-never-${process.pid}`);
    const reason = new Error('not now');
    const p = ct.run('touch', [mark], { signal: AbortSignal.abort(reason) });
    assert.strictEqual(p.child, null);
    assert.strictEqual(p.contract, null);
    await assert.rejects(p, (e) => e.name === 'AbortError' &&
      e.code === 'ABORT_ERR' && e.cause === reason);
    assert.ok(!fs.existsSync(mark));
  });

test('a timeout rejects with ETIMEDOUT once every member is dead',
  async () => {
    const p = ct.run('sh', ['-c', 'trap "" TERM; ' +
      '(setsid sh -c \'trap "" TERM; sleep 100\' &); sleep 100'],
    { stdio: 'ignore', timeout: 300, forceKillAfterDelay: 200 });
    const pids = await sleepers(p.contract, 2);
    const e = await p.then(() => assert.fail('resolved'), (err) => err);
    assert.ok(e instanceof Error);
    assert.strictEqual(e.code, 'ETIMEDOUT');
    assert.match(e.message, /timed out after 300 ms/);
    assert.strictEqual(e.timedOut, true);
    assert.strictEqual(e.aborted, false);
    assert.strictEqual(e.forced, true, 'SIGTERM was ignored');
    assert.strictEqual(e.signal, 'SIGKILL');
    assert.strictEqual(e.exitCode, null);
    assert.ok(e.ctid > 0 && e.pid === p.child.pid);
    assert.ok(pids.every((pid) => !h.alive(pid)));
    assert.ok(gone(e.ctid));
  });

test('a normal exit resolves, zero or not, even with a timeout and signal ' +
  'armed', async () => {
    const ac = new AbortController();
    const r = await ct.run('sh', ['-c', 'exit 7'],
      { stdio: 'ignore', timeout: 60000, signal: ac.signal });
    assert.strictEqual(r.code, 7);
    assert.strictEqual(r.timedOut, false);
    assert.strictEqual(r.aborted, false);
    ac.abort(); // after the end: nothing to do, nothing thrown
    const k = await ct.run('sh', ['-c', 'kill -9 $$'], { stdio: 'ignore' });
    assert.strictEqual(k.code, null);
    assert.strictEqual(k.signal, 'SIGKILL');
  });

test('stdio pipe: stdout and stderr of the whole tree, as strings',
  async () => {
    const r = await ct.run('sh', ['-c',
      'echo early; echo oops >&2; (setsid sh -c "sleep 0.2; echo late") & ' +
      'exit 0'], { stdio: 'pipe' });
    assert.strictEqual(r.stdout, 'early\nlate\n');
    assert.strictEqual(r.stderr, 'oops\n');
    assert.strictEqual(r.code, 0);
    const quiet = await ct.run('true', [], { stdio: 'ignore' });
    assert.ok(!('stdout' in quiet) && !('stderr' in quiet));
    const one = await ct.run('sh', ['-c', 'echo a; echo b >&2'],
      { stdio: ['ignore', 'pipe', 'ignore'] });
    assert.strictEqual(one.stdout, 'a\n');
    assert.ok(!('stderr' in one));
  });

test('encoding: utf8 by default, any Buffer encoding, or buffer', async () => {
  const args = ['-c', 'printf "\\303\\251"'];
  const utf8 = await ct.run('sh', args, { stdio: 'pipe' });
  assert.strictEqual(utf8.stdout, '\u00e9');
  const latin1 = await ct.run('sh', args,
    { stdio: 'pipe', encoding: 'latin1' });
  assert.strictEqual(latin1.stdout, '\u00c3\u00a9');
  const buf = await ct.run('sh', args, { stdio: 'pipe', encoding: 'buffer' });
  assert.ok(Buffer.isBuffer(buf.stdout));
  assert.deepStrictEqual([...buf.stdout], [0xc3, 0xa9]);
  assert.ok(Buffer.isBuffer(buf.stderr) && buf.stderr.length === 0);
  await assert.rejects(ct.run('true', [], { stdio: 'pipe', encoding: 'nope' }),
    (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE');
});

test('maxBuffer: past it the whole tree is stopped and run() rejects',
  async () => {
    const p = ct.run('sh', ['-c', '(setsid sleep 100 &); yes'],
      { stdio: 'pipe', maxBuffer: 1000 });
    const e = await p.then(() => assert.fail('resolved'), (err) => err);
    assert.ok(e instanceof RangeError);
    assert.strictEqual(e.code, 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER');
    assert.match(e.message, /stdout maxBuffer/);
    assert.strictEqual(e.stdout.length, 1000);
    assert.match(e.stdout, /^(y\n)+$/);
    assert.ok(gone(e.ctid));
    await assert.rejects(ct.run('true', [], { maxBuffer: -1 }),
      (err) => err instanceof RangeError && err.code === 'ERR_OUT_OF_RANGE');
  });

test('the promise exposes child and contract while it runs', async () => {
  const p = ct.run('sh', ['-c', 'read x; echo "got $x"'],
    { stdio: 'pipe' });
  assert.ok(p.child instanceof ChildProcess);
  assert.ok(p.contract instanceof ct.Contract);
  assert.deepStrictEqual(p.contract.status().pr_members, [p.child.pid]);
  let streamed = '';
  p.child.stdout.on('data', (d) => { streamed += d; });
  p.child.stdin.end('hello\n');
  const r = await p;
  assert.strictEqual(r.stdout, 'got hello\n');
  assert.strictEqual(streamed, 'got hello\n');
  assert.strictEqual(r.ctid, p.contract.ctid);
  assert.throws(() => p.contract.status(),
    (e) => e.code === 'ERR_CONTRACT_DISPOSED', 'disposed once settled');
  const missing = ct.run('/nonexistent/prog', [], { stdio: 'ignore' });
  assert.ok(missing.child instanceof ChildProcess);
  assert.strictEqual(missing.contract, null);
  await assert.rejects(missing, (e) => e.code === 'ENOENT');
});
