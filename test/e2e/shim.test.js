'use strict';
// ct-exec, the exec shim, run directly: it must join the cgroup it is
// given before anything else, and then behave like execvp (PATH search,
// empty PATH entries, EACCES passed over, files without #! run by
// /bin/sh), with the exit codes and messages it documents.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { useRoot } = require('../lib/helpers');

const root = useRoot('shim');
const { shimPath } = require('../../lib/binding');

const shim = shimPath();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-shim-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function cgroup() {
  fs.mkdirSync(root, { recursive: true });
  const dir = path.join(root, `s${++n}`);
  fs.mkdirSync(dir);
  test.after(() => fs.rmdirSync(dir));
  return dir;
}

function run(args, env) {
  return spawnSync(shim, args, { encoding: 'utf8',
    env: env || process.env });
}

function ownCgroup(out) {
  return out.split('\n').find((l) => l.startsWith('0::')).slice(3);
}

test('the shim is built', () => {
  assert.ok(shim !== null && fs.statSync(shim).isFile());
  assert.strictEqual(run(['--probe']).status, 0);
});

test('joins the cgroup, then runs the program with argv0 and arguments', () => {
  const dir = cgroup();
  const r = run([path.join(dir, 'cgroup.procs'), 'sh', 'my-argv0', '-c',
    'cat /proc/self/cgroup; echo "$0|$1|$2"', 'one', 'two words']);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.ok(r.stdout.endsWith('\none|two words|\n'), r.stdout);
  assert.strictEqual(ownCgroup(r.stdout),
    `/${path.relative(path.dirname(root), dir)}`);
});

test('searches PATH from the environment it passes on', () => {
  const dir = cgroup();
  const bin = path.join(tmp, 'bin');
  const denied = path.join(tmp, 'denied');
  fs.mkdirSync(bin);
  fs.mkdirSync(denied);
  fs.writeFileSync(path.join(bin, 'hello'), '#!/bin/sh\necho "hello $1"\n',
    { mode: 0o755 });
  // Not executable: skipped, like execvp, for the next one in PATH.
  fs.writeFileSync(path.join(denied, 'hello'), '#!/bin/sh\necho wrong\n',
    { mode: 0o644 });
  const env = { PATH: `/nonexistent::${denied}:${bin}` };
  const r = run([path.join(dir, 'cgroup.procs'), 'hello', 'hello', 'x'], env);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, 'hello x\n');
  // Found only where it may not run: EACCES, exit 126.
  const d = run([path.join(dir, 'cgroup.procs'), 'hello', 'hello'],
    { PATH: denied });
  assert.strictEqual(d.status, 126);
  assert.match(d.stderr, /^ct-exec: cannot run hello: permission denied\n$/);
});

test('a file without #! runs under /bin/sh, as execvp does', () => {
  const dir = cgroup();
  const f = path.join(tmp, 'plain-script');
  fs.writeFileSync(f, 'echo "script $0 $1"\n', { mode: 0o755 });
  const r = run([path.join(dir, 'cgroup.procs'), f, 'ignored', 'arg']);
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, `script ${f} arg\n`);
});

test('a missing program exits 127, naming it', () => {
  const dir = cgroup();
  const r = run([path.join(dir, 'cgroup.procs'), 'no-such-program-ict',
    'x'], { PATH: '/bin:/usr/bin' });
  assert.strictEqual(r.status, 127);
  assert.match(r.stderr, /cannot run no-such-program-ict: no such file/);
});

test('never runs the program outside the contract', () => {
  const marker = path.join(tmp, 'ran');
  const r = run([path.join(tmp, 'no-cgroup', 'cgroup.procs'), 'sh', 'sh',
    '-c', `touch ${marker}`]);
  assert.strictEqual(r.status, 127);
  assert.match(r.stderr, /^ct-exec: cannot join the contract \(.*\): no such file or directory\n$/);
  assert.strictEqual(fs.existsSync(marker), false);
});

test('usage', () => {
  const r = run(['only-one']);
  assert.strictEqual(r.status, 125);
  assert.match(r.stderr, /usage: ct-exec CGROUP_PROCS FILE ARGV0/);
});
