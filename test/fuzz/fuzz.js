'use strict';
// Randomized calls across the whole JS API (docs/building.md, "Reliability").
//
//   npm run fuzz [-- --iterations N] [--seed S] [--spawn atfork|shim]
//
// The parent (this script without --child) prints the seed first, makes a
// jail (common.js) and runs the fuzzing in a child node process with
// --expose-gc; any death by a signal, any uncaught exception or unhandled
// rejection, any thrown thing that is not an Error with a string `code`
// (the fuzzer's own getters and Proxy traps excepted: what they throw must
// arrive unchanged), any hung promise, and any fd, directory, keeper or
// process left behind is a failure.  Re-run with the printed seed (and
// --spawn) to reproduce.
//
// Resources are measured in the child after a warm-up and at the end, both
// times after disposing everything and waiting for the keeper to leave:
// fds must be back exactly; RSS may grow by less than RSS_SLACK_MB (V8's
// heap and the allocator keep some of what 100,000 calls with 1 MiB
// strings used; a real leak of even 100 bytes per call would exceed it).
const path = require('path');
const util = require('util');
const common = require('./common');

const RSS_SLACK_MB = Number(process.env.ILLUMOS_CONTRACT_TEST_RSS_SLACK_MB) || 20;

function parseArgs(argv) {
  const { values: v } = util.parseArgs({ args: argv, options: {
    iterations: { type: 'string', short: 'n', default: '100000' },
    seed: { type: 'string' },
    spawn: { type: 'string' },
    child: { type: 'boolean', default: false },
    ops: { type: 'string' },
    'rss-every': { type: 'string' },
    verbose: { type: 'boolean', short: 'v', default: false },
  } });
  const o = { iterations: Number(v.iterations),
    seed: v.seed === undefined ? undefined : Number(v.seed),
    child: v.child, spawn: v.spawn, verbose: v.verbose, ops: v.ops,
    rssEvery: v['rss-every'] === undefined ? undefined
      : Number(v['rss-every']) };
  if (!Number.isInteger(o.iterations) || o.iterations < 0) {
    throw new Error('--iterations must be a non-negative integer');
  }
  if (o.seed !== undefined &&
      !(Number.isInteger(o.seed) && o.seed >= 0 && o.seed < 2 ** 32)) {
    throw new Error('--seed must be an integer in 0..2^32-1');
  }
  return o;
}

// ------------------------------------------------------------------------
// The child: the fuzzing itself.

async function worker(opts) {
  const fs = require('fs');
  const cp = require('child_process');
  const ct = require(path.join(__dirname, '..', '..'));
  const root = process.env.ILLUMOS_CONTRACT_ROOT;
  const rootRel = '/' + path.relative(common.MOUNT, root);
  const N = opts.iterations;
  const t0 = Date.now();

  // mulberry32.  Two streams: the calls the loop makes come from the
  // first, so a seed replays them; what listeners do (events arrive when
  // they arrive) from the second.
  function mulberry32(seed) {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6D2B79F5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const rnd = mulberry32(opts.seed);
  const arnd = mulberry32(opts.seed ^ 0x5bd1e995);
  const int = (n) => Math.floor(rnd() * n);
  const chance = (p) => rnd() < p;
  const pick = (a) => a[int(a.length)];
  const achance = (p) => arnd() < p;
  const apick = (a) => a[Math.floor(arnd() * a.length)];

  const failures = [];
  const stats = { ops: {}, codes: {}, booms: 0, v8: 0, spawns: 0,
    contracts: 0, events: {}, warnings: {}, probes: 0 };
  function fail(msg) {
    if (failures.length < 200) failures.push(msg);
    if (opts.verbose) process.stderr.write(`FAIL ${msg}\n`);
  }
  const bump = (o, k) => { o[k] = (o[k] || 0) + 1; };

  function describe(v) {
    try {
      if (v instanceof Error) return `${v.name}: ${v.message} (code ${v.code})\n${v.stack}`;
      if (typeof v === 'symbol') return v.toString();
      if (typeof v === 'bigint') return `${v}n`;
      return String(v);
    } catch {
      return '(undescribable)';
    }
  }

  // ---- what the fuzzer itself throws, and checking what arrives ----

  class FuzzBoom extends Error {}
  let cur = null; // the op under way: {name, thrown: [], v8ok, lib}
  function boomValue() {
    switch (int(8)) {
      case 0: return new FuzzBoom('boom');
      case 1: return `boom-${int(1e6)}`;
      case 2: return Symbol('boom');
      case 3: return 42n;
      case 4: return undefined;
      case 5: return Object.assign(new Error('user error'), { code: 'EUSER' });
      case 6: return new TypeError('a user TypeError');
      default: return { not: 'an error' };
    }
  }
  function thrower() {
    return function fuzzThrow() {
      const v = boomValue();
      if (cur !== null) cur.thrown.push(v);
      throw v;
    };
  }

  const LIB_CODES = /^(E[A-Z0-9]+|ERR_[A-Z_]+|ABORT_ERR)$/;
  function checkThrown(e, ctx) {
    if (ctx.thrown.some((x) => x === e)) {
      stats.booms++;
      return;
    }
    if (ctx.noThrow) fail(`${ctx.name}: a valid call threw: ${describe(e)}`);
    if (!(e instanceof Error)) {
      fail(`${ctx.name}: threw a non-Error: ${describe(e)}`);
      return;
    }
    if (e instanceof FuzzBoom) {
      fail(`${ctx.name}: a FuzzBoom of another call arrived: ${describe(e)}`);
      return;
    }
    if (ctx.v8ok && e instanceof TypeError && e.code === undefined) {
      stats.v8++; // an invalid Proxy (duplicate keys, revoked): V8's own
      return;
    }
    // Node's own message builder (determineSpecificType) trips over an
    // object whose own `constructor` is not an object, while it reports
    // junk passed to child_process: Node's bug, not the library's.
    if (!ctx.lib && e instanceof TypeError && e.code === undefined &&
        /Cannot use 'in' operator to search for 'name'/.test(e.message)) {
      stats.nodeBug = (stats.nodeBug || 0) + 1;
      return;
    }
    if (typeof e.code !== 'string' || e.code === '') {
      fail(`${ctx.name}: an Error without a string code: ${describe(e)}`);
      return;
    }
    bump(stats.codes, e.code);
    if (typeof e.message !== 'string' || e.message === '') {
      fail(`${ctx.name}: ${e.code} without a message`);
    }
    if (!LIB_CODES.test(e.code)) fail(`${ctx.name}: odd code ${e.code}`);
    if (e.code === 'ERR_OUT_OF_RANGE' && !(e instanceof RangeError)) {
      fail(`${ctx.name}: ERR_OUT_OF_RANGE is not a RangeError: ${describe(e)}`);
    }
    if (/^ERR_(INVALID_ARG_TYPE|INVALID_ARG_VALUE|UNKNOWN_SIGNAL)$/.test(e.code) &&
        !(e instanceof TypeError)) {
      fail(`${ctx.name}: ${e.code} is not a TypeError: ${describe(e)}`);
    }
    // The library's system errors (not Node's own, from child_process).
    if (ctx.lib && /^E[A-Z0-9]+$/.test(e.code)) {
      if (!(Number.isInteger(e.errno) && e.errno > 0)) {
        fail(`${ctx.name}: ${e.code} with errno ${e.errno}: ${describe(e)}`);
      }
      if (typeof e.syscall !== 'string' || e.syscall === '') {
        fail(`${ctx.name}: ${e.code} without a syscall: ${describe(e)}`);
      }
    }
    if (ctx.expect !== undefined && ctx.expect !== e.code) {
      fail(`${ctx.name}: expected ${ctx.expect}, got ${describe(e)}`);
    }
  }

  // Run fn as one fuzzed call; a returned promise is followed too.
  const pending = new Map(); // promise -> description
  function call(name, fn, { lib = true, expect, onOk, v8ok = false,
    noThrow = false, mustThrow = false } = {}) {
    bump(stats.ops, name);
    const ctx = { name, thrown: [], v8ok, lib, expect, noThrow };
    const outer = cur;
    cur = ctx;
    let r;
    try {
      r = fn(ctx);
    } catch (e) {
      checkThrown(e, ctx);
      return undefined;
    } finally {
      cur = outer;
    }
    if (ctx.expect !== undefined && !(r && typeof r.then === 'function')) {
      fail(`${name}: expected ${ctx.expect}, but it returned`);
    }
    if (mustThrow) fail(`${name}: accepted what it must refuse`);
    if (r && typeof r.then === 'function') {
      const p = r.then((v) => {
        pending.delete(p);
        if (ctx.expect !== undefined) {
          fail(`${name}: expected ${ctx.expect}, but it resolved`);
        }
        if (onOk) wrapListener(`${name}.then`, () => onOk(v));
      }, (e) => {
        pending.delete(p);
        checkThrown(e, ctx);
      });
      pending.set(p, { name, since: Date.now() });
      return undefined;
    }
    if (onOk) onOk(r);
    return r;
  }

  // Code run from an event or a promise: anything it throws is a failure.
  function wrapListener(name, fn) {
    const ctx = { name, thrown: [], v8ok: false, lib: true };
    const outer = cur;
    cur = ctx;
    try {
      fn(ctx);
    } catch (e) {
      fail(`${name}: threw ${describe(e)}`);
    } finally {
      cur = outer;
    }
  }

  process.on('uncaughtException', (e) => {
    fail(`uncaught exception: ${describe(e)}`);
  });
  process.on('unhandledRejection', (e) => {
    fail(`unhandled rejection: ${describe(e)}`);
  });
  process.on('warning', (w) => bump(stats.warnings, w.name));

  // ---- junk ----

  const HUGE = 'x'.repeat(1 << 20);
  const STRINGS = ['', 'process', 'device', 'bogus', 'a\0b', 'process\0',
    '\u{1F600}', '\ud800', '0x', '0xdeadbeef', '-1', '18446744073709551615',
    '18446744073709551616', `0x${'f'.repeat(16)}`, `0x1${'0'.repeat(16)}`,
    ' 1', '1 ', '+1', '1e3', '0b1', '0o7', 'NaN', 'Infinity', '\u0663',
    'SIGTERM', 'SIGKILL', 'sigterm', 'TERM', '__proto__', 'constructor',
    'toString', 'pr_empty', 'inherit:', '0', '1', '42', '00', '0X1F'];
  const NUMBERS = [0, -0, 1, -1, 0.5, 1.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32,
    2 ** 53 - 1, 2 ** 53, 2 ** 64, -(2 ** 63), 1e308, Number.MAX_VALUE,
    Number.MIN_VALUE, NaN, Infinity, -Infinity];
  const BIGINTS = [0n, 1n, -1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n,
    -(2n ** 64n), 2n ** 1000n, -(2n ** 1000n), -0n];
  const JUNK_KEYS = ['bogus', '', '__proto__', 'constructor', 'toString',
    '0', '1', 'cookie\0', 'type\0x', 'critical\0', 'TYPE', 'Type',
    'k'.repeat(10000), '\u{1F600}', 'pr_empty', 'dev_minor', 'fatal',
    'informative', 'param', 'transfer', 'svc_fmri', 'svc_aux', 'dev_aset',
    'dev_noneg', 'type', 'cookie', 'critical'];

  function junkString() {
    if (chance(0.01)) return HUGE;
    if (chance(0.02)) return HUGE.slice(0, pick([8191, 8192, 65536]));
    if (chance(0.1)) {
      let str = '';
      const n = int(20);
      for (let i = 0; i < n; i++) str += String.fromCharCode(int(0x80));
      return str;
    }
    return pick(STRINGS);
  }
  function junkNumber() {
    return chance(0.3) ? int(140) - 70 : pick(NUMBERS);
  }

  // A value of any kind; depth limits nesting.
  function junk(depth = 0) {
    switch (int(depth > 2 ? 12 : 17)) {
      case 0: return undefined;
      case 1: return null;
      case 2: return chance(0.5);
      case 3: case 4: return junkNumber();
      case 5: return pick(BIGINTS);
      case 6: case 7: return junkString();
      case 8: return chance(0.5) ? Symbol('junk') : Symbol.iterator;
      case 9: return () => {};
      case 10: return pick([[], [1, 2], ['pr_empty'], [true], new Array(5)]);
      case 11: return pick([new Date(0), new Map([['type', 'process']]),
        new String('process'), new Number(1), Object(1n), new Uint8Array(3),
        Object.create(null), Object.freeze({ type: 'process' }),
        /re/, new Error('an error as a value')]);
      case 12: return junkObject(depth + 1);
      case 13: return withGetter(junkObject(depth + 1), pick(JUNK_KEYS));
      case 14: return junkProxy(junkObject(depth + 1));
      case 15: return Object.create({ type: 'process', cookie: 1 });
      default: {
        const o = { pr_empty: junk(depth + 1) };
        put(o, pick(JUNK_KEYS), junk(depth + 1));
        return o;
      }
    }
  }
  // An own, enumerable property, even for '__proto__' (no setters run).
  function put(o, k, v) {
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true,
      configurable: true });
  }
  function junkObject(depth) {
    const o = {};
    const n = chance(0.01) ? 1000 : int(4);
    for (let i = 0; i < n; i++) {
      put(o, n > 10 ? `k${i}` : pick(JUNK_KEYS), depth > 3 ? null : junk(depth + 1));
    }
    if (chance(0.1)) put(o, Symbol('key'), junk(depth + 1));
    return o;
  }
  function withGetter(o, key) {
    Object.defineProperty(o, key, { enumerable: true, configurable: true,
      get: thrower() });
    return o;
  }
  // A getter answering a different value on each read.
  function unstable(o, key, values) {
    let i = 0;
    Object.defineProperty(o, key, { enumerable: true, configurable: true,
      get() {
        const v = values[Math.min(i++, values.length - 1)];
        if (v === thrower) return thrower()();
        return v;
      } });
    return o;
  }
  function junkProxy(target) {
    const handler = {};
    for (const trap of ['get', 'ownKeys', 'getOwnPropertyDescriptor', 'has',
      'getPrototypeOf']) {
      if (chance(0.25)) handler[trap] = thrower();
    }
    if (chance(0.1) && cur !== null) {
      cur.v8ok = true; // V8 refuses duplicate keys with its own TypeError
      handler.ownKeys = () => ['type', 'type'];
    }
    if (chance(0.05) && cur !== null) {
      cur.v8ok = true;
      const { proxy, revoke } = Proxy.revocable(target, {});
      revoke();
      return proxy;
    }
    return new Proxy(target, handler);
  }

  // ---- templates ----

  const PR_EVENTS = ['pr_empty', 'pr_fork', 'pr_exit', 'pr_core',
    'pr_signal', 'pr_hwerr'];
  const FATAL = ['pr_core', 'pr_signal', 'pr_hwerr'];
  const DEV_EVENTS = ['dev_online', 'dev_degraded', 'dev_offline'];
  const PARAMS = ['inherit', 'noorphan', 'pgrponly', 'regent'];
  const DEV_STATES = ['online', 'degraded', 'offline'];

  function validSet(names) {
    const o = {};
    for (const n of names) if (chance(0.4)) o[n] = chance(0.7);
    if (names !== PARAMS && chance(0.1)) o.negend = false;
    return o;
  }
  function validCookie() {
    return pick([int(1e6), 2 ** 53 - 1, 0, '0', '18446744073709551615',
      `0x${'f'.repeat(16)}`, '0X1F', '0xdeadbeef', 0n, 2n ** 64n - 1n,
      BigInt(int(1e9)), undefined]);
  }
  function validProcess() {
    const t = { type: 'process' };
    if (chance(0.3)) t.critical = validSet(PR_EVENTS);
    if (chance(0.4)) t.informative = validSet(PR_EVENTS);
    if (chance(0.2)) t.fatal = validSet(FATAL);
    if (chance(0.3)) t.param = validSet(PARAMS);
    if (chance(0.3)) t.cookie = validCookie();
    if (chance(0.1)) t.transfer = pick([0, 1, 2 ** 31 - 1]);
    if (chance(0.1)) t.svc_fmri = pick(['svc:/fuzz', 'inherit:', 'f'.repeat(8191)]);
    if (chance(0.1)) t.svc_aux = pick(['', 'aux', 'a'.repeat(8191)]);
    return t;
  }
  function validDevice() {
    const t = { type: 'device', dev_minor: pick(['/dev/null', '/sys/class/net/lo']) };
    if (chance(0.3)) t.critical = validSet(DEV_EVENTS);
    if (chance(0.3)) t.informative = validSet(DEV_EVENTS);
    if (chance(0.3)) {
      const n = 1 + int(2);
      const states = [...DEV_STATES].sort(() => rnd() - 0.5).slice(0, n);
      t.dev_aset = Object.fromEntries(states.map((k) => [k, true]));
    }
    if (chance(0.2)) t.cookie = validCookie();
    if (chance(0.1)) t.dev_noneg = false;
    return t;
  }

  // {t, stable, valid, type}: stable = every read gives the same answer.
  function genTemplate() {
    if (chance(0.03)) return { t: junk(), stable: false, valid: false };
    const base = chance(0.85) ? validProcess() : validDevice();
    const type = base.type;
    if (chance(0.35)) return { t: base, stable: true, valid: true, type };
    let t = base;
    let stable = true;
    let mustThrow = false;
    // Mutations never read t (its getters may throw): wrappers come last.
    let wrap = false;
    let wrapCritical = false;
    let proto = false;
    const n = 1 + int(3);
    for (let i = 0; i < n; i++) {
      switch (int(16)) {
        case 0: case 1: { // a valid key, a junk value
          const k = pick(['critical', 'informative', 'fatal', 'param',
            'cookie', 'transfer', 'svc_fmri', 'svc_aux', 'dev_minor',
            'dev_aset', 'dev_noneg']);
          put(t, k, chance(0.5) ? junk(1) : (chance(0.5) ? junkString() : junkNumber()));
          stable = false; // junk may hold getters and Proxies
          break;
        }
        case 2: {
          put(t, pick(JUNK_KEYS), junk(1));
          stable = false;
          break;
        }
        case 3:
          put(t, 'type', chance(0.5) ? junkString() : junk(1));
          stable = false;
          break;
        case 4: delete t.type; break;
        case 5: { // a set with junk names or values
          const k = pick(['critical', 'informative', 'fatal', 'param', 'dev_aset']);
          const set = {};
          put(set, pick([...PR_EVENTS, ...DEV_EVENTS, ...PARAMS, ...DEV_STATES,
            'negend', 'nope', 'pr_empty\0x']), chance(0.5) ? junk(2) : true);
          put(t, k, set);
          stable = false;
          break;
        }
        case 6: withGetter(t, pick(['type', 'cookie', 'critical', 'bogus'])); stable = false; break;
        case 7: { // a getter whose answer changes, or that throws later
          const k = pick(['type', 'type', 'cookie', 'critical']);
          const seqs = {
            type: [['process', 'device'], ['device', 'process'],
              ['process', 'process', thrower], ['process', thrower],
              ['process', 'bogus'], ['process', 'process', 'process', 'device']],
            cookie: [[1, 'x'], [1, thrower], [1, 1, thrower]],
            critical: [[{ pr_empty: true }, { nope: true }],
              [{ pr_empty: true }, thrower], [{}, null]],
          }[k];
          unstable(t, k, pick(seqs));
          stable = false;
          break;
        }
        case 8: wrap = true; stable = false; break;
        case 9: wrapCritical = true; break;
        case 10: put(t, Symbol('type'), 'process'); break;
        case 11: // an unknown key that C would read as a known one
          put(t, pick(['cookie\0x', 'type\0', 'critical\0y']),
            pick([5, 'process', { pr_empty: true }]));
          mustThrow = true;
          break;
        case 12:
          put(t, 'cookie', pick([...NUMBERS, ...BIGINTS, junkString()]));
          break;
        case 13: { // type not enumerable: the binding must not see it
          const d = Object.getOwnPropertyDescriptor(t, 'type');
          if (d !== undefined) {
            Object.defineProperty(t, 'type', { ...d, enumerable: false });
          }
          break;
        }
        case 14:
          put(t, 'param', { noorphan: { deep: { deeper: junk(3) } } });
          stable = false;
          break;
        default: proto = true; break;
      }
    }
    if (wrapCritical) {
      const d = Object.getOwnPropertyDescriptor(t, 'critical');
      if (d !== undefined && 'value' in d && d.value !== null &&
          typeof d.value === 'object') {
        put(t, 'critical', junkProxy(d.value));
        stable = false;
      }
    }
    if (proto) {
      t = Object.defineProperties(Object.create({ inherited: 1, type: 'process' }),
        Object.getOwnPropertyDescriptors(t));
    }
    if (wrap) t = junkProxy(t);
    return { t, stable, valid: false, mustThrow, type: stable ? type : undefined };
  }

  // ---- state ----

  // What should be active: the process template 'on', 'off', or '?'
  // (after a template whose getters answer differently on each read).
  let model = 'off';
  const entries = []; // {c, ctid, kind: owned|observed|device, child, disposed}
  const disposedPool = [];
  const children = new Set();
  const recentEvids = [];
  const MAX_ENTRIES = 40;
  const MAX_SLEEPERS = 6;
  let sleepers = 0;

  function trackChild(child, sleeper) {
    if (!child) return;
    children.add(child);
    if (sleeper) sleepers++;
    let done = false;
    const gone = () => {
      if (done) return;
      done = true;
      children.delete(child);
      if (sleeper) sleepers--;
    };
    child.on('error', (e) => {
      wrapListener('child error', () => {
        if (!(e instanceof Error) || typeof e.code !== 'string') {
          fail(`a child's error event is not an Error with a code: ${describe(e)}`);
        }
      });
      if (child.pid === undefined) gone();
    });
    child.on('exit', gone);
    if (child.stdout) child.stdout.resume();
    if (child.stderr) child.stderr.resume();
    if (child.stdin) child.stdin.end();
  }

  const EVENT_NAMES = ['pr_empty', 'pr_fork', 'pr_exit', 'pr_core',
    'pr_signal', 'pr_lost', 'dev_online', 'dev_degraded', 'dev_offline'];

  function listen(entry) {
    const c = entry.c;
    let empties = 0;
    for (const name of EVENT_NAMES) {
      if (name !== 'pr_empty' && !chance(0.4)) continue;
      c.on(name, (ev) => wrapListener(`event ${name}`, () => {
        bump(stats.events, name);
        if (ev === null || typeof ev !== 'object' || ev.type !== name ||
            ev.ctid !== c.ctid || typeof ev.evid !== 'string' ||
            !/^\d+$/.test(ev.evid) || typeof ev.flags !== 'object' ||
            typeof ev.flags.info !== 'boolean') {
          fail(`bad event object for ${name} of ${c.ctid}: ${JSON.stringify(ev)}`);
          return;
        }
        if (name === 'pr_empty' && ++empties > 1) {
          fail(`contract ${c.ctid}: pr_empty #${empties} on one Contract`);
        }
        recentEvids.push(ev.evid);
        if (recentEvids.length > 50) recentEvids.shift();
        if (!ev.flags.info && achance(0.7)) {
          try { c.ack(ev.evid); } catch (e) {
            if (!['ERR_CONTRACT_DISPOSED', 'EINVAL', 'ESRCH', 'EPERM'].includes(e.code)) {
              fail(`ack from a listener: ${describe(e)}`);
            }
          }
        }
        // A little re-entrancy: calls from inside the dispatch.
        if (achance(0.1)) {
          const what = apick(['status', 'dispose', 'sigsend0', 'usage']);
          try {
            if (what === 'status') c.status();
            else if (what === 'usage') c.usage();
            else if (what === 'sigsend0') c.sigsend(0);
            else if (entry.kind !== 'device') {
              c.dispose();
              entry.disposed = true;
            }
          } catch (e) {
            if (!(e instanceof Error) || typeof e.code !== 'string') {
              fail(`${what} from a listener: ${describe(e)}`);
            }
          }
        }
      }));
    }
  }

  function addEntry(c, kind, child) {
    if (!(c instanceof ct.Contract)) {
      fail(`${kind}: not a Contract: ${describe(c)}`);
      return null;
    }
    if (!Number.isInteger(c.ctid) || c.ctid <= 0) fail(`bad ctid ${c.ctid}`);
    stats.contracts++;
    const entry = { c, ctid: c.ctid, kind, child: child || null, disposed: false };
    if (chance(0.7)) listen(entry);
    entries.push(entry);
    while (entries.length > MAX_ENTRIES) retire(entries.shift());
    return entry;
  }

  // o[k] if it is a plain data property (reading never runs fuzzer code).
  function dataProp(o, k) {
    try {
      if (o === null || typeof o !== 'object' || require('util').types.isProxy(o)) {
        return undefined;
      }
      const d = Object.getOwnPropertyDescriptor(o, k);
      return d && 'value' in d ? d.value : undefined;
    } catch {
      return undefined;
    }
  }

  function tryQuiet(fn) {
    try { return fn(); } catch { return undefined; }
  }

  // Kill whatever runs in contract ctid (ours: this root is private).
  function killContract(ctid) {
    const o = tryQuiet(() => ct.observe(ctid));
    if (o === undefined) return;
    tryQuiet(() => o.sigsend(9));
    o.dispose();
  }

  function retire(entry) {
    if (entry.kind !== 'device') killContract(entry.ctid);
    if (!entry.disposed) {
      if (entry.kind === 'device') tryQuiet(() => entry.c.abandon());
      tryQuiet(() => entry.c.dispose());
      entry.disposed = true;
    }
    disposedPool.push(entry.c);
    if (disposedPool.length > 16) disposedPool.shift();
  }

  // ---- the calls ----

  function ids() {
    const known = entries.map((e) => e.ctid);
    return [...known, ...known, 0, -1, 1, 1.5, NaN, Infinity, 2 ** 31 - 1,
      2 ** 31, 1e9, -0, '1', null, undefined, {}, 3n, junk(1)];
  }
  const TYPES = [undefined, undefined, 'process', 'device', 'bogus', '', null,
    1, {}, 'process\0'];

  function opSetTemplate() {
    const g = genTemplate();
    call('set_template', () => ct.set_template(g.t), {
      noThrow: g.valid && g.stable,
      mustThrow: g.mustThrow && g.stable,
      onOk: () => {
        if (!g.stable) model = '?';
        else if (g.type === 'process') model = 'on';
      },
    });
  }

  function opSetValid() {
    const t = chance(0.85) ? validProcess() : validDevice();
    call('set_template(valid)', () => ct.set_template(t), {
      noThrow: true,
      onOk: () => { if (t.type === 'process') model = 'on'; },
    });
  }

  function opClear() {
    const type = pick(TYPES);
    call('clear_template', () => ct.clear_template(type), {
      onOk: () => { if (type === undefined || type === 'process') model = 'off'; },
    });
  }

  function opLatest() {
    const type = pick(TYPES);
    call('latest', () => ct.latest(type), {
      onOk: (c) => addEntry(c, 'owned'),
    });
  }

  function opAdoptObserve() {
    const id = pick(ids());
    const adopt = chance(0.4);
    call(adopt ? 'adopt' : 'observe',
      () => (adopt ? ct.adopt(id) : ct.observe(id)), {
        onOk: (c) => addEntry(c, adopt ? 'owned' : 'observed'),
      });
  }

  function opNewContract() {
    const a = chance(0.7) ? pick(ids()) : junk(1);
    const b = pick([undefined, true, false, 'yes', 1, null, {}]);
    const c3 = pick(TYPES);
    call('new Contract', () => new ct.Contract(a, b, c3), {
      onOk: (c) => addEntry(c, (a === undefined && b === undefined) || b === true
        ? 'owned' : 'observed'),
    });
  }

  function opList() {
    const type = pick(TYPES);
    call('list', () => ct.list(type), {
      onOk: (l) => {
        if (!Array.isArray(l) || !l.every((x, i) => Number.isInteger(x) &&
            x > 0 && (i === 0 || x > l[i - 1]))) {
          fail(`list(${String(type)}) gave ${JSON.stringify(l)}`);
        }
      },
    });
  }

  function opFeatures() {
    call('features', () => ct.features, {
      onOk: (f) => {
        if (!f || f.backend !== 'linux' || typeof f.freeze !== 'boolean') {
          fail(`features: ${JSON.stringify(f)}`);
        }
      },
    });
  }

  function opCreateDevice() {
    if (chance(0.5)) {
      call('set_template(device)', () => ct.set_template(validDevice()));
    }
    call('create', () => ct.create(pick([undefined, undefined, 'device',
      'process', 'bogus', 1])), {
      onOk: () => {
        // A device contract is only reachable through latest('device').
        call('latest(device)', () => ct.latest('device'), {
          onOk: (c) => addEntry(c, 'device'),
        });
      },
    });
  }

  const SIGNALS = ['SIGTERM', 'SIGKILL', 'SIGSTOP', 'SIGCONT', 'SIGHUP',
    'SIGUSR1', 'SIGINT', 'SIGBOGUS', '', 'sigterm', 'TERM', 'SIGRTMIN',
    'SIGRTMAX', 'SIGPOLL', 'SIGIOT', 'SIGSYS', 'SIGPWR', 'SIGTTIN', 'SIGWINCH',
    'constructor', '__proto__', 'toString'];
  function junkSignal() {
    if (chance(0.6)) return int(76) - 5; // -5..70
    if (chance(0.7)) return pick(SIGNALS);
    return pick([1.5, NaN, Infinity, {}, 9n, null, undefined, [], true]);
  }
  function junkEvid() {
    if (recentEvids.length > 0 && chance(0.4)) return pick(recentEvids);
    return pick([String(int(1000)), '0', '0x10', '18446744073709551615',
      '0x1ffffffffffffffff', '-1', '1.5', 'x', '', ' 1', 42, 1n, null,
      undefined, {}, '1\0', HUGE.slice(0, 1000)]);
  }
  function junkStopOptions() {
    return pick([undefined, {}, { timeout: 0 }, { timeout: int(200) },
      { signal: junkSignal() }, { signal: 'SIGKILL', timeout: 10 },
      { timeout: -1 }, { timeout: NaN }, { timeout: 'x' }, null, 5, 'x',
      { timeout: Infinity, signal: 'SIGTERM' }]);
  }

  function opOnEntry() {
    if (entries.length === 0) return;
    const entry = pick(entries);
    const c = entry.c;
    const method = pick(['status', 'status', 'usage', 'sigsend', 'sigsend',
      'ack', 'nack', 'qack', 'ref', 'unref', 'abandon', 'dispose', 'stop',
      'freeze', 'thaw', 'listeners']);
    const disposed = entry.disposed;
    const observed = entry.kind === 'observed';
    const control = ['abandon', 'ack', 'nack', 'qack', 'freeze', 'thaw'];
    let expect;
    if (disposed && method === 'dispose') {
      expect = undefined; // dispose() again does nothing (docs/api.md)
    } else if (disposed && method !== 'stop' && method !== 'listeners') {
      expect = 'ERR_CONTRACT_DISPOSED';
    } else if (!disposed && observed && control.includes(method)) {
      expect = 'EPERM';
    }
    switch (method) {
      case 'status':
        call('status', () => c.status(), { expect, onOk: (st) => checkStatus(entry, st) });
        break;
      case 'usage':
        call('usage', () => c.usage(), { expect, onOk: (u) => {
          if (!u || !Number.isInteger(u.userCPUTime) || u.userCPUTime < 0 ||
              !Number.isInteger(u.systemCPUTime) || u.systemCPUTime < 0) {
            fail(`usage of ${entry.ctid}: ${JSON.stringify(u)}`);
          }
        } });
        break;
      case 'sigsend': {
        const sig = junkSignal();
        call('sigsend', () => c.sigsend(sig), { expect });
        break;
      }
      case 'ack': case 'nack': case 'qack': {
        const evid = junkEvid();
        const valid = typeof evid === 'string' && /^(\d+|0x[0-9a-f]+)$/.test(evid) &&
          BigInt(evid) < 2n ** 64n;
        call(method, () => c[method](evid), { expect: valid || disposed ? expect : undefined });
        break;
      }
      case 'ref': case 'unref':
        call(method, () => c[method](), { expect, onOk: (r) => {
          if (r !== c) fail(`${method}() did not return the contract`);
        } });
        break;
      case 'abandon':
        call('abandon', () => c.abandon(), { expect, onOk: () => {
          entry.abandoned = true;
        } });
        break;
      case 'dispose':
        if (entry.kind === 'device' && !disposed) tryQuiet(() => c.abandon());
        call('dispose', () => c.dispose(), { expect, onOk: () => {
          entry.disposed = true;
          disposedPool.push(c);
          if (disposedPool.length > 16) disposedPool.shift();
        } });
        break;
      case 'stop': {
        const o = junkStopOptions();
        const validOpts = o === undefined || (o !== null && typeof o === 'object' &&
          (o.timeout === undefined || (typeof o.timeout === 'number' && o.timeout >= 0)) &&
          (o.signal === undefined || (typeof o.signal === 'string' &&
            require('os').constants.signals[o.signal] !== undefined)));
        call('stop', () => c.stop(o), {
          expect: validOpts ? (disposed ? 'ERR_CONTRACT_DISPOSED'
            : observed ? 'EPERM' : undefined) : undefined,
          onOk: (r) => {
            if (!r || typeof r.forced !== 'boolean') fail(`stop gave ${JSON.stringify(r)}`);
          },
        });
        break;
      }
      case 'freeze': case 'thaw':
        call(method, () => c[method](), { expect });
        break;
      default:
        if (!disposed) {
          const f = () => {};
          c.on(pick(EVENT_NAMES), f);
          if (chance(0.5)) c.removeListener('pr_empty', f);
          if (chance(0.2)) c.removeAllListeners();
        }
    }
  }

  const STATES = ['owned', 'orphan', 'dead', 'inherited'];
  function checkStatus(entry, st) {
    const bad = (what) => fail(`status of ${entry.ctid} (${entry.kind}): ${what}: ` +
      JSON.stringify(st));
    if (!st || st.ctid !== entry.ctid) return bad('ctid');
    if (!STATES.includes(st.state)) bad('state');
    if (typeof st.nevid !== 'string' || !/^\d+$/.test(st.nevid)) bad('nevid');
    if (typeof st.cookie !== 'string' || !/^\d+$/.test(st.cookie)) bad('cookie');
    if (!Number.isInteger(st.nevents) || st.nevents < 0) bad('nevents');
    if (st.type === 'process') {
      if (!Array.isArray(st.pr_members) || !Array.isArray(st.pr_contracts)) bad('arrays');
      if (st.state === 'owned' && entry.kind !== 'observed' && st.holder !== process.pid) {
        // Owned by us unless abandoned meanwhile through another handle.
        if (!entries.some((e) => e.ctid === entry.ctid && e.abandoned)) bad('holder');
      }
    } else if (st.type !== 'device') {
      bad('type');
    }
  }

  // Drop a Contract without dispose(): the garbage collector may take it
  // (its finalizer closes the handle).  Kept weakly, to dispose at the end
  // whatever is still alive then.
  const dropped = [];
  function opDrop() {
    if (entries.length === 0) return;
    const i = int(entries.length);
    const [entry] = entries.splice(i, 1);
    if (entry.kind === 'device' && !entry.disposed) tryQuiet(() => entry.c.abandon());
    bump(stats.ops, 'drop');
    dropped.push(new WeakRef(entry.c));
  }

  function opDisposed() {
    if (disposedPool.length === 0) return;
    const c = pick(disposedPool);
    const method = pick(['status', 'usage', 'sigsend', 'ack', 'nack', 'qack',
      'ref', 'unref', 'abandon', 'dispose', 'freeze', 'thaw']);
    const arg = method === 'sigsend' ? 9 : method.endsWith('ack') ? '1' : undefined;
    // dispose() again does nothing and returns undefined (docs/api.md).
    call(`disposed.${method}`, () => c[method](arg), method === 'dispose'
      ? { onOk: (r) => { if (r !== undefined) fail('dispose() again returned a value'); } }
      : { expect: 'ERR_CONTRACT_DISPOSED' });
  }

  // ---- spawning (a small fraction of the calls) ----

  const CMDS = ['/bin/true', 'true', '/nonexistent/fuzz', '/etc/passwd',
    '/tmp', '', 'sleep'];
  function junkArgs() {
    return pick([undefined, [], ['a', 'b'], [junkString()], ['1000'], null,
      [1, 2], 'x', {}, [HUGE.slice(0, 4096)]]);
  }
  function junkSpawnOptions() {
    const o = {};
    o.stdio = pick(['ignore', 'ignore', 'ignore', 'pipe', ['ignore', 'ignore',
      'ignore'], 'nonsense', undefined]);
    if (chance(0.2)) o.cwd = pick(['/', '/nonexistent', 5, '']);
    if (chance(0.1)) o.env = pick([{ PATH: '' }, { PATH: '/bin:/usr/bin' }, {}, null]);
    if (chance(0.1)) o.detached = chance(0.5);
    if (chance(0.05)) o.uid = pick([65534, -1, 1.5, 'x']);
    if (chance(0.2)) o.timeout = pick([0, 1, 5, 50, -1, NaN, 'x', Infinity, undefined]);
    if (chance(0.1)) {
      o.signal = pick([AbortSignal.abort(), AbortSignal.timeout(int(20)),
        new AbortController().signal, {}, 'x']);
    }
    if (chance(0.2)) o.killSignal = pick(['SIGTERM', 'SIGKILL', 9, 'SIGBOGUS', {}, 1.5, 100]);
    if (chance(0.1)) o.forceKillAfterDelay = pick([0, 10, -1, NaN, Infinity, 'x']);
    if (chance(0.5)) o.template = genTemplate().t;
    if (chance(0.1)) o.cleanup = pick([true, false, 'x', 0, null, undefined]);
    if (chance(0.05)) o.encoding = pick(['utf8', 'buffer', null, 'nope', 5]);
    if (chance(0.05)) o.maxBuffer = pick([0, 1, -1, NaN, Infinity, 'x']);
    if (chance(0.05)) {
      return withGetter(o, pick(['stdio', 'template', 'timeout', 'cleanup']));
    }
    if (chance(0.03)) return junk(1);
    return o;
  }

  function opSpawnJunk() {
    stats.spawns++;
    let cmd = chance(0.9) ? pick(CMDS) : junk(1);
    let args = junkArgs();
    const o = junkSpawnOptions();
    if (o && typeof o === 'object' && !require('util').types.isProxy(o) &&
        !Array.isArray(o) && chance(0.05)) {
      o.shell = true;
      cmd = '/bin/true';
      args = [];
    }
    if (cmd === 'sleep') args = ['0.05'];
    call('spawn', () => ct.spawn(cmd, args, o), {
      lib: false,
      onOk: (r) => {
        if (!r || typeof r !== 'object' || !('child' in r) || !('contract' in r)) {
          fail(`spawn returned ${describe(r)}`);
          return;
        }
        trackChild(r.child, false);
        if (r.contract !== null) addEntry(r.contract, 'owned', r.child);
        else if (r.child.pid !== undefined) fail('spawn: a child but no contract');
      },
    });
  }

  function opSpawnSleeper() {
    if (sleepers >= MAX_SLEEPERS) {
      const old = entries.find((e) => e.child && e.child.exitCode === null &&
        e.child.signalCode === null);
      if (old) killContract(old.ctid);
      return;
    }
    stats.spawns++;
    const script = pick([
      ['sleep', ['1000']],
      ['sleep', ['1000']],
      ['sh', ['-c', 'sleep 1000 & sleep 1000 & wait']],
      ['sh', ['-c', 'trap "" TERM; sleep 1000']],
    ]);
    const template = validProcess();
    call('spawn(sleeper)', () => ct.spawn(script[0], script[1],
      { stdio: 'ignore', template, detached: chance(0.3) }), {
      lib: false,
      onOk: (r) => {
        trackChild(r.child, true);
        if (r.contract === null) fail('spawn(sleeper): no contract');
        else addEntry(r.contract, 'owned', r.child);
      },
    });
  }

  function opRun() {
    stats.spawns++;
    const cmd = chance(0.85) ? '/bin/true' : pick(CMDS.filter((c) => c !== 'sleep'));
    const o = chance(0.7) ? junkSpawnOptions() : { stdio: 'ignore' };
    if (dataProp(o, 'stdio') === 'pipe') o.stdio = 'ignore';
    call('run', () => ct.run(cmd, junkArgs(), o), {
      lib: false,
      onOk: (r) => {
        if (!r || !Number.isInteger(r.ctid) || typeof r.timedOut !== 'boolean' ||
            typeof r.aborted !== 'boolean' || typeof r.forced !== 'boolean') {
          fail(`run resolved ${JSON.stringify(r)}`);
        }
      },
    });
  }

  function cgroupOf(pid) {
    try {
      const l = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')
        .find((x) => x.startsWith('0::'));
      return l ? l.slice(3) : null;
    } catch {
      return null;
    }
  }

  // A plain child_process.spawn: in a contract exactly when a process
  // template is active.
  function opProbe() {
    if (model === '?') return;
    stats.spawns++;
    stats.probes++;
    const want = model;
    let child;
    call('probe spawn', () => { child = cp.spawn('sleep', ['1000'], { stdio: 'ignore' }); },
      { lib: false });
    if (!child) return;
    trackChild(child, false);
    if (child.pid === undefined) {
      // A spawn may fail (EAGAIN...) only with a template active.
      if (want === 'off') fail('plain spawn failed with no template active');
      return;
    }
    const cg = cgroupOf(child.pid);
    const inRoot = cg !== null && cg.startsWith(`${rootRel}/`);
    if (want === 'on' && !inRoot) {
      fail(`a process template is active, but the child runs in ${cg}`);
    }
    if (want === 'off' && inRoot) {
      fail(`no process template is active, but the child runs in contract ${cg}`);
    }
    if (inRoot) {
      call('latest(probe)', () => ct.latest('process'), {
        onOk: (c) => {
          if (`${rootRel}/${c.ctid}` !== cg) {
            fail(`latest() is ${c.ctid}, the child runs in ${cg}`);
          }
          addEntry(c, 'owned', child);
        },
      });
    }
    child.kill('SIGKILL');
  }

  let OPS = [
    [opSetTemplate, 30], [opSetValid, 4], [opClear, 7], [opLatest, 6],
    [opAdoptObserve, 7], [opNewContract, 3], [opList, 3], [opFeatures, 1],
    [opCreateDevice, 1], [opOnEntry, 30], [opDisposed, 5], [opDrop, 2],
    [opSpawnJunk, 0.5], [opSpawnSleeper, 0.3], [opRun, 0.4], [opProbe, 0.4],
  ];
  if (opts.ops) { // --ops opA,opB: only these (to find what leaks)
    const want = opts.ops.split(',');
    OPS = OPS.filter(([fn]) => want.includes(fn.name));
  }
  const TOTAL = OPS.reduce((a, [, w]) => a + w, 0);
  function step() {
    let r = rnd() * TOTAL;
    for (const [fn, w] of OPS) {
      r -= w;
      if (r < 0) return fn();
    }
    return OPS[0][0]();
  }

  // Anything escaping a step was thrown outside any API call: a fuzzer bug,
  // or the library calling user code (a getter) at some later time.
  function safeStep() {
    try {
      step();
    } catch (e) {
      fail(`thrown outside any call: ${describe(e)}`);
    }
  }

  const { setImmediate: turn, setTimeout: sleep } = require('timers/promises');

  // ---- quiescing and measuring ----

  async function waitFor(cond, ms, what) {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) {
        fail(`timed out after ${ms} ms waiting for ` +
          `${typeof what === 'function' ? what() : what}`);
        return false;
      }
      await sleep(10);
    }
    return true;
  }

  async function quiesce(when) {
    tryQuiet(() => ct.clear_template());
    model = 'off';
    // Kill every tree: every contract in the root is ours.
    for (const id of tryQuiet(() => ct.list()) || []) killContract(id);
    for (const child of children) child.kill('SIGKILL');
    await waitFor(() => children.size === 0, 10000, `${when}: children to exit`);
    const members = () => common.processesUnder(root)
      .filter((p) => !/^k\d+-\d+$/.test(p.cgroup)); // the keeper is not one
    await waitFor(() => members().length === 0, 10000,
      () => `${when}: contract members to exit (left: ${JSON.stringify(members())})`);
    for (const e of entries.splice(0)) retire(e);
    for (const ref of dropped.splice(0)) {
      const c = ref.deref();
      if (c !== undefined) tryQuiet(() => c.dispose());
      else stats.collected = (stats.collected || 0) + 1;
    }
    // Device contracts: each was abandoned above; list() must be empty.
    await waitFor(() => pending.size === 0, 10000, () => `${when}: pending ` +
      `promises (${[...pending.values()].map((p) => p.name).join(', ')})`);
    await waitFor(() => common.contractDirs(root).length === 0, 10000,
      () => `${when}: contract directories to go (left: ` +
      `${common.contractDirs(root).join(' ')})`);
    const left = tryQuiet(() => ct.list());
    if (left && left.length) fail(`${when}: list() still gives ${left}`);
    // The keeper leaves ~2 s after we hold nothing; its pidfd closes then.
    await waitFor(() => common.keepersOf(process.pid).length === 0, 10000,
      `${when}: the keeper to leave`);
    await waitFor(() => !common.fdList().some((f) => f.includes('[pidfd]')),
      5000, `${when}: the keeper's pidfd to close`);
    for (let i = 0; i < 3; i++) {
      global.gc();
      await sleep(20);
    }
  }

  function measure() {
    return { fds: common.fdCount(), fdList: common.fdList(),
      rssMB: common.rssMB(), heapMB: process.memoryUsage().heapUsed / 1048576 };
  }

  // ---- the run ----

  const mode = ct.features.spawn;
  process.stderr.write(`fuzz worker ${process.pid}: seed ${opts.seed}, ` +
    `${N} iterations, spawn mode ${mode}\n`);
  // Warm-up: every kind of call, so that everything opened for good
  // (event sources, libuv's signal pipe...) is open before the baseline.
  const warm = Math.max(500, Math.min(3000, N / 10));
  for (const [fn] of OPS) {
    try { fn(); } catch (e) { fail(`thrown outside any call: ${describe(e)}`); }
  }
  for (let i = 0; i < warm; i++) {
    safeStep();
    if (i % 32 === 0) await turn();
  }
  // The first device contract opens the kernel's uevent socket for good;
  // the random warm-up may have made none (then that socket showed up as
  // an fd leak at the end).
  tryQuiet(() => {
    ct.set_template({ type: 'device', dev_minor: '/dev/null' });
    ct.create();
    addEntry(ct.latest('device'), 'device');
  });
  await quiesce('warm-up');
  const base = measure();
  let last = Date.now();
  for (let i = 0; i < N; i++) {
    safeStep();
    if (i % 32 === 0) await turn();
    if (i % 512 === 0) await sleep(1);
    if (i % 2048 === 0) global.gc(); // finalizers of dropped Contracts
    if (opts.rssEvery && i % opts.rssEvery === 0) {
      global.gc();
      process.stderr.write(`  rss ${i} ${common.rssMB().toFixed(1)} MB heap ` +
        `${(process.memoryUsage().heapUsed / 1048576).toFixed(1)} MB ` +
        `external ${(process.memoryUsage().external / 1048576).toFixed(1)} MB\n`);
    }
    if (opts.verbose && Date.now() - last > 5000) {
      last = Date.now();
      process.stderr.write(`  ${i}/${N} (${((Date.now() - t0) / 1000).toFixed(0)} s, ` +
        `${failures.length} failures)\n`);
    }
  }
  await quiesce('end');
  const end = measure();
  if (end.fds !== base.fds) {
    const a = new Set(base.fdList);
    fail(`fds: ${base.fds} after the warm-up, ${end.fds} at the end; new: ` +
      `${end.fdList.filter((f) => !a.has(f)).join(', ')}; gone: ` +
      `${base.fdList.filter((f) => !end.fdList.includes(f)).join(', ')}`);
  }
  if (end.rssMB - base.rssMB >= RSS_SLACK_MB) {
    fail(`RSS grew ${(end.rssMB - base.rssMB).toFixed(1)} MB ` +
      `(slack ${RSS_SLACK_MB} MB)`);
  }
  const result = {
    seed: opts.seed, iterations: N, warmup: warm, mode,
    seconds: (Date.now() - t0) / 1000, failures, stats,
    fds: [base.fds, end.fds], rssMB: [base.rssMB, end.rssMB],
    heapMB: [base.heapMB, end.heapMB],
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  process.exitCode = failures.length > 0 ? 1 : 0;
}

// ------------------------------------------------------------------------
// The parent.

// Run one fuzzing child; resolve {ok, problems, result, run}.
async function runFuzz({ seed, iterations = 100000, spawn, verbose = false,
  timeout, extra } = {}) {
  if (seed === undefined) seed = require('crypto').randomInt(2 ** 32);
  if (spawn === undefined) spawn = seed % 2 === 0 ? 'atfork' : 'shim';
  const jail = common.makeJail('fuzz');
  const problems = [];
  let run;
  let result = null;
  try {
    const args = ['--expose-gc', '--no-warnings', '--max-semi-space-size=1',
      __filename, '--child',
      '--seed', String(seed), '--iterations', String(iterations)];
    if (verbose) args.push('--verbose');
    if (extra) args.push(...extra);
    run = await common.runWorker(jail, args, {
      env: { ILLUMOS_CONTRACT_SPAWN: spawn },
      timeout: timeout || 60000 + iterations * 20,
      echo: verbose,
    });
    result = common.parseResult(run.out);
    if (run.timedOut) problems.push('the fuzzing child hung and was killed');
    if (run.signal) problems.push(`the fuzzing child died of ${run.signal}`);
    else if (run.code !== 0) problems.push(`the fuzzing child exited ${run.code}`);
    if (result === null) {
      problems.push(`no result; stderr: ${run.err.slice(-4000)}`);
    } else {
      problems.push(...result.failures);
    }
    problems.push(...await common.checkAfterExit(jail, run.pid));
  } finally {
    common.removeJail(jail);
  }
  return { ok: problems.length === 0, problems, result, run, seed, spawn };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.child) {
    try {
      await worker(opts);
    } catch (e) {
      console.error('the fuzzing worker failed:', e);
      process.exit(2);
    }
    // Whatever still holds the loop (it should be nothing) must not hang us.
    setTimeout(() => {
      console.error('the worker did not exit by itself: something holds ' +
        'the event loop');
      process.exit(3);
    }, 10000).unref();
    return;
  }
  const seed = opts.seed !== undefined ? opts.seed
    : require('crypto').randomInt(2 ** 32);
  const spawn = opts.spawn || (seed % 2 === 0 ? 'atfork' : 'shim');
  console.log(`fuzz: seed ${seed}, ${opts.iterations} iterations, spawn ${spawn}` +
    ` (reproduce: npm run fuzz -- --seed ${seed} --iterations ` +
    `${opts.iterations} --spawn ${spawn})`);
  const extra = [];
  if (opts.ops) extra.push('--ops', opts.ops);
  if (opts.rssEvery) extra.push('--rss-every', String(opts.rssEvery));
  const r = await runFuzz({ seed, iterations: opts.iterations, spawn,
    verbose: opts.verbose || extra.length > 0, extra });
  if (r.result) {
    const st = r.result.stats;
    console.log(`  ${r.result.iterations} calls (+${r.result.warmup} warm-up) ` +
      `in ${r.result.seconds.toFixed(1)} s, mode ${r.result.mode}: ` +
      `${st.spawns} spawns, ${st.contracts} Contract objects, ` +
      `${st.booms} fuzzer throws propagated, ${st.v8} V8 Proxy errors, ` +
      `${st.collected || 0} dropped Contracts collected by the GC`);
    console.log(`  error codes: ${JSON.stringify(st.codes)}`);
    console.log(`  events: ${JSON.stringify(st.events)}`);
    if (Object.keys(st.warnings).length) {
      console.log(`  process warnings: ${JSON.stringify(st.warnings)}`);
    }
    console.log(`  fds ${r.result.fds[0]} -> ${r.result.fds[1]}, RSS ` +
      `${r.result.rssMB[0].toFixed(1)} -> ${r.result.rssMB[1].toFixed(1)} MB ` +
      `(slack ${RSS_SLACK_MB}), heap ${r.result.heapMB[0].toFixed(1)} -> ` +
      `${r.result.heapMB[1].toFixed(1)} MB`);
  }
  if (r.ok) {
    console.log(`fuzz: PASS (seed ${seed})`);
  } else {
    console.log(`fuzz: FAIL (seed ${seed}, spawn ${spawn}): ${r.problems.length} problem(s)`);
    for (const p of r.problems.slice(0, 50)) console.log(`  - ${p}`);
    process.exitCode = 1;
  }
}

if (common.isMain(module)) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 2;
  });
}

module.exports = { runFuzz, RSS_SLACK_MB };
