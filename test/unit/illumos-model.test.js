'use strict';
// The JS layer and the binding on the illumos backend, run against the
// model of the illumos kernel (test/illumos/README.md: a model, not
// illumos): the addon is built from src/binding.c and src/illumos/ by
// test/illumos/run.sh --addon, and each scenario runs in a child process
// (test/illumos/child.js) that must end by itself.
const { test, before } = require('node:test');
const assert = require('node:assert');
const path = require('path');
const cp = require('child_process');

const top = path.join(__dirname, '..', '..');
let built = null;

before(() => {
  const r = cp.spawnSync('sh', ['test/illumos/run.sh', '--addon'],
    { cwd: top, encoding: 'utf8', timeout: 300000 });
  built = r.status === 0 ? null : `${r.stdout}\n${r.stderr}`;
});

// Run a scenario; it must exit by itself with status 0.
function scenario(name) {
  assert.strictEqual(built, null, `the model addon does not build:\n${built}`);
  const r = cp.spawnSync(process.execPath,
    [path.join(top, 'test', 'illumos', 'child.js'), name],
    { encoding: 'utf8', timeout: 20000, killSignal: 'SIGKILL' });
  assert.strictEqual(r.signal, null,
    `${name} did not end by itself (event loop held?):\n${r.stdout}\n${r.stderr}`);
  assert.strictEqual(r.status, 0, `${name}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

test('a listened contract releases the event loop once empty; the ' +
  'pr_empty the backend added is not seen', () => {
  const [r] = scenario('loop');
  assert.deepStrictEqual(r.seen, ['pr_exit']);
  assert.strictEqual(r.informative, false);
});

test('stop() escalates to SIGKILL without a freezer; dispose abandons ' +
  'the empty contract', () => {
  const [r] = scenario('stop');
  assert.deepStrictEqual(r.r, { forced: true });
  assert.strictEqual(r.sig, 9);
  assert.strictEqual(r.exists, false, 'destroyed once abandoned');
  assert.strictEqual(r.exists2, false);
  assert.strictEqual(r.freeze, 'ENOTSUP');
  assert.strictEqual(r.features.backend, 'illumos');
  assert.strictEqual(r.features.freeze, false);
  assert.strictEqual(r.features.usage, false);
});

// Point 1 of issue 28: terms without pr_empty (an adopted or observed
// contract keeps its author's) must not hang stop(), `await using` or
// the event loop (lib/contract.js, blindToEmpty).
test('stop() and await using end on an adopted contract whose terms ' +
  'lack pr_empty', () => {
  const [r] = scenario('adopted');
  assert.deepStrictEqual(r.stopped.r, { forced: true });
  assert.strictEqual(r.stopped.sig, 9);
  assert.strictEqual(r.stopped.members, 0);
  assert.strictEqual(r.exists2, false, 'emptied, then abandoned by dispose');
  assert.strictEqual(r.state2, 3); // CTS_DEAD
});

test('the loop held for a listened observed contract without pr_empty ' +
  'is released once it empties', () => {
  const [r] = scenario('observed');
  assert.deepStrictEqual(r.seen, [7172]);
});
