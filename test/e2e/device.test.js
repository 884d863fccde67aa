'use strict';
// Device contracts on Linux (docs/ARCHITECTURE.md, "Linux: device contracts"): state changes from
// kernel uevents; every move out of the A-set is an asynchronous break.
// The test synthesises uevents by writing to the loopback device's uevent
// file, which changes nothing about the device itself.
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const h = require('../lib/helpers');

h.useRoot('dev');
const ct = require('../..');

const LO = '/sys/class/net/lo';
const uevent = (action) => fs.writeFileSync(`${LO}/uevent`, action);
after(() => uevent('online'));

function make(template) {
  ct.set_template({ type: 'device', dev_minor: LO, ...template });
  try {
    assert.strictEqual(ct.create(), undefined);
  } finally {
    ct.clear_template('device');
  }
  return ct.latest('device');
}

test('features report device contracts', () => {
  assert.strictEqual(ct.features.devices, true);
});

test('a device contract has the device status shape and defaults', () => {
  const c = make({});
  const st = c.status();
  assert.strictEqual(st.type, 'device');
  assert.strictEqual(st.state, 'owned');
  assert.strictEqual(st.holder, process.pid);
  assert.strictEqual(st.dev_state, 'online');
  assert.deepStrictEqual(st.dev_aset,
    { online: true, degraded: true, offline: false });
  assert.strictEqual(st.dev_minor, LO);
  assert.strictEqual(st.dev_noneg, false);
  assert.deepStrictEqual(st.critical, { negend: false, dev_online: false,
    dev_degraded: false, dev_offline: true });
  assert.deepStrictEqual(st.informative, { negend: false, dev_online: false,
    dev_degraded: true, dev_offline: false });
  assert.strictEqual(st.pr_members, undefined);
  c.abandon();
  assert.strictEqual(c.status().state, 'dead');
  c.dispose();
});

test('going offline breaks the contract: critical, not negotiated, acked',
  async () => {
    const c = make({ informative: { dev_online: true } });
    const off = h.once(c, 'dev_offline');
    uevent('offline');
    const ev = await off;
    assert.strictEqual(ev.type, 'dev_offline');
    assert.strictEqual(ev.ctid, c.ctid);
    assert.deepStrictEqual(ev.flags, { info: false, ack: false, neg: false });
    assert.strictEqual(c.status().dev_state, 'offline');
    assert.strictEqual(c.status().nevents, 1);
    assert.strictEqual(c.status().state, 'owned', 'broken but owned');
    assert.throws(() => c.nack(ev.evid), (e) => e.code === 'ENOTSUP');
    assert.throws(() => c.qack(ev.evid), (e) => e.code === 'ENOTSUP');
    c.ack(ev.evid);
    assert.strictEqual(c.status().nevents, 0);
    // Back online (illumos never reports it; we do when subscribed).
    const on = h.once(c, 'dev_online');
    uevent('online');
    const ev2 = await on;
    assert.deepStrictEqual(ev2.flags, { info: true, ack: false, neg: false });
    assert.strictEqual(c.status().dev_state, 'online');
    c.abandon();
    c.dispose();
  });

test('a break is published even when not subscribed', async () => {
  const c = make({ critical: {}, informative: {},
    dev_aset: { online: true } });
  const off = h.once(c, 'dev_offline');
  uevent('offline');
  const ev = await off;
  assert.strictEqual(ev.flags.info, false);
  uevent('online');
  c.abandon();
  c.dispose();
});

test('what Linux cannot do throws ENOTSUP; unknown devices ENOENT', () => {
  assert.throws(() => ct.set_template({ type: 'device', dev_minor: LO,
    dev_noneg: true }), (e) => e.code === 'ENOTSUP' && /veto/.test(e.message));
  assert.throws(() => ct.set_template({ type: 'device',
    dev_minor: '/dev/nonexistent-device' }), (e) => e.code === 'ENOENT');
  assert.throws(() => ct.set_template({ type: 'device',
    dev_minor: '/tmp' }), (e) => e.code === 'EINVAL');
  ct.set_template({ type: 'device' });
  assert.throws(() => ct.create(), (e) => e.code === 'EINVAL' &&
    /dev_minor/.test(e.message));
  ct.clear_template();
  assert.throws(() => ct.create(), (e) => e.code === 'EINVAL');
});

test('a /dev path names its device through sysfs', () => {
  const c = make({ dev_minor: '/dev/null' });
  assert.strictEqual(c.status().dev_minor, '/dev/null');
  assert.strictEqual(c.status().dev_state, 'online');
  assert.throws(() => c.sigsend('SIGTERM'), (e) => e.code === 'EINVAL');
  assert.deepStrictEqual(ct.list('device'), [c.ctid]);
  c.abandon();
  c.dispose();
});
