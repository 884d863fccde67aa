'use strict';
// Many contracts at once: each gets exactly one pr_empty, and nothing
// (fds, directories) is left behind.
const { test } = require('node:test');
const assert = require('node:assert');
const cp = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('conc');
const ct = require('../..');

test('200 concurrent contracts each get exactly one pr_empty', async () => {
  // Warm up: the first contract opens the event sources for good.
  ct.set_template({ type: 'process' });
  cp.spawn('true', { stdio: 'ignore' });
  const warm = ct.latest();
  await h.once(warm, 'pr_empty');
  warm.dispose();
  ct.clear_template();
  const fds = h.fdCount();

  const N = 200;
  const counts = new Map();
  const contracts = [];
  const children = [];
  ct.set_template({ type: 'process' });
  for (let i = 0; i < N; i++) {
    // Mixed lifetimes: some exit at once, some after a backgrounded child.
    const script = i % 3 === 0 ? 'exit 0' : i % 3 === 1
      ? '(sleep 0.05 &); exit 0' : 'sleep 0.1';
    children.push(h.once(cp.spawn('sh', ['-c', script], { stdio: 'ignore' }),
      'exit', 20000));
    const c = ct.latest();
    counts.set(c.ctid, 0);
    contracts.push(c);
  }
  ct.clear_template();
  assert.strictEqual(new Set(contracts.map((c) => c.ctid)).size, N);
  let emptied = 0;
  let resolveAll;
  const all = new Promise((r) => { resolveAll = r; });
  for (const c of contracts) {
    c.on('pr_empty', (ev) => {
      assert.strictEqual(ev.ctid, c.ctid);
      counts.set(c.ctid, counts.get(c.ctid) + 1);
      if (++emptied === N) resolveAll();
    });
  }
  const timer = setTimeout(() => resolveAll(), h.ms(20000));
  await all;
  clearTimeout(timer);
  await Promise.all(children);
  // A quiet moment in which a duplicate would show up.
  await new Promise((r) => setTimeout(r, 100));
  const wrong = [...counts].filter(([, n]) => n !== 1);
  assert.deepStrictEqual(wrong, [], 'each exactly one pr_empty');
  for (const c of contracts) c.dispose();
  assert.deepStrictEqual(h.contractDirs(root), [], 'no directory left');
  assert.strictEqual(h.fdCount(), fds, 'fds back to baseline');
});

test('ids are next-fit across processes: none handed out twice before wrap',
  async () => {
    // Three processes on one root make and end contracts as fast as they
    // can; every directory is removed at once, so a process that read
    // the hint before another's mkdir would reuse a freed id.  A test
    // switch stalls each allocation between reading the hint and the
    // mkdir, where the race is.
    const N = 60;
    const script = `
      const ct = require(${JSON.stringify(require('path').join(__dirname, '..', '..'))});
      const cp = require('child_process');
      const ids = [];
      ct.set_template({ type: 'process' });
      (async () => {
        for (let i = 0; i < ${N}; i++) {
          const child = cp.spawn('/bin/true', [], { stdio: 'ignore' });
          const c = ct.latest();
          ids.push(c.ctid);
          await new Promise((r) => child.once('exit', r));
          c.dispose();
        }
        ct.clear_template();
        console.log(JSON.stringify(ids));
      })();`;
    const runs = [0, 1, 2].map(() => new Promise((resolve, reject) => {
      const p = cp.spawn(process.execPath, ['-e', script],
        { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env,
          ILLUMOS_CONTRACT_TEST_MKDIR_STALL_US: '3000' } });
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.once('error', reject);
      p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out))
        : reject(new Error(`child exited ${code}`))));
    }));
    const lists = await Promise.all(runs);
    for (const ids of lists) {
      assert.strictEqual(ids.length, N);
      for (let i = 1; i < ids.length; i++) {
        assert.ok(ids[i] > ids[i - 1], `increasing: ${ids[i - 1]} then ${ids[i]}`);
      }
    }
    const all = lists.flat();
    const twice = all.filter((id, i) => all.indexOf(id) !== i);
    assert.deepStrictEqual(twice, [], 'no id handed out twice');
  });
