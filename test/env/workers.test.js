'use strict';
// worker_threads (docs/api.md, "Threads"): the addon works in any number of
// threads at once; templates and latest() are per thread, a contract's
// events reach the thread that holds it, and a worker that ends gives its
// contracts up per their terms, leaving no fd, directory or process.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('path');
const { Worker } = require('worker_threads');
const h = require('../lib/helpers');

const root = h.useRoot('workers');
const ct = require('../..');
const lib = path.join(__dirname, '..', '..');

// Spawns n contracts one after another, each a shell whose setsid daemon
// outlives it, with the 1.0.3 calls; reports what each one saw.
const WORK = `
  const { parentPort, workerData } = require('worker_threads');
  const ct = require(workerData.lib);
  const cp = require('child_process');
  (async () => {
    const seen = [];
    for (let i = 0; i < workerData.n; i++) {
      ct.set_template({ type: 'process',
        informative: { pr_fork: true, pr_exit: true },
        cookie: workerData.cookie });
      cp.spawn('sh', ['-c', '(setsid sleep 0.05 &); exit 0'],
        { stdio: 'ignore' });
      ct.clear_template();
      const c = ct.latest();
      const evs = [];
      for (const n of ['pr_fork', 'pr_exit']) c.on(n, () => evs.push(n));
      const empty = await new Promise((r) => c.once('pr_empty', r));
      seen.push({ ctid: c.ctid, cookie: c.status().cookie,
        emptyCtid: empty.ctid,
        forks: evs.filter((e) => e === 'pr_fork').length,
        exits: evs.filter((e) => e === 'pr_exit').length });
      c.dispose();
    }
    parentPort.postMessage(seen);
  })();
`;

function work(n, cookie) {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORK, { eval: true,
      workerData: { lib, n, cookie } });
    let seen = null;
    w.on('message', (m) => { seen = m; });
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 && seen ? resolve(seen)
      : reject(new Error(`worker exited ${code}`))));
  });
}

// The process-wide event sources (poller, connector, inotify, keeper)
// exist once the first contract does; fds are counted after that.
async function warmUp() {
  const { contract } = ct.spawn('true', [], { stdio: 'ignore' });
  await h.once(contract, 'pr_empty', 10000);
  contract.dispose();
}

test('main and two workers spawn at once, each with its own latest(), ' +
  'events and pr_empty', async () => {
  await warmUp();
  const fds = h.fdCount();
  const mine = (async () => {
    const seen = [];
    for (let i = 0; i < 5; i++) {
      const { contract } = ct.spawn('sh', ['-c', '(setsid sleep 0.05 &)'],
        { stdio: 'ignore', template: { type: 'process', cookie: 1 } });
      const empty = await h.once(contract, 'pr_empty', 10000);
      seen.push({ ctid: contract.ctid, cookie: contract.status().cookie,
        emptyCtid: empty.ctid });
      contract.dispose();
    }
    return seen;
  })();
  const [a, b, m] = await Promise.all([work(5, 2), work(5, 3), mine]);
  for (const [seen, cookie] of [[a, '2'], [b, '3'], [m, '1']]) {
    assert.strictEqual(seen.length, 5);
    for (const s of seen) {
      assert.strictEqual(s.cookie, cookie, 'latest() was this thread\'s');
      assert.strictEqual(s.emptyCtid, s.ctid, 'its own pr_empty');
    }
  }
  for (const s of [...a, ...b]) {
    // sh, the subshell and the setsid daemon: each forked and exited.
    assert.strictEqual(s.forks, 3, JSON.stringify(s));
    assert.strictEqual(s.exits, 3, JSON.stringify(s));
  }
  const ids = [...a, ...b, ...m].map((s) => s.ctid);
  assert.strictEqual(new Set(ids).size, ids.length, 'every contract its own');
  await h.until(() => h.contractDirs(root).length === 0, 5000,
    'every contract removed');
  await h.until(() => h.fdCount() <= fds, 5000, 'fds back');
});

test('a worker terminated mid-run leaves no fd, directory or process',
  async () => {
    const fds = h.fdCount();
    const w = new Worker(`
      const { parentPort, workerData } = require('worker_threads');
      const ct = require(workerData.lib);
      const { contract } = ct.spawn('sh',
        ['-c', '(setsid sleep 100 &); sleep 100'], { stdio: 'ignore' });
      const poll = () => {
        const m = contract.status().pr_members;
        if (m.length >= 2) parentPort.postMessage(m);
        else setTimeout(poll, 5);
      };
      poll();
    `, { eval: true, workerData: { lib } });
    const members = await h.once(w, 'message', 10000);
    const exited = h.once(w, 'exit', 10000);
    await w.terminate();
    await exited;
    // spawn()'s cleanup (noorphan): the tree dies with its thread.
    await h.until(() => members.every((p) => !h.alive(p)), 10000,
      'the members to die');
    await h.until(() => h.contractDirs(root).length === 0, 10000,
      'the contract removed');
    await h.until(() => h.fdCount() <= fds, 5000, 'fds back');
    // This thread works on.
    const r = await ct.run('true', [], { stdio: 'ignore' });
    assert.strictEqual(r.code, 0);
  });

test('a worker\'s latest() is not the main thread\'s', async () => {
  const [s] = await work(1, 9);
  assert.ok(s.ctid > 0);
  assert.throws(() => ct.latest(), (e) => e.code === 'ESRCH');
});
