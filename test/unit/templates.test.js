'use strict';
// Bad input never crashes and is never silently ignored (docs/api.md, "The 1.0.3 surface").
const { test } = require('node:test');
const assert = require('node:assert');
const cp = require('child_process');
const h = require('../lib/helpers');

h.useRoot('tmpl');
const ct = require('../..');

const T = 'ERR_INVALID_ARG_TYPE';
const V = 'ERR_INVALID_ARG_VALUE';
const R = 'ERR_OUT_OF_RANGE';
const P = { type: 'process' };

const bad = [
  [undefined, TypeError, T], [null, TypeError, T], [1, TypeError, T],
  ['process', TypeError, T], [[], TypeError, T], [() => {}, TypeError, T],
  [{}, TypeError, T], [{ type: 1 }, TypeError, T],
  [{ type: 'bogus' }, TypeError, V],
  [{ ...P, bogus: 1 }, TypeError, V],
  [{ ...P, dev_minor: '/dev/null' }, TypeError, V],
  [{ type: 'device', fatal: {} }, TypeError, V],
  [{ ...P, critical: [] }, TypeError, T],
  [{ ...P, critical: null }, TypeError, T],
  [{ ...P, critical: 'pr_empty' }, TypeError, T],
  [{ ...P, critical: { pr_nope: true } }, TypeError, V],
  [{ ...P, critical: { dev_online: true } }, TypeError, V],
  [{ ...P, critical: { pr_empty: 1 } }, TypeError, T],
  [{ ...P, critical: { negend: true } }, TypeError, V],
  [{ ...P, informative: { pr_empty: 'yes' } }, TypeError, T],
  [{ ...P, fatal: { pr_fork: true } }, TypeError, V],
  [{ ...P, fatal: { pr_empty: true } }, TypeError, V],
  [{ ...P, param: { nope: true } }, TypeError, V],
  [{ ...P, param: { noorphan: 'true' } }, TypeError, T],
  [{ ...P, cookie: -1 }, RangeError, R],
  [{ ...P, cookie: 1.5 }, RangeError, R],
  [{ ...P, cookie: NaN }, RangeError, R],
  [{ ...P, cookie: 2 ** 53 }, RangeError, R],
  [{ ...P, cookie: 2n ** 64n }, RangeError, R],
  [{ ...P, cookie: -1n }, RangeError, R],
  [{ ...P, cookie: '18446744073709551616' }, RangeError, R],
  [{ ...P, cookie: '0x10000000000000000' }, RangeError, R],
  [{ ...P, cookie: 'abc' }, TypeError, V],
  [{ ...P, cookie: '' }, TypeError, V],
  [{ ...P, cookie: ' 1' }, TypeError, V],
  [{ ...P, cookie: {} }, TypeError, T],
  [{ ...P, cookie: true }, TypeError, T],
  [{ ...P, transfer: -1 }, RangeError, R],
  [{ ...P, transfer: '1' }, TypeError, T],
  [{ ...P, svc_fmri: 1 }, TypeError, T],
  [{ ...P, svc_aux: 'a\0b' }, TypeError, V],
  [{ ...P, svc_aux: 'x'.repeat(8192) }, RangeError, R],
  [{ type: 'device', dev_aset: {} }, TypeError, V],
  [{ type: 'device', dev_aset: { online: true, degraded: true,
    offline: true } }, TypeError, V],
  [{ type: 'device', dev_aset: { up: true } }, TypeError, V],
  [{ type: 'device', dev_noneg: 1 }, TypeError, T],
];

test('bad templates throw TypeError/RangeError with a code', () => {
  for (const [t, cls, code] of bad) {
    assert.throws(() => ct.set_template(t), (e) => {
      assert.ok(e instanceof cls, `${String(t && JSON.stringify(t,
        (k, v) => (typeof v === 'bigint' ? `${v}n` : v)))}: ${e}`);
      assert.strictEqual(e.code, code, e.message);
      assert.ok(e.message.length > 0);
      return true;
    });
  }
});

test('getters and Proxy traps that throw propagate their error', () => {
  const boom = new Error('boom');
  const t = { type: 'process', get cookie() { throw boom; } };
  assert.throws(() => ct.set_template(t), (e) => e === boom);
  const p = new Proxy({ type: 'process' }, { ownKeys() { throw boom; } });
  assert.throws(() => ct.set_template(p), (e) => e === boom);
});

test('undefined values count as not given', () => {
  ct.set_template({ type: 'process', cookie: undefined, bogus: undefined });
  ct.clear_template();
});

test('cookies of every form read back as decimal strings', async () => {
  const cases = [['0xdeadbeef', '3735928559'], [123, '123'],
    [2n ** 64n - 1n, '18446744073709551615'], ['0', '0'],
    ['18446744073709551615', '18446744073709551615'],
    [Number.MAX_SAFE_INTEGER, String(Number.MAX_SAFE_INTEGER)]];
  for (const [cookie, want] of cases) {
    ct.set_template({ type: 'process', cookie });
    const child = cp.spawn('true', { stdio: 'ignore' });
    ct.clear_template();
    const c = ct.latest();
    assert.strictEqual(c.status().cookie, want);
    await h.once(child, 'exit');
    c.dispose();
  }
});

test('set_template replaces only the template of the same type', async () => {
  ct.set_template({ type: 'process', cookie: 5 });
  ct.set_template({ type: 'device', dev_minor: '/dev/null' });
  const child = cp.spawn('true', { stdio: 'ignore' });
  const c = ct.latest('process');
  assert.strictEqual(c.status().cookie, '5');
  ct.clear_template();
  await h.once(child, 'exit');
  c.dispose();
});

test('ids and type names are checked', () => {
  assert.throws(() => ct.observe('1'),
    (e) => e instanceof TypeError && e.code === T);
  assert.throws(() => ct.observe(-1),
    (e) => e instanceof RangeError && e.code === R);
  assert.throws(() => ct.observe(2 ** 31),
    (e) => e instanceof RangeError && e.code === R);
  assert.throws(() => ct.adopt(1.5),
    (e) => e instanceof RangeError && e.code === R);
  assert.throws(() => ct.observe(999999),
    (e) => e.code === 'ESRCH' && e.errno === 3);
  assert.throws(() => ct.clear_template('bogus'),
    (e) => e instanceof TypeError && e.code === V);
  assert.throws(() => ct.list('bogus'),
    (e) => e instanceof TypeError && e.code === V);
  assert.throws(() => new ct.Contract({}),
    (e) => e instanceof TypeError && e.code === T);
});

test('create() needs a device template; process contracts come from fork',
  () => {
    ct.set_template({ type: 'process' });
    assert.throws(() => ct.create(), (e) => e instanceof Error &&
      typeof e.code === 'string' && e.errno > 0);
    ct.clear_template();
  });
