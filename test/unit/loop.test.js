'use strict';
// When a Contract holds the event loop (docs/api.md, "Extensions"): an observer with
// listeners keeps its process alive until the contract is empty, as a
// socket with a 'data' listener does; unref(), dispose() or no listener
// let it exit.  Each case is a script of its own whose exit we watch.
const { test } = require('node:test');
const assert = require('node:assert');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

h.useRoot('loop');
const ct = require('../..');
const lib = JSON.stringify(path.join(__dirname, '..', '..'));

// Run `body` (with `ct` and `ctid` defined) in a node process of its own;
// resolve {code, out} when it exits, reject if it has not after 10 s.
// ready() resolves once it printed a line 'ready'.
function script(ctid, body) {
  const p = cp.spawn(process.execPath, ['-e', `
    const ct = require(${lib});
    const ctid = ${ctid};
    ${body}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let wake = () => {};
  p.stdout.on('data', (d) => {
    out += d;
    wake();
  });
  const ready = new Promise((resolve) => {
    wake = () => { if (/^ready$/m.test(out)) resolve(); };
  });
  const exited = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`the script did not exit by itself; it printed ${
        JSON.stringify(out)}`));
    }, 10000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, get out() { return out; } });
    });
  });
  return { ready, exited };
}

function sleeper() {
  const { contract } = ct.spawn('sleep', ['100'], { stdio: 'ignore' });
  return contract;
}

async function end(c) {
  const empty = h.once(c, 'pr_empty');
  c.sigsend('SIGKILL');
  await empty;
  c.dispose();
}

test('an observer with a listener keeps its process alive until pr_empty',
  async () => {
    const c = sleeper();
    const s = script(c.ctid, `
      const o = ct.observe(ctid);
      o.on('pr_empty', (ev) => console.log('empty ' + ev.ctid));
      console.log('ready');`);
    // Had the observer not held the loop, the script would be gone by now
    // without printing 'empty' (its listener stays attached after it).
    await Promise.race([s.ready, s.exited]);
    await end(c);
    const { code, out } = await s.exited;
    assert.strictEqual(code, 0);
    assert.strictEqual(out, `ready\nempty ${c.ctid}\n`);
  });

test('an observer lets go after unref(), dispose(), or its last listener',
  async () => {
    const c = sleeper();
    const pid = c.status().pr_members[0];
    for (const [how, body] of [
      ['unref', 'o.on(\'pr_exit\', () => {}); o.unref();'],
      ['dispose', 'o.on(\'pr_empty\', () => {}); o.dispose();'],
      ['off', 'const f = () => {}; o.on(\'pr_empty\', f); o.off(\'pr_empty\', f);'],
      ['none', ''],
    ]) {
      const s = script(c.ctid, `const o = ct.observe(ctid); ${body}
        console.log('members ' + ${how === 'dispose'
    ? 'ct.observe(ctid)' : 'o'}.status().pr_members.length);`);
      const { code, out } = await s.exited;
      assert.strictEqual(code, 0, how);
      assert.strictEqual(out, 'members 1\n', how);
      assert.ok(h.alive(pid), `${how}: the member still runs`);
    }
    await end(c);
  });

test('an observer that was unref()ed holds the loop again after ref()',
  async () => {
    const c = sleeper();
    const s = script(c.ctid, `
      const o = ct.observe(ctid);
      o.on('pr_empty', () => console.log('empty'));
      o.unref().ref();
      console.log('ready');`);
    await Promise.race([s.ready, s.exited]);
    await end(c);
    const { code, out } = await s.exited;
    assert.strictEqual(code, 0);
    assert.strictEqual(out, 'ready\nempty\n');
  });
