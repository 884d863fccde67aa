'use strict';
// cleanup (docs/api.md, "Extensions"): the trees of spawn() and run() die with the Node
// process by default (noorphan), however it dies; cleanup: false or a
// template's own param says otherwise; the 1.0.3 calls keep illumos's
// defaults.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('cleanup');
const ct = require('../..');
const lib = JSON.stringify(path.join(__dirname, '..', '..'));

function noorphan(c) {
  return c.status().pr_param.noorphan;
}

async function end(c) {
  const empty = h.once(c, 'pr_empty');
  c.sigsend('SIGKILL');
  await empty;
  c.dispose();
}

test('spawn() and run() default to noorphan; the 1.0.3 calls do not',
  async () => {
    const { contract: s } = ct.spawn('sleep', ['100'], { stdio: 'ignore' });
    assert.strictEqual(noorphan(s), true);
    await end(s);
    const p = ct.run('sleep', ['100'], { stdio: 'ignore', reject: false });
    assert.strictEqual(noorphan(p.contract), true);
    p.contract.sigsend('SIGKILL');
    await p;
    ct.set_template({ type: 'process' });
    cp.spawn('sleep', ['100'], { stdio: 'ignore' });
    ct.clear_template();
    const old = ct.latest();
    assert.deepStrictEqual(old.status().pr_param,
      { inherit: false, noorphan: false, pgrponly: false, regent: false });
    await end(old);
  });

test('cleanup: false, or a template that gives param, decides otherwise',
  async () => {
    const cases = [
      [{ cleanup: false }, false],
      [{ cleanup: true }, true],
      [{ template: { type: 'process', param: {} } }, false],
      [{ template: { type: 'process', param: { regent: true } },
        cleanup: true }, true],
      [{ template: { type: 'process', param: { noorphan: true } },
        cleanup: true }, true],
      [{ template: { type: 'process', informative: { pr_fork: true } } },
        true],
    ];
    for (const [opts, want] of cases) {
      const { contract: c } = ct.spawn('sleep', ['100'],
        { stdio: 'ignore', ...opts });
      assert.strictEqual(noorphan(c), want, JSON.stringify(opts));
      if (opts.template && opts.template.param && opts.template.param.regent) {
        assert.strictEqual(c.status().pr_param.regent, true);
      }
      await end(c);
    }
    const r = ct.run('sleep', ['100'], { stdio: 'ignore', reject: false,
      template: { param: { inherit: true } } });
    assert.strictEqual(noorphan(r.contract), false);
    r.contract.sigsend('SIGKILL');
    await r;
  });

test('cleanup is checked: a boolean that agrees with the template',
  async () => {
    const before = h.contractDirs(root);
    assert.throws(() => ct.spawn('true', [], { cleanup: 'yes' }),
      (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_TYPE' &&
        /cleanup/.test(e.message));
    assert.throws(() => ct.spawn('true', [], { cleanup: false,
      template: { type: 'process', param: { noorphan: true } } }),
    (e) => e instanceof TypeError && e.code === 'ERR_INVALID_ARG_VALUE' &&
      /cleanup.*noorphan/.test(e.message));
    await assert.rejects(ct.run('true', [], { cleanup: true,
      template: { param: { noorphan: false } } }),
    (e) => e.code === 'ERR_INVALID_ARG_VALUE');
    assert.throws(() => ct.spawn('true', [], { cleanup: true,
      template: { type: 'process', param: { noorphan: 'yes' } } }),
    (e) => e instanceof TypeError && /noorphan/.test(e.message),
    'a wrong type in the template is refused, not overridden');
    assert.deepStrictEqual(h.contractDirs(root), before);
  });

// A Node process that starts trees with spawn() and run() (and one with
// cleanup: false), prints their pids once every member runs, then waits
// to be killed or told to exit.
function parent() {
  const p = cp.spawn(process.execPath, ['-e', `
    const ct = require(${lib});
    const fs = require('fs');
    const tree = '(setsid sleep 100 &); sleep 100';
    const a = ct.spawn('sh', ['-c', tree], { stdio: 'ignore' }).contract;
    const b = ct.run('sh', ['-c', tree], { stdio: 'ignore' }).contract;
    const c = ct.spawn('sh', ['-c', tree], { stdio: 'ignore',
      cleanup: false }).contract;
    const comm = (p) => { try { return fs.readFileSync('/proc/' + p +
      '/comm', 'utf8').trim(); } catch { return ''; } };
    const sleepers = (x) => x.status().pr_members.filter(
      (p) => comm(p) === 'sleep');
    const t = setInterval(() => {
      if ([a, b, c].some((x) => sleepers(x).length < 2)) return;
      clearInterval(t);
      console.log(JSON.stringify({ pid: process.pid,
        dies: [...sleepers(a), ...sleepers(b)], lives: sleepers(c),
        kept: c.ctid }));
    }, 2);
    process.stdin.on('data', () => process.exit(0));
  `], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      if (out.endsWith('\n')) resolve({ p, ...JSON.parse(out) });
    });
    p.once('exit', () => reject(new Error(`the parent exited: ${out}`)));
  });
}

// The tree kept with cleanup: false is an orphan now: take it back, end it.
async function reclaim(ctid, pids) {
  const o = ct.observe(ctid);
  await h.until(() => o.status().state === 'orphan', 5000, 'orphaned');
  o.dispose();
  assert.ok(pids.every(h.alive), 'cleanup: false: its members live on');
  await end(ct.adopt(ctid));
  await h.until(() => !fs.existsSync(path.join(root, String(ctid))), 5000,
    'the kept contract to be removed');
}

for (const [how, kill] of [
  ['is killed with SIGKILL', (p) => p.kill('SIGKILL')],
  ['calls process.exit()', (p) => p.stdin.write('exit\n')],
]) {
  test(`the trees die with a Node process that ${how}`, async () => {
    const { p, dies, lives, kept } = await parent();
    assert.strictEqual(dies.length, 4);
    const exited = h.once(p, 'exit');
    kill(p);
    await exited;
    await h.until(() => dies.every((pid) => !h.alive(pid)), 5000,
      'the cleanup trees to die');
    await reclaim(kept, lives);
  });
}
