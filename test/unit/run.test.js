'use strict';
// run() with execa's conventions (docs/api.md, "run()"): an abort rejects
// with an AbortError, a timeout with ETIMEDOUT, a non-zero exit or a
// signal with ERR_CHILD_PROCESS_FAILED (unless reject: false), all once
// the whole tree is gone and carrying the result's fields; piped output
// comes back as stdout/stderr/all, input goes to stdin; the promise
// exposes child and contract, and kill(), stop(), Symbol.asyncDispose.
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

test('a zero exit resolves; a non-zero exit or a signal rejects, with the ' +
  'result\'s fields; reject: false resolves them', async () => {
    const ac = new AbortController();
    const ok = await ct.run('sh', ['-c', 'exit 0'],
      { stdio: 'ignore', timeout: 60000, signal: ac.signal });
    assert.strictEqual(ok.exitCode, 0);
    assert.strictEqual(ok.code, 0);
    assert.strictEqual(ok.command, "sh -c 'exit 0'");
    assert.ok(ok.durationMs > 0 && ok.durationMs < 60000, `${ok.durationMs}`);
    ac.abort(); // after the end: nothing to do, nothing thrown
    const e = await ct.run('sh', ['-c', 'exit 7'], { stdio: 'pipe' })
      .then(() => assert.fail('resolved'), (err) => err);
    assert.ok(e instanceof Error);
    assert.strictEqual(e.code, 'ERR_CHILD_PROCESS_FAILED');
    assert.strictEqual(e.exitCode, 7);
    assert.strictEqual(e.signal, null);
    assert.strictEqual(e.command, "sh -c 'exit 7'");
    assert.match(e.message, /exited with code 7/);
    assert.strictEqual(e.stdout, '');
    assert.strictEqual(e.stderr, '');
    assert.ok(e.durationMs > 0);
    assert.ok(gone(e.ctid));
    const k = await ct.run('sh', ['-c', 'kill -9 $$'], { stdio: 'ignore' })
      .then(() => assert.fail('resolved'), (err) => err);
    assert.strictEqual(k.code, 'ERR_CHILD_PROCESS_FAILED');
    assert.strictEqual(k.exitCode, null);
    assert.strictEqual(k.signal, 'SIGKILL');
    assert.match(k.message, /killed by SIGKILL/);
    const seven = await ct.run('sh', ['-c', 'exit 7'],
      { stdio: 'ignore', reject: false });
    assert.strictEqual(seven.exitCode, 7);
    assert.strictEqual(seven.code, 7);
    const killed = await ct.run('sh', ['-c', 'kill -9 $$'],
      { stdio: 'ignore', reject: false });
    assert.strictEqual(killed.exitCode, null);
    assert.strictEqual(killed.signal, 'SIGKILL');
  });

test('command: the program and its arguments, quoted for a shell', async () => {
  const r = await ct.run('printf', ['%s', "it's", 'a b', ''],
    { stdio: 'ignore' });
  assert.strictEqual(r.command, "printf %s 'it'\\''s' 'a b' ''");
});

test('input is written to stdin, which is then closed', async () => {
  const r = await ct.run('cat', { stdio: 'pipe', input: 'hello' });
  assert.strictEqual(r.stdout, 'hello');
  // The default stdio ('inherit') gets a piped stdin for the input.
  const b = await ct.run('sh', ['-c', 'wc -c >&2'],
    { stdio: ['pipe', 'ignore', 'pipe'], input: Buffer.alloc(70000, 1) });
  assert.strictEqual(b.stderr.trim(), '70000');
  const d = await ct.run('sh', ['-c', 'read x; test "$x" = hi'],
    { input: 'hi\n' });
  assert.strictEqual(d.exitCode, 0);
  // A program that never reads its stdin: no EPIPE escapes.
  const t = await ct.run('true', [], { stdio: 'pipe',
    input: Buffer.alloc(1 << 20) });
  assert.strictEqual(t.exitCode, 0);
  await assert.rejects(ct.run('cat', { stdio: ['ignore', 'pipe', 'pipe'],
    input: 'x' }), (e) => e instanceof TypeError &&
    e.code === 'ERR_INVALID_ARG_VALUE');
  await assert.rejects(ct.run('cat', { stdio: 'pipe', input: 5 }),
    (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE');
});

test('all: true interleaves stdout and stderr as they arrived', async () => {
  // Each write waits for the last one to have arrived here.
  const p = ct.run('sh', ['-c',
    'echo one; read a; echo two >&2; read b; echo three'],
  { stdio: 'pipe', all: true });
  p.child.stdout.once('data', () => p.child.stdin.write('\n'));
  p.child.stderr.once('data', () => p.child.stdin.end('\n'));
  const r = await p;
  assert.strictEqual(r.all, 'one\ntwo\nthree\n');
  assert.strictEqual(r.stdout, 'one\nthree\n');
  assert.strictEqual(r.stderr, 'two\n');
  const buf = await ct.run('sh', ['-c', 'echo x'],
    { stdio: 'pipe', all: true, encoding: 'buffer' });
  assert.ok(Buffer.isBuffer(buf.all) && buf.all.toString() === 'x\n');
  const none = await ct.run('true', [], { stdio: 'pipe' });
  assert.ok(!('all' in none));
  const ignored = await ct.run('true', [], { stdio: 'ignore', all: true });
  assert.ok(!('all' in ignored), 'nothing piped: no all');
});

test('an unknown option key throws a TypeError; so do bad reject/all',
  async () => {
    assert.throws(() => ct.run('true', { timout: 500 }),
      (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE' &&
        /"timout"/.test(e.message));
    assert.throws(() => ct.run('true', [], { stdio: 'ignore', bogus: 1 }),
      (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE');
    await assert.rejects(ct.run('true', [], { reject: 'no' }),
      (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE');
    await assert.rejects(ct.run('true', [], { all: 1 }),
      (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE');
  });

test('the promise\'s kill() signals every member, setsid daemons included',
  async () => {
    const p = ct.run('sh', ['-c', '(setsid sleep 100 &); sleep 100'],
      { stdio: 'ignore' });
    const pids = await sleepers(p.contract, 2);
    assert.throws(() => p.kill('SIGBOGUS'),
      (e) => e.code === 'ERR_UNKNOWN_SIGNAL');
    assert.strictEqual(p.kill(), true);
    const e = await p.then(() => assert.fail('resolved'), (err) => err);
    assert.strictEqual(e.code, 'ERR_CHILD_PROCESS_FAILED');
    assert.strictEqual(e.signal, 'SIGTERM');
    assert.ok(pids.every((pid) => !h.alive(pid)), 'every member is gone');
    assert.strictEqual(p.kill(), false, 'nothing left to signal');
  });

test('the promise\'s stop() stops the whole tree and resolves {forced}',
  async () => {
    const p = ct.run('sh', ['-c', 'trap "" TERM; ' +
      '(setsid sh -c \'trap "" TERM; sleep 100\' &); sleep 100'],
    { stdio: 'ignore', forceKillAfterDelay: 200, reject: false });
    const pids = await sleepers(p.contract, 2);
    const { forced } = await p.stop();
    assert.strictEqual(forced, true, 'SIGTERM was ignored');
    assert.ok(pids.every((pid) => !h.alive(pid)));
    const r = await p;
    assert.strictEqual(r.signal, 'SIGKILL');
    assert.deepStrictEqual(await p.stop(), { forced: false });
  });

test('await using: the tree is stopped when the scope ends', async () => {
  assert.strictEqual(typeof Symbol.asyncDispose, 'symbol');
  const p = ct.run('sh', ['-c', '(setsid sleep 100 &); sleep 100'],
    { stdio: 'ignore' });
  const pids = await sleepers(p.contract, 2);
  await p[Symbol.asyncDispose](); // what `await using p = run(...)` calls
  assert.ok(pids.every((pid) => !h.alive(pid)), 'every member is gone');
  assert.ok(gone(p.contract.ctid));
  await assert.rejects(p, (e) => e.signal === 'SIGTERM');
  // Nothing started: disposal does nothing.
  const none = ct.run('true', [], { signal: AbortSignal.abort() });
  await none[Symbol.asyncDispose]();
  await assert.rejects(none, (e) => e.code === 'ABORT_ERR');
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
