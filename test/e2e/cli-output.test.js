'use strict';
// What the tools print, line by line, against illumos's own tools
// (illumos-gate arm64-gate: usr/src/cmd/ctstat/ctstat.c, ctwatch/ctwatch.c,
// ctrun/ctrun.c; usr/src/lib/libcontract/common/process_dump.c,
// device_dump.c, libcontract_priv.c for the event lines; libuutil's
// uu_pname.c for the "prog: " prefix and the ": strerror" that uu_warn and
// uu_die add when a format has no newline).  The facts below are illumos's
// strings, each cited by file:line, not its code.  Each is checked by
// running our built tools (build/Release) where Linux can take the path,
// else against the C string literals of our sources (src/cli/).  Where ours
// differs on purpose, DIFFERS says so and why, and the test fails once the
// difference is gone.  The option letters: test/unit/cli-options.test.js.
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('cliout');
const ct = require('../..');

const top = path.join(__dirname, '..', '..');
const tool = (name) => path.join(top, 'build', 'Release', name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-cliout-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ---- illumos's strings (facts, with where they are) ----

const ILLUMOS = {
  ctstat: {
    usage: ['Usage: ctstat [-a] [-i ctidlist] [-t typelist] [-T d|u] [-v] ' +
      '[interval [count]]', 'ctstat.c:59-60'],
    header: [['CTID', 'ZONEID', 'TYPE', 'STATE', 'HOLDER', 'EVENTS', 'QTIME',
      'NTIME'], 'ctstat.c:509-510 (%-8s each)'],
    row: ['%-7ld %-7ld %-7s %-7s %-7s %-7d %-7s %-8s', 'ctstat.c:590'],
    states: [['owned', 'inherit', 'orphan', 'dead'], 'ctstat.c:594-596'],
    holderNone: ['-', 'ctstat.c:576'],
    timeNone: ['-', 'ctstat.c:579-580'],
    // print_verbose: the common fields first, then the type's.
    vcommon: [['cookie'], 'ctstat.c:404-407'],
    vprocess: [['informative event set', 'critical event set',
      'fatal event set', 'parameter set', 'member processes',
      'inherited contracts', 'service fmri', 'service fmri ctid', 'creator',
      'aux'], 'ctstat.c:415-427'],
    vdevice: [['device', 'dev_state'], 'ctstat.c:429-433'],
    // "\t<label>" then ":" left-justified in (longest label + 2) - label.
    padding: ['maxwidth = longest + 2; "%-*s", maxwidth - tmp + 1, ":"',
      'ctstat.c:449-473'],
    events: [['core', 'signal', 'hwerr', 'empty', 'fork', 'exit'],
      'ctstat.c:115-123'],
    params: [['inherit', 'noorphan', 'pgrponly', 'regent'],
      'ctstat.c:107-113'],
    emptySet: ['none', 'ctstat.c:145 (print_bits), :167 (print_ids)'],
    cookie: ['%#llx', 'ctstat.c:205'],
    devStates: [['online', 'degraded', 'offline'], 'ctstat.c:278-279'],
    fieldError: ['(error: %s)', 'ctstat.c:194'],
    badType: ['ctstat: invalid contract type: %s', 'ctstat.c:497 (uu_die: ' +
      'exit 1)'],
    badNumber: ['ctstat: invalid numerical argument "%s"', 'ctstat.c:76 ' +
      '(then usage, exit 2)'],
  },
  ctwatch: {
    usage: ['Usage: ctwatch [-f] [-r] [-v] contract-id | contract-type ...',
      'ctwatch.c:71-73'],
    header: ['%-8s%-8s%-5s%-4s%-9s%s: CTID EVID CRIT ACK CTTYPE SUMMARY',
      'ctwatch.c:117-118'],
    row: ['%-8ld%-8lld%-5s%-4s%-9s', 'ctwatch.c:145'],
    crit: [['info', 'neg', 'crit'], 'ctwatch.c:148'],
    ack: [['yes', 'no'], 'ctwatch.c:149'],
    badType: ['ctwatch: invalid contract type: %s', 'ctwatch.c:176, :279, ' +
      ':289 (uu_die: exit 1)'],
    badId: ['ctwatch: invalid contract id: %d', 'ctwatch.c:322'],
    noAccess: ['ctwatch: could not access contract id %d', 'ctwatch.c:323, ' +
      ':328 (a warning; carries on)'],
    noContracts: ['ctwatch: no contracts to watch', 'ctwatch.c:343'],
    // uu_warn without a newline: ": strerror(errno)" follows.
    unreliable: ['ctwatch: could not request reliable events: %s',
      'ctwatch.c:351'],
  },
  // contract_event_dump's lines, after ctwatch's columns or ctrun's
  // "event from contract N: ".
  events: {
    empty: ['contract empty', 'process_dump.c:59'],
    fork: ['process %d was created', 'process_dump.c:62'],
    exit: ['process %d exited', 'process_dump.c:65'],
    core: ['process %d dumped core', 'process_dump.c:68'],
    signal: ['process %d received a fatal signal', 'process_dump.c:71-72'],
    hwerr: ['process %d was killed by a hardware error',
      'process_dump.c:75-76'],
    unknown: ['process %d sent an unknown event', 'process_dump.c:79'],
    ppid: ['\tparent pid: %d', 'process_dump.c:95-96'],
    wait: ['\twait status: 0x%x', 'process_dump.c:101-102'],
    exited: [' (exited, code %d)', 'process_dump.c:104-105'],
    signaled: [' (signal %d', 'process_dump.c:108-109'],
    signame: [' (SIG%s)', 'process_dump.c:111-112 (only if sig2str knows it)'],
    cored: [', core dumped)', 'process_dump.c:114-115'],
    pcore: ['\tprocess core: %s', 'process_dump.c:128-129'],
    gcore: ['\tglobal core: %s', 'process_dump.c:131-132'],
    zcore: ['\tglobal zone core: %s', 'process_dump.c:134-135'],
    sig: ['\tsignal: %d (SIG%s)', 'process_dump.c:143-144'],
    sigNoName: ['\tsignal: %d', 'process_dump.c:140-141'],
    sender: ['\tsender pid: %d', 'process_dump.c:147-148'],
    senderCt: ['\tsender ctid: %d', 'process_dump.c:150-151'],
    devBad: ['[bad contract]', 'device_dump.c:60'],
    devOffline: ['device %s offlining', 'device_dump.c:77'],
    devDegraded: ['device %s degrading', 'device_dump.c:80'],
    devOnline: ['device %s online', 'device_dump.c:83'],
    devUnknown: ['device %s sent an unknown event', 'device_dump.c:90'],
    negOk: ['negotiation %llu succeeded', 'libcontract_priv.c:163'],
    negFail: ['negotiation %llu failed', 'libcontract_priv.c:165'],
  },
  ctrun: {
    usage: ['Usage: ctrun [-i eventlist] [-f eventlist] [-l lifetime] \n' +
      '\t[-o optionlist] [-r count [-t]] [-v]\n\t[-F fmri] [-A aux] command',
    'ctrun.c:88-91'],
    vPrefix: ['%s(%ld): ', 'ctrun.c:225'],
    created: ['created contract id %ld', 'ctrun.c:652'],
    adopted: ['adopted contract id %ld', 'ctrun.c:580'],
    event: ['event from contract %ld: ', 'ctrun.c:261'],
    fatal: ['fatal "%s" event from contract %ld', 'ctrun.c:669'],
    restart: ['failure in contract %ld, restarting command',
      'ctrun.c:680-681'],
    badId: ['ctrun: invalid contract ID \'%s\'', 'ctrun.c:406'],
    badCount: ['ctrun: invalid count \'%s\'', 'ctrun.c:424'],
    badLife: ['ctrun: invalid lifetime \'%s\'', 'ctrun.c:437'],
    emptyOpt: ['ctrun: empty option', 'ctrun.c:166 (a warning)'],
    unrecognized: ['ctrun: unrecognized option \'%.*s\'', 'ctrun.c:175'],
    parsing: ['ctrun: error parsing \'-%c\' option', 'ctrun.c:177'],
    twice: ['ctrun: option \'%.*s\' specified twice', 'ctrun.c:184-185 ' +
      '(a warning)'],
    none: ['ctrun: option is incompatible with others: \'none\'',
      'ctrun.c:195'],
    noorphanNone: ['ctrun: cannot use option \'noorphan\' with lifetime ' +
      '\'none\'', 'ctrun.c:476-477'],
    restartLife: ['ctrun: cannot restart with lifetime \'%s\'',
      'ctrun.c:482-483'],
    restartPgrp: ['ctrun: cannot restart with option \'pgrponly\'',
      'ctrun.c:488-489'],
    transfer: ['ctrun: cannot transfer when not restarting', 'ctrun.c:494'],
    // uu_die/uu_xdie without a newline: ": strerror(errno)" follows.
    exec: ['ctrun: exec failed: %s', 'ctrun.c:629-630 (127 if ENOENT, ' +
      'else 126)'],
    open: ['ctrun: could not open contract %ld: %s', 'ctrun.c:557'],
    stat: ['ctrun: could not stat contract %ld: %s', 'ctrun.c:569'],
    adopt: ['ctrun: could not adopt contract %ld: %s', 'ctrun.c:575'],
  },
};

// ---- helpers ----

function start(cmd, args, opts = {}) {
  const p = cp.spawn(cmd, args, {
    stdio: [opts.stdin || 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ILLUMOS_CONTRACT_ROOT: root },
  });
  const r = { p, out: '', err: '' };
  p.stdout.on('data', (d) => { r.out += d; });
  p.stderr.on('data', (d) => { r.err += d; });
  r.done = new Promise((resolve) => {
    p.on('close', (code, signal) => resolve({ code, signal, out: r.out,
      err: r.err }));
  });
  return r;
}

async function run(name, args, ms = 15000) {
  const r = start(tool(name), args);
  const timer = setTimeout(() => r.p.kill('SIGKILL'), ms);
  const res = await r.done;
  clearTimeout(timer);
  return res;
}

// printf, enough for illumos's formats: %[-][width|*]s/d/ld/lld/x/#llx.
function printf(fmt, ...args) {
  return fmt.replace(/%(#?)(-?)(\*|\d*)(?:l{0,2}|\.\*)([sduxc%])/g,
    (m, alt, left, w, conv) => {
      if (conv === '%') return '%';
      const width = w === '*' ? args.shift() : Number(w || 0);
      let v = args.shift();
      if (conv === 'x') v = (alt && v !== 0 ? '0x' : '') + v.toString(16);
      v = String(v);
      return left ? v.padEnd(width) : v.padStart(width);
    });
}

const F = (k, ...a) => printf(k[0], ...a);

// Every C string literal of a source file, adjacent ones joined, escapes
// undone: what printf gets.
function literals(file) {
  const s = fs.readFileSync(path.join(top, 'src', 'cli', file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, ' ');
  const out = [];
  const re = /"((?:[^"\\\n]|\\.)*)"(?:\s*"((?:[^"\\\n]|\\.)*)")*/g;
  for (const m of s.matchAll(re)) {
    const parts = [...m[0].matchAll(/"((?:[^"\\\n]|\\.)*)"/g)].map((x) => x[1]);
    out.push(parts.join('').replace(/\\n/g, '\n').replace(/\\t/g, '\t')
      .replace(/\\"/g, '"').replace(/\\\\/g, '\\'));
  }
  return out;
}

// Whether an illumos format, its %ld/%lld as our %d, is in ours.
function inSource(file, fmt) {
  const want = fmt.replace(/%l{1,2}d/g, '%d');
  return literals(file).some((l) => l.includes(want));
}

const compared = { ctstat: 0, ctwatch: 0, ctrun: 0 };
after(() => {
  // The count of illumos strings compared, per tool (for the record).
  process.stdout.write(`# compared: ${JSON.stringify(compared)}\n`);
});
function same(toolName, actual, expected, fact) {
  assert.strictEqual(actual, expected, fact[1]);
  compared[toolName]++;
}
function hasSource(toolName, file, fact, fmt = fact[0]) {
  assert.ok(inSource(file, fmt), `${fact[1]}: "${fmt}" not in src/cli/${file}`);
  compared[toolName]++;
}

// Differences on purpose, each asserted (the test fails once it is gone).
const DIFFERS = [];
function differs(toolName, what, why, check) {
  DIFFERS.push({ tool: toolName, what, why, check });
}

// ---- ctstat ----

const ST = ILLUMOS.ctstat;
const header = ST.header[0].map((w) => w.padEnd(8)).join('');

// The -v block illumos would print: labels of common + type, padded.
function verboseLines(spec, values) {
  const labels = [...ST.vcommon[0], ...spec];
  const maxwidth = Math.max(...labels.map((l) => l.length)) + 2;
  return labels.map((l, i) => `\t${l}${':'.padEnd(maxwidth - l.length)}` +
    `${values[i]}`);
}

// Until the program has exec'd, its argv is its parent's (under reaper
// membership, ct-exec's): ctstat -v would print that.
function execd(contract, pid) {
  return h.until(() => contract.members().some((m) => m.pid === pid &&
    m.argv[0] === 'sleep'), 10000, 'the program to exec');
}

test('ctstat: usage, header, row, states, -v of a process contract',
  async (t) => {
    let r = await run('ctstat', ['-x']);
    same('ctstat', r.err.split('\n').at(-2), ST.usage[0], ST.usage);

    const { child, contract } = ct.spawn('sleep', ['30'], {
      template: { type: 'process', cookie: '0x2a',
        informative: { pr_fork: true, pr_exit: true, pr_core: true },
        critical: { pr_signal: true }, fatal: { pr_core: true } },
      stdio: 'ignore',
    });
    t.after(async () => {
      await contract.stop({ signal: 'SIGKILL' });
      contract.dispose();
    });
    const id = contract.ctid;
    await execd(contract, child.pid);
    r = await run('ctstat', ['-v', '-i', String(id)]);
    assert.strictEqual(r.code, 0, r.err);
    const lines = r.out.split('\n');
    same('ctstat', lines[0], header, ST.header);
    same('ctstat', lines[1], printf(ST.row[0], id, 0, 'process',
      ST.states[0][0], String(process.pid), 0, ST.timeNone[0],
      ST.timeNone[0]), ST.row);
    // What ours adds under "member processes" (DIFFERS) comes out first.
    const extra = `\t${''.padEnd(23)}${child.pid}: sleep 30`;
    const block = lines.slice(2, -1).filter((l) => l !== extra);
    const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
    // A set: its members in print_bits' order (ctstat.c:115-123).
    const st = contract.status();
    const set = (o) => ST.events[0].filter((e) => o[`pr_${e}`]).join(' ') ||
      ST.emptySet[0];
    assert.strictEqual(set(st.informative), 'core fork exit');
    const want = verboseLines(ST.vprocess[0], [
      printf(ST.cookie[0], 0x2a),
      set(st.informative), set(st.critical), set(st.pr_fatal),
      'noorphan',
      String(child.pid),
      ST.emptySet[0],
      '', String(id), comm, '',
    ]);
    assert.strictEqual(block.length, want.length, r.out);
    for (let i = 0; i < want.length; i++) {
      same('ctstat', block[i], want[i], i < 3 ? ST.vprocess : ST.padding);
    }
  });

test('ctstat: an orphan\'s row: "orphan" and holder "-"', async () => {
  const f = path.join(tmp, 'orphan');
  const r = await run('ctrun', ['-v', '-l', 'none', '-o', 'inherit,regent',
    '--', 'sh', '-c', `echo $$ > ${f}; exec sleep 30 >/dev/null 2>&1`]);
  assert.strictEqual(r.code, 0, r.err);
  await h.until(() => /^\d+\n$/.test(fs.existsSync(f) &&
    fs.readFileSync(f, 'utf8')), 10000, 'the orphan\'s member');
  const id = Number(r.out.match(/created contract id (\d+)/)[1]);
  const pid = Number(fs.readFileSync(f, 'utf8'));
  try {
    const s = await run('ctstat', ['-v', '-i', String(id)]);
    const lines = s.out.split('\n');
    // Its status may have queued events (nevents, qtime) by now: the row's
    // columns up to HOLDER.
    same('ctstat', lines[1].slice(0, 40), printf(ST.row[0], id, 0, 'process',
      ST.states[0][2], ST.holderNone[0], 0, '-', '-').slice(0, 40), ST.states);
    const params = lines.find((l) => l.startsWith('\tparameter set:'));
    same('ctstat', params.split(/: +/)[1], 'inherit regent', ST.params);
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});

test('ctstat -v of a device contract: cookie, device, dev_state',
  { skip: !ct.features.devices && 'no device contracts here' }, async () => {
    const minor = '/sys/class/net/lo';
    ct.set_template({ type: 'device', dev_minor: minor });
    try {
      ct.create();
    } finally {
      ct.clear_template('device');
    }
    const c = ct.latest('device');
    try {
      const r = await run('ctstat', ['-v', '-i', String(c.ctid)]);
      assert.strictEqual(r.code, 0, r.err);
      const lines = r.out.split('\n');
      same('ctstat', lines[1].slice(0, 24), printf('%-7ld %-7ld %-7s ',
        c.ctid, 0, 'device'), ST.row);
      const want = verboseLines(ST.vdevice[0], [printf(ST.cookie[0], 0),
        minor, ST.devStates[0][0]]);
      assert.deepStrictEqual(lines.slice(2, -1), want, ST.vdevice[1]);
      compared.ctstat += want.length;
    } finally {
      c.abandon();
      c.dispose();
    }
  });

test('ctstat: the words it cannot show on Linux, in our source', () => {
  for (const w of ST.states[0]) hasSource('ctstat', 'ctstat.c', ST.states, w);
  hasSource('ctstat', 'ctstat.c', ST.fieldError);
  hasSource('ctstat', 'ctstat.c', ST.cookie);
  // dev_state's words come from src/names.c, as the library names them.
  const names = fs.readFileSync(path.join(top, 'src', 'names.c'), 'utf8');
  const dev = names.match(/ct_names_devstates\[\] = \{([\s\S]*?)\};/)[1];
  assert.deepStrictEqual([...dev.matchAll(/"(\w+)"/g)].map((m) => m[1]),
    ST.devStates[0], ST.devStates[1]);
  const par = names.match(/ct_names_params\[\] = \{([\s\S]*?)\};/)[1];
  assert.deepStrictEqual([...par.matchAll(/"(\w+)"/g)].map((m) => m[1]),
    ST.params[0], ST.params[1]);
  const evs = fs.readFileSync(path.join(top, 'src', 'cli', 'cli.c'), 'utf8')
    .match(/cli_pr_events\[\] = \{([\s\S]*?)\};/)[1];
  assert.deepStrictEqual([...evs.matchAll(/"(\w+)"/g)].map((m) => m[1]),
    ST.events[0], ST.events[1]);
  compared.ctstat += 3;
});

test('ctstat: its errors', async () => {
  let r = await run('ctstat', ['-t', 'socket']);
  assert.strictEqual(r.code, 1);
  same('ctstat', r.err, `${printf(ST.badType[0], 'socket')}\n`, ST.badType);
  for (const args of [['-i', '1,x'], ['1', 'x']]) {
    r = await run('ctstat', args);
    assert.strictEqual(r.code, 2);
    same('ctstat', r.err, `${printf(ST.badNumber[0], 'x')}\n${ST.usage[0]}\n`,
      ST.badNumber);
  }
});

// ---- ctwatch and the event lines ----

const W = ILLUMOS.ctwatch;
const E = ILLUMOS.events;

test('ctwatch -v and ctrun -V: the event lines of illumos', async () => {
  const f = path.join(tmp, 'sig');
  // fork, exit (code 4), a signal from outside, its exit, empty.
  const runner = start(tool('ctrun'), ['-V', '-i', 'fork,exit,signal', '--',
    'sh', '-c', `read x; sh -c "exit 4"; echo $$ > ${f}; exec sleep 30`],
  { stdin: 'pipe' });
  await h.until(() => /created contract id \d+\n/.test(runner.out), 10000,
    'ctrun -V to say its contract');
  const id = runner.out.match(/created contract id (\d+)\n/)[1];
  const w = start(tool('ctwatch'), ['-v', id]);
  await h.until(() => w.out.includes('\n'), 10000, 'the header');
  runner.p.stdin.end('go\n');
  await h.until(() => /^\d+\n$/.test(fs.existsSync(f) &&
    fs.readFileSync(f, 'utf8')), 10000, 'the sleep');
  const pid = Number(fs.readFileSync(f, 'utf8'));
  process.kill(pid, 'SIGTERM');
  await h.until(() => w.out.includes(E.empty[0]), 10000, 'contract empty');
  const rr = await runner.done;
  w.p.kill('SIGTERM');
  const wr = await w.done;
  assert.strictEqual(wr.code, 0, wr.err);

  const lines = wr.out.split('\n');
  same('ctwatch', lines[0], printf('%-8s%-8s%-5s%-4s%-9s%s', 'CTID', 'EVID',
    'CRIT', 'ACK', 'CTTYPE', 'SUMMARY'), W.header);
  // Each event row: ctwatch.c:145's columns, then the dump's line.
  const rows = [];
  for (const l of lines.slice(1)) {
    const m = l.match(/^(\d+) +(\d+) +(\w+) +(\w+) +(\w+) +(.*)$/);
    if (!m) continue;
    same('ctwatch', l.slice(0, 34), printf(W.row[0], Number(m[1]),
      Number(m[2]), m[3], m[4], m[5]), W.row);
    assert.ok(W.crit[0].includes(m[3]) && W.ack[0].includes(m[4]), l);
    rows.push(m[6]);
  }
  const re = (k) => new RegExp(`^${printf(k[0], 0).replace('0', '\\d+')}$`);
  for (const k of [E.fork, E.exit, E.signal, E.empty]) {
    assert.ok(rows.some((s) => re(k).test(s)), `${k[1]}: ${wr.out}`);
    compared.ctwatch++;
  }
  // Details (-v), in ctwatch's output and in ctrun -V's alike.
  const details = [
    F(E.wait, 0x400) + F(E.exited, 4),
    F(E.wait, 0xf) + F(E.signaled, 15) + F(E.signame, 'TERM') + ')',
    F(E.sig, 15, 'TERM'),
  ];
  for (const d of details) {
    assert.ok(lines.includes(d), `${d}: ${wr.out}`);
    compared.ctwatch++;
    assert.ok(rr.out.split('\n').includes(d), `${d}: ${rr.out}`);
    compared.ctrun++;
  }
  assert.ok(lines.some((l) => re(E.ppid).test(l)), wr.out);
  compared.ctwatch++;

  // ctrun -V: "ctrun(pid): event from contract N: <summary>".
  const pre = printf(ILLUMOS.ctrun.vPrefix[0], 'ctrun', runner.p.pid);
  same('ctrun', rr.out.split('\n')[0], pre + F(ILLUMOS.ctrun.created,
    Number(id)), ILLUMOS.ctrun.created);
  const evpre = pre + F(ILLUMOS.ctrun.event, Number(id));
  for (const k of [E.fork, E.exit, E.signal, E.empty]) {
    assert.ok(rr.out.split('\n').some((l) => l.startsWith(evpre) &&
      re(k).test(l.slice(evpre.length))), `${k[1]}: ${rr.out}`);
    compared.ctrun++;
  }
});

test('ctwatch: usage and errors', async () => {
  let r = await run('ctwatch', ['-x']);
  const usage = r.err.split('\n').at(-2);
  // Ours has -a (every type) after -v: the rest is illumos's.
  same('ctwatch', usage.replace(' [-a]', ''), W.usage[0], W.usage);
  r = await run('ctwatch', ['socket']);
  assert.strictEqual(r.code, 1);
  same('ctwatch', r.err, `${printf(W.badType[0], 'socket')}\n`, W.badType);
  r = await run('ctwatch', ['2147483647']);
  assert.strictEqual(r.code, 1);
  same('ctwatch', r.err, `${printf(W.badId[0], 2147483647)}\n`, W.badId);
});

test('ctwatch and the event lines: what Linux cannot show, in our source',
  () => {
    // Without the privilege (illumos), and contracts one may not observe.
    hasSource('ctwatch', 'ctwatch.c', W.noAccess,
      W.noAccess[0].replace('ctwatch', '%s'));
    hasSource('ctwatch', 'ctwatch.c', W.noContracts,
      W.noContracts[0].replace('ctwatch', '%s'));
    hasSource('ctwatch', 'ctwatch.c', W.unreliable,
      W.unreliable[0].replace('ctwatch', '%s'));
    // -r's warning carries strerror(EPERM), as uu_warn adds it.
    assert.match(fs.readFileSync(path.join(top, 'src', 'cli', 'ctwatch.c'),
      'utf8'), /reliable "\s*"events: %s\\n", cli_prog, strerror\(EPERM\)\)/);
    for (const k of ['neg', 'crit']) hasSource('ctwatch', 'ctwatch.c', W.crit, k);
    // The summaries and details from evprint.c, whose table gives the
    // words after "process %d ".
    const ev = literals('evprint.c');
    for (const k of [E.core, E.hwerr]) {
      const tail = k[0].replace('process %d ', '');
      assert.ok(ev.includes(tail), k[1]);
      compared.ctwatch++;
    }
    assert.ok(ev.includes('process %d %s') &&
      ev.includes('process %d sent an unknown event'), E.unknown[1]);
    compared.ctwatch++;
    for (const k of [E.pcore, E.gcore, E.zcore]) {
      assert.ok(ev.includes(k[0].replace('%s', '').replace(/^\t(.*): $/,
        '$1')), k[1]);
      compared.ctwatch++;
    }
    assert.ok(ev.includes('\t%s: ') && ev.includes('\t%s: %d (%s)\n') &&
      ev.includes('\t%s: %d\n'), `${E.sig[1]}, ${E.sigNoName[1]}`);
    hasSource('ctwatch', 'evprint.c', E.sender);
    hasSource('ctwatch', 'evprint.c', E.senderCt);
    hasSource('ctwatch', 'evprint.c', E.cored);
    hasSource('ctwatch', 'evprint.c', E.devBad);
    for (const [k, word] of [[E.devOffline, 'offlining'],
      [E.devDegraded, 'degrading'], [E.devOnline, 'online']]) {
      assert.ok(k[0] === `device %s ${word}` && ev.includes(word), k[1]);
      compared.ctwatch++;
    }
    assert.ok(ev.includes('device %s %s'), E.devOnline[1]);
    hasSource('ctwatch', 'evprint.c', E.devUnknown);
    // negotiation %llu: ours "%" PRIu64, then "succeeded" or "failed".
    assert.ok(ev.includes('negotiation %') && ev.includes('succeeded') &&
      ev.includes('failed'), `${E.negOk[1]}, ${E.negFail[1]}`);
    compared.ctwatch += 2;
  });

// ---- ctrun ----

const R = ILLUMOS.ctrun;

test('ctrun: its messages for bad options, in illumos\'s words', async () => {
  const u = 'Usage: ctrun ';
  const cases = [
    [['-a', 'x', 'true'], [F(R.badId, 'x')], R.badId],
    [['-r', 'x', 'true'], [F(R.badCount, 'x')], R.badCount],
    [['-l', 'forever', 'true'], [F(R.badLife, 'forever')], R.badLife],
    [['-i', 'zz', 'true'], [F(R.unrecognized, 'zz'), F(R.parsing, 'i')],
      R.unrecognized],
    [['-f', 'empty', 'true'], [F(R.unrecognized, 'empty'),
      F(R.parsing, 'f')], R.parsing],
    [['-i', 'none,core', 'true'], [R.none[0]], R.none],
    [['-o', 'noorphan', '-l', 'none', 'true'], [R.noorphanNone[0]],
      R.noorphanNone],
    [['-r', '1', '-l', 'child', 'true'], [F(R.restartLife, 'child')],
      R.restartLife],
    [['-r', '1', '-l', 'none', 'true'], [F(R.restartLife, 'none')],
      R.restartLife],
    [['-r', '1', '-o', 'pgrponly', 'true'], [R.restartPgrp[0]],
      R.restartPgrp],
    [['-t', 'true'], [R.transfer[0]], R.transfer],
  ];
  for (const [args, msgs, fact] of cases) {
    const r = await run('ctrun', args);
    assert.strictEqual(r.code, 125, `ctrun ${args.join(' ')}`);
    const lines = r.err.split('\n');
    same('ctrun', lines.slice(0, msgs.length).join('\n'), msgs.join('\n'),
      fact);
    assert.ok(lines[msgs.length].startsWith(u), r.err);
  }
  // Warnings, and it runs.
  for (const [list, fact, word] of [['core,,fork', R.emptyOpt],
    ['core,core', R.twice, 'core']]) {
    const r = await run('ctrun', ['-i', list, '--', 'true']);
    assert.strictEqual(r.code, 0);
    same('ctrun', r.err, `${F(fact, word)}\n`, fact);
  }
  // exec failed: uu_xdie, 127 for ENOENT.
  const r = await run('ctrun', ['no-such-program-here']);
  assert.strictEqual(r.code, 127);
  same('ctrun', r.err, `${F(R.exec, 'No such file or directory')}\n`, R.exec);
});

test('ctrun -v: restart, fatal and adopt messages', async () => {
  const f = path.join(tmp, 'restart');
  const r = start(tool('ctrun'), ['-v', '-f', 'signal', '-r', '2', '--',
    'sh', '-c', `if [ -e ${f} ]; then exit 5; fi; echo $$ > ${f}; ` +
    'exec sleep 30']);
  await h.until(() => /^\d+\n$/.test(fs.existsSync(f) &&
    fs.readFileSync(f, 'utf8')), 10000, 'the first run');
  process.kill(Number(fs.readFileSync(f, 'utf8')), 'SIGTERM');
  const res = await r.done;
  assert.strictEqual(res.code, 5, res.err);
  const pre = printf(R.vPrefix[0], 'ctrun', r.p.pid);
  const ids = [...res.out.matchAll(/created contract id (\d+)/g)]
    .map((x) => Number(x[1]));
  const lines = res.out.split('\n');
  for (const [line, fact] of [
    [pre + F(R.created, ids[0]), R.created],
    [pre + F(R.fatal, 'signal', ids[0]), R.fatal],
    [pre + F(R.restart, ids[0]), R.restart],
    [pre + F(R.created, ids[1]), R.created],
  ]) {
    assert.ok(lines.includes(line), `${fact[1]}: ${line}\n${res.out}`);
    compared.ctrun++;
  }
  // -a of no contract: could not open contract (its ctl), exit 124.
  const none = await run('ctrun', ['-a', '2147483647', 'true']);
  assert.strictEqual(none.code, 124);
  assert.ok(none.err.startsWith(printf(R.open[0], 2147483647, '')), none.err);
  compared.ctrun++;
  hasSource('ctrun', 'ctrun.c', R.adopted);
  hasSource('ctrun', 'ctrun.c', R.adopt, R.adopt[0].replace('ctrun: ', '')
    .replace(': %s', ''));
  hasSource('ctrun', 'ctrun.c', R.stat, R.stat[0].replace('ctrun: ', '')
    .replace(': %s', ''));
});

// ---- what differs on purpose ----

differs('ctrun', 'usage text',
  'illumos\'s usage (ctrun.c:88-91) names neither -a, -c nor -V, which its ' +
  'getopt takes (ctrun.c:401); ours names every option, ours too ' +
  '(--trace, -s, -g, -k: man/ctrun.1)',
  async () => {
    const r = await run('ctrun', ['-x']);
    return !r.err.includes(R.usage[0].split('\n')[0]);
  });
differs('ctrun', 'no command: a line before the usage',
  'illumos prints the usage alone (ctrun.c:498-499); ours says what is ' +
  'missing first', async () => {
    const r = await run('ctrun', []);
    return r.err.startsWith('ctrun: no command given\nUsage: ctrun ');
  });
differs('ctrun', 'could not open contract: the errno and a detail',
  'illumos reports open(2)\'s ENOENT; ours the backend\'s error (ESRCH) ' +
  'and what it tried, in parentheses', async () => {
    const r = await run('ctrun', ['-a', '2147483647', 'true']);
    return /^ctrun: could not open contract 2147483647: .+ \(.+\)\n$/
      .test(r.err);
  });
differs('all', 'a bad option letter',
  'illumos\'s getopt prints "illegal option -- x" itself; ours (opterr = 0, ' +
  'any libc) says "unknown option -x"', async () => {
    const r = await run('ctstat', ['-x']);
    return r.err.startsWith('ctstat: unknown option -x\n');
  });
differs('ctstat', '-v: a line per member under "member processes"',
  'beyond illumos (which lists pids only): "PID: ARGV" in the value ' +
  'column, so that who leaked what is in view', async () => {
    const { child, contract } = ct.spawn('sleep', ['30'],
      { template: { type: 'process' }, stdio: 'ignore' });
    try {
      await execd(contract, child.pid);
      const r = await run('ctstat', ['-v', '-i', String(contract.ctid)]);
      return r.out.includes(`\t${''.padEnd(23)}${child.pid}: sleep 30\n`);
    } finally {
      await contract.stop({ signal: 'SIGKILL' });
      contract.dispose();
    }
  });
differs('ctstat', 'an interval of 0, or ctid 0, is refused',
  'illumos\'s mystrtoul takes 0 (ctstat.c:75): interval 0 repeats without ' +
  'pause for ever; ours refuses it (usage, 2)', async () => {
    const r = await run('ctstat', ['0']);
    return r.code === 2;
  });
differs('ctstat', '-T x and a third operand: a line before the usage',
  'illumos prints the usage alone (ctstat.c:832, :852)', async () => {
    const a = await run('ctstat', ['-T', 'x']);
    const b = await run('ctstat', ['1', '2', '3']);
    return a.err.startsWith('ctstat: -T takes u or d\n') &&
      b.err.startsWith('ctstat: too many operands\n');
  });
differs('ctstat', '-i and -t lists: empty and repeated items are warned of',
  'illumos\'s strtok skips them silently (ctstat.c:711-721); ours shares ' +
  'ctrun\'s list parser and its warnings (ctrun.c:166, :184)', async () => {
    const r = await run('ctstat', ['-i', '1,,1']);
    return r.err === 'ctstat: empty option\nctstat: option \'1\' ' +
      'specified twice\n' || r.err.startsWith('ctstat: empty option\n');
  });
differs('ctwatch', 'usage: -a',
  'ours takes -a (every type; test/unit/cli-options.test.js EXTRA)',
  async () => {
    const r = await run('ctwatch', ['-x']);
    return r.err.includes('Usage: ctwatch [-f] [-r] [-v] [-a] ');
  });
differs('ctwatch', 'no operand: a line before the usage',
  'illumos prints the usage alone (ctwatch.c:261-262)', async () => {
    const r = await run('ctwatch', []);
    return r.err.startsWith('ctwatch: no contract type or id given\n');
  });
differs('ctwatch', 'events lost (at least N forks, M exits)',
  'Linux: the proc connector can drop messages; illumos never loses an ' +
  'event, so has no such line', async () =>
    literals('evprint.c').some((l) => l.startsWith('events lost (at least %')));
differs('ctwatch', 'EVID "-"',
  'an event without an id (Linux: the lost-events record) prints "-" ' +
  'where illumos always has a number (ctwatch.c:145)', async () =>
    /char evid\[24\] = "-";/.test(fs.readFileSync(path.join(top, 'src', 'cli',
      'ctwatch.c'), 'utf8')));

test('DIFFERS: every listed difference is still there', async () => {
  for (const d of DIFFERS) {
    assert.ok(await d.check(), `${d.tool}: ${d.what}: gone? (${d.why}) ` +
      'drop it from DIFFERS');
  }
});
