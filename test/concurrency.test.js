'use strict';
// Many contracts at once: each gets exactly one pr_empty, and nothing
// (fds, directories) is left behind.
const { test } = require('node:test');
const assert = require('node:assert');
const cp = require('child_process');
const h = require('./helpers');

const root = h.useRoot('conc');
const ct = require('..');

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
  const timer = setTimeout(() => resolveAll(), 20000);
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
