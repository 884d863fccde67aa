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

// Run a scenario as a privileged (root's contract_event and
// contract_observer) or an unprivileged illumos process; it must exit by
// itself with status 0.
function scenario(name, mode = 'privileged') {
  assert.strictEqual(built, null, `the model addon does not build:\n${built}`);
  const r = cp.spawnSync(process.execPath,
    [path.join(top, 'test', 'illumos', 'child.js'), name, mode],
    { encoding: 'utf8', timeout: 20000, killSignal: 'SIGKILL' });
  assert.strictEqual(r.signal, null,
    `${name} did not end by itself (event loop held?):\n${r.stdout}\n${r.stderr}`);
  assert.strictEqual(r.status, 0, `${name}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

const MODES = ['privileged', 'unprivileged'];

for (const mode of MODES) {
  test(`${mode}: a listened contract releases the event loop once empty; ` +
    'the pr_empty the backend added is not seen', () => {
    const [r] = scenario('loop', mode);
    assert.deepStrictEqual(r.seen, ['pr_exit']);
    assert.strictEqual(r.informative, false);
    // A critical pr_exit needs contract_event (process.c:322-323).
    assert.strictEqual(r.refused, mode === 'privileged' ? null : 'EPERM');
  });

  test(`${mode}: stop() escalates to SIGKILL without a freezer; dispose ` +
    'abandons the empty contract', () => {
    const [r] = scenario('stop', mode);
    assert.deepStrictEqual(r.r, { forced: true });
    assert.strictEqual(r.sig, 9);
    assert.strictEqual(r.exists, false, 'destroyed once abandoned');
    assert.strictEqual(r.exists2, false);
    assert.strictEqual(r.freeze, 'ENOTSUP');
    assert.strictEqual(r.features.backend, 'illumos');
    assert.strictEqual(r.features.freeze, false);
    assert.strictEqual(r.features.usage, false);
  });

  // Terms without pr_empty (an adopted or observed
  // contract keeps its author's) must not hang stop(), `await using` or
  // the event loop (lib/contract.js, blindToEmpty).  Adoption asks for
  // no privilege (contract.c:598-658).
  test(`${mode}: stop() and await using end on an adopted contract whose ` +
    'terms lack pr_empty', () => {
    const [r] = scenario('adopted', mode);
    assert.deepStrictEqual(r.stopped.r, { forced: true });
    assert.strictEqual(r.stopped.sig, 9);
    assert.strictEqual(r.stopped.members, 0);
    assert.strictEqual(r.exists2, false, 'emptied, then abandoned by dispose');
    assert.strictEqual(r.state2, 3); // CTS_DEAD
    // An orphan: refused at its ctl file (docs/illumos.md, "Adoption").
    assert.strictEqual(r.orphanState, 2); // CTS_ORPHAN
    assert.strictEqual(r.refused, 'EACCES');
  });

  // run() with a real child that the model holds in a contract
  // (child.js, modelFork): the result, a timeout that stops the tree
  // through sigsend, and no contract left behind.
  test(`${mode}: run() settles with the exit code, the output and a ` +
    'timeout\'s signal, and leaves no contract', () => {
    const [r] = scenario('run', mode);
    assert.deepStrictEqual(r.r1, { exitCode: 3, signal: null,
      timedOut: false, forced: false, stdout: 'out\n' });
    assert.strictEqual(r.exists1, false, 'disposed: abandoned, destroyed');
    assert.deepStrictEqual(r.r2, { exitCode: null, signal: 'SIGTERM',
      timedOut: true, forced: false });
    assert.strictEqual(r.code2, 'ETIMEDOUT');
    assert.strictEqual(r.sig2, 15);
    assert.strictEqual(r.exists2, false);
    assert.strictEqual(r.rejected, 2);
    assert.strictEqual(r.distinct, true);
  });

  test(`${mode}: await using stops and abandons a held contract, only ` +
    'lets go of an observed one, abandons an empty one', () => {
    const [r] = scenario('using', mode);
    assert.deepStrictEqual(r.held, { exists: false, sig: 15,
      exited: 'SIGTERM' });
    // CTS_OWNED: its holder (another process) still holds it.
    assert.deepStrictEqual(r.observed, { exists: true, sig: 0, state: 0 });
    assert.strictEqual(r.emptyExists, false);
  });

  // Our own uid's contract: observable without contract_observer
  // (policy.c:2398-2402, contract_owned).
  test(`${mode}: the loop held for a listened observed contract without ` +
    'pr_empty is released once it empties', () => {
    const [r] = scenario('observed', mode);
    assert.deepStrictEqual(r.seen, [7172]);
  });
}
