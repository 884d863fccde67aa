'use strict';
// The ct tools in C (src/cli/): ctrun, ctstat, ctwatch, built next to the
// addon by npm install, run here as real processes against this file's own
// contract root.  Waits are on real conditions (output, files, exits).
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('cli');
const ct = require('../..');

const top = path.join(__dirname, '..', '..');
const rel = path.join(top, 'build', 'Release');
const tool = (name) => path.join(rel, name);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-cli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Start a tool; .done resolves {code, signal, out, err} once its output is
// closed, .exited {code, signal} at its exit; waitOut/waitErr
// resolve with the first match of re in stdout/stderr so far.
function start(cmd, args, opts = {}) {
  const p = cp.spawn(cmd, args, {
    stdio: [opts.stdin || 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, ILLUMOS_CONTRACT_ROOT: root, ...opts.env },
  });
  const r = { p, out: '', err: '' };
  const waiters = [];
  const check = () => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = r[waiters[i].which].match(waiters[i].re);
      if (m) {
        clearTimeout(waiters[i].timer);
        waiters.splice(i, 1)[0].resolve(m);
      }
    }
  };
  p.stdout.on('data', (d) => { r.out += d; check(); });
  p.stderr.on('data', (d) => { r.err += d; check(); });
  // 'exit' is the process ending; 'close' also waits for every holder of
  // its stdout/stderr (a grandchild left running).
  r.exited = new Promise((resolve) => {
    p.on('exit', (code, signal) => resolve({ code, signal }));
  });
  r.done = new Promise((resolve) => {
    p.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(`${cmd} ended before ${w.re} appeared:\n` +
          `${r.out}\n${r.err}`));
      }
      resolve({ code, signal, out: r.out, err: r.err });
    });
  });
  const wait = (which) => (re, ms = 10000) => new Promise((resolve, reject) => {
    const w = { which, re, resolve, reject };
    w.timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(w), 1);
      reject(new Error(`timed out waiting for ${re} in ${which}:\n` +
        `${r.out}\n${r.err}`));
    }, h.ms(ms));
    waiters.push(w);
    check();
  });
  r.waitOut = wait('out');
  r.waitErr = wait('err');
  return r;
}

// Run a tool to its end (with a timeout).
async function run(name, args, ms = 15000) {
  const r = start(tool(name), args);
  const timer = setTimeout(() => r.p.kill('SIGKILL'), h.ms(ms));
  const res = await r.done;
  clearTimeout(timer);
  return res;
}

test('the tools are built, and the bin launchers find them through a symlink',
  async () => {
    for (const name of ['ctrun', 'ctstat', 'ctwatch']) {
      assert.ok(fs.existsSync(tool(name)), `${name} is built`);
    }
    // npm links bins into node_modules/.bin; the launcher resolves that.
    const link = path.join(tmp, 'ctrun');
    fs.symlinkSync(path.join(top, 'bin', 'ctrun'), link);
    const r = start(link, ['--', 'sh', '-c', 'exit 4']);
    assert.strictEqual((await r.done).code, 4);
  });

test('--help prints the usage and exits 0', async () => {
  for (const name of ['ctrun', 'ctstat', 'ctwatch']) {
    const r = await run(name, ['--help']);
    assert.strictEqual(r.code, 0, name);
    assert.match(r.out, new RegExp(`^Usage: ${name} `), name);
    assert.strictEqual(r.err, '');
  }
});

test('bad arguments: usage on stderr, 125 (ctrun) or 2', async () => {
  const bad = [
    ['ctrun', ['-x', 'true'], 125],
    ['ctrun', [], 125],
    ['ctrun', ['-l', 'forever', 'true'], 125],
    ['ctrun', ['-i', 'bogus', 'true'], 125],
    ['ctrun', ['-i', 'none,core', 'true'], 125],
    ['ctrun', ['-f', 'fork', 'true'], 125],
    ['ctrun', ['-o', 'noorphan', '-l', 'none', 'true'], 125],
    ['ctrun', ['-t', 'true'], 125],
    ['ctrun', ['-r', '1', '-l', 'child', 'true'], 125],
    ['ctrun', ['-r', '1', '-o', 'pgrponly', 'true'], 125],
    ['ctrun', ['-r', 'x', 'true'], 125],
    ['ctrun', ['-a', 'x', 'true'], 125],
    ['ctrun', ['-a', '0', 'true'], 125],
    ['ctrun', ['-a', '1', '-l', 'child', 'true'], 125],
    ['ctrun', ['-a', '1'], 125],
    ['ctrun', ['-i'], 125],
    ['ctstat', ['-x'], 2],
    ['ctstat', ['-T', 'x'], 2],
    ['ctstat', ['-i', '1,x'], 2],
    ['ctstat', ['0'], 2],
    ['ctstat', ['1', '2', '3'], 2],
    ['ctwatch', [], 2],
    ['ctwatch', ['-x', 'process'], 2],
  ];
  for (const [name, args, want] of bad) {
    const r = await run(name, args);
    assert.strictEqual(r.code, want, `${name} ${args.join(' ')}: ${r.err}`);
    assert.match(r.err, new RegExp(`^(${name}: .*\\n)+Usage: ${name} `),
      `${name} ${args.join(' ')}`);
    assert.strictEqual(r.out, '');
  }
  // Only a warning: an empty item.
  const r = await run('ctrun', ['-i', 'core,,fork', '--', 'true']);
  assert.strictEqual(r.code, 0);
  assert.strictEqual(r.err, 'ctrun: empty option\n');
  // Not usage errors (uu_die, exit 1): a type that is not one.
  for (const [name, args, msg] of [
    ['ctstat', ['-t', 'socket'], 'invalid contract type: socket'],
    ['ctwatch', ['socket'], 'invalid contract type: socket'],
    ['ctwatch', ['0'], 'invalid contract type: 0'],
  ]) {
    const x = await run(name, args);
    assert.strictEqual(x.code, 1, `${name} ${args.join(' ')}`);
    assert.strictEqual(x.err, `${name}: ${msg}\n`);
    assert.strictEqual(x.out, '');
  }
});

test('ctrun -l contract returns only after a backgrounded grandchild',
  async () => {
    const f = path.join(tmp, 'grandchild');
    const p = start(tool('ctrun'), ['-v', '-l', 'contract', '--', 'sh', '-c',
      `(sleep 0.3; echo done > ${f}) & exit 0`]);
    const { code } = await p.exited;
    assert.strictEqual(fs.readFileSync(f, 'utf8'), 'done\n',
      'the grandchild finished before ctrun exited');
    const r = await p.done;
    assert.strictEqual(code, 0, r.err);
    const id = r.out.match(/created contract id (\d+)/)[1];
    assert.ok(!h.contractDirs(root).includes(id), 'abandoned and removed');
  });

// Without the proc connector (a pid namespace of its own, or refused) the
// contract's first read is all that says it has a member: ctrun once made
// the contract's watch before its child had joined, and reported it empty
// at once (8 runs in 10).  ILLUMOS_CONTRACT_TEST_NO_CONNECTOR: test builds.
test('ctrun without the proc connector still waits for the whole tree',
  async () => {
    for (let i = 0; i < 5; i++) {
      const f = path.join(tmp, `noconn-${i}`);
      const p = start(tool('ctrun'), ['--', 'sh', '-c',
        `(sleep 0.3; echo done > ${f}) & sleep 0.05`],
      { env: { ILLUMOS_CONTRACT_TEST_NO_CONNECTOR: '1' } });
      const { code } = await p.exited;
      assert.strictEqual(code, 0, (await p.done).err);
      assert.strictEqual(fs.readFileSync(f, 'utf8'), 'done\n',
        'the backgrounded sleep finished before ctrun exited');
    }
  });

test('ctrun -l child returns when the command exits; the rest runs on',
  async () => {
    const f = path.join(tmp, 'orphan');
    const p = start(tool('ctrun'), ['-l', 'child', '--', 'sh', '-c',
      `(sleep 0.3; echo done > ${f}) & exit 0`]);
    const { code } = await p.exited;
    assert.ok(!fs.existsSync(f), 'ctrun did not wait for the grandchild');
    assert.strictEqual(code, 0);
    await h.until(() => fs.existsSync(f), 5000, 'the orphan to finish');
  });

test('ctrun exit status: the command\'s, 123, 126, 127', async () => {
  const noexec = path.join(tmp, 'noexec');
  fs.writeFileSync(noexec, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
  const cases = [
    [['true'], 0],
    [['sh', '-c', 'exit 3'], 3],
    [['sh', '-c', 'kill -9 $$'], 123],
    [['-l', 'child', 'sh', '-c', 'kill -TERM $$'], 123],
    [[noexec], 126],
    [['/nonexistent/program'], 127],
    [['no-such-program-here'], 127],
    [['-l', 'none', 'no-such-program-here'], 127],
    [['-l', 'none', 'true'], 0],
  ];
  for (const [args, want] of cases) {
    const r = await run('ctrun', args);
    assert.strictEqual(r.code, want, `ctrun ${args.join(' ')}: ${r.err}`);
  }
  const r = await run('ctrun', ['no-such-program-here']);
  assert.match(r.err, /^ctrun: exec failed: /);
});

// str2bit (illumos ctrun.c:126-136): a word names the first event or
// parameter of the table it begins.
test('ctrun takes prefixes of event names, as illumos does', async () => {
  const r = start(tool('ctrun'), ['-V', '-i', 'fo,ex', '--', 'sh', '-c',
    'sh -c "exit 0"; exit 0']);
  const res = await r.done;
  assert.strictEqual(res.code, 0, res.err);
  assert.match(res.out, / was created\n/);
  assert.match(res.out, / exited\n/);
  const bad = await run('ctrun', ['-i', 'zz', 'true']);
  assert.strictEqual(bad.code, 125);
});

test('ctrun -v and -V report the contract and its events', async () => {
  const r = start(tool('ctrun'), ['-V', '-i', 'fork,exit', '--', 'sh', '-c',
    'sh -c "exit 2"; exit 0']);
  const res = await r.done;
  assert.strictEqual(res.code, 0, res.err);
  const pre = `ctrun(${r.p.pid}): `;
  const lines = res.out.trim().split('\n');
  const m = lines[0].match(/^ctrun\(\d+\): created contract id (\d+)$/);
  assert.ok(m, res.out);
  assert.strictEqual(lines[0], `${pre}created contract id ${m[1]}`);
  const ev = `${pre}event from contract ${m[1]}: `;
  const events = lines.filter((l) => l.startsWith(ev))
    .map((l) => l.slice(ev.length));
  assert.strictEqual(events.filter((e) => / was created$/.test(e)).length, 2,
    res.out);
  assert.strictEqual(events.filter((e) => / exited$/.test(e)).length, 2);
  assert.strictEqual(events[events.length - 1], 'contract empty');
  assert.ok(lines.includes(`\tparent pid: ${r.p.pid}`), res.out);
  assert.ok(lines.includes('\twait status: 0x200 (exited, code 2)'),
    res.out);
});

// -v on stdout and -r count as count runs in all: illumos's v_printf
// (ctrun.c:220-228) and "opt_count-- > 1" (ctrun.c:679).
test('ctrun -r restarts the command after a fatal event', async () => {
  const f = path.join(tmp, 'restart');
  const r = start(tool('ctrun'), ['-v', '-f', 'signal', '-r', '2', '--',
    'sh', '-c', `if [ -e ${f} ]; then exit 5; fi; echo $$ > ${f}; ` +
    'exec sleep 30']);
  await h.until(() => /^\d+\n$/.test(fs.existsSync(f) &&
    fs.readFileSync(f, 'utf8')), 10000, 'the first run');
  // From outside the contract: a signal event on every OS.
  process.kill(Number(fs.readFileSync(f, 'utf8')), 'SIGTERM');
  const res = await r.done;
  assert.strictEqual(res.code, 5, res.err);
  const ids = [...res.out.matchAll(/created contract id (\d+)/g)]
    .map((x) => x[1]);
  assert.strictEqual(ids.length, 2, res.out);
  const pre = `ctrun(${r.p.pid}): `;
  assert.ok(res.out.includes(`${pre}fatal "signal" event from contract ` +
    `${ids[0]}\n`), res.out);
  assert.ok(res.out.includes(`${pre}failure in contract ${ids[0]}, ` +
    'restarting command\n'), res.out);
  const left = h.contractDirs(root);
  assert.ok(ids.every((id) => !left.includes(id)), 'both removed');
});

// Leave a contract an orphan (ctrun -l none), its one member a sleep whose
// pid the command writes to file first (and which does not hold ctrun's
// output open); resolve {id, pid}.
async function orphan(file, extra = []) {
  const r = await run('ctrun', ['-v', '-l', 'none', ...extra, '--', 'sh',
    '-c', `echo $$ > ${file}; exec sleep 30 >/dev/null 2>&1`]);
  assert.strictEqual(r.code, 0, r.err);
  await h.until(() => /^\d+\n$/.test(fs.existsSync(file) &&
    fs.readFileSync(file, 'utf8')), 10000, 'the orphan\'s member');
  return { id: r.out.match(/created contract id (\d+)/)[1],
    pid: Number(fs.readFileSync(file, 'utf8')) };
}

// illumos ctrun.c:548-580: -a adopts instead of forking, and waits for the
// contract as for one of its own.
test('ctrun -a adopts an orphan and waits until it is empty', async () => {
  const { id, pid } = await orphan(path.join(tmp, 'adopt1'));
  const r = start(tool('ctrun'), ['-v', '-a', id, '--', 'false']);
  try {
    await r.waitOut(new RegExp(`adopted contract id ${id}\n`));
    const st = await run('ctstat', ['-i', id]);
    assert.match(st.out, new RegExp(`^\\s*${id}\\s.*\\sowned\\s+${r.p.pid}\\s`,
      'm'), st.out);
  } finally {
    process.kill(pid, 'SIGKILL');
  }
  const res = await r.done;
  assert.strictEqual(res.code, 0, res.err);	// false never ran
  assert.doesNotMatch(res.out, /created contract/);
  assert.ok(!h.contractDirs(root).includes(id), 'abandoned and removed');
  const none = await run('ctrun', ['-a', '2147483647', 'true']);
  assert.strictEqual(none.code, 124);
  assert.match(none.err, /^ctrun: could not open contract 2147483647: /);
});

test('ctrun -a -r: a fatal event of the adopted contract (its terms) ' +
  'runs the command', async () => {
  const { id, pid } = await orphan(path.join(tmp, 'adopt2'),
    ['-f', 'signal']);
  const r = start(tool('ctrun'), ['-v', '-r', '2', '-a', id, '--', 'sh',
    '-c', 'exit 7']);
  await r.waitOut(new RegExp(`adopted contract id ${id}\n`));
  process.kill(pid, 'SIGTERM');	// from outside: a signal event
  const res = await r.done;
  assert.strictEqual(res.code, 7, res.err + res.out);
  const pre = `ctrun(${r.p.pid}): `;
  assert.ok(res.out.includes(`${pre}fatal "signal" event from contract ` +
    `${id}\n`), res.out);
  assert.ok(res.out.includes(`${pre}failure in contract ${id}, ` +
    'restarting command\n'), res.out);
  const ids = [...res.out.matchAll(/created contract id (\d+)/g)];
  assert.strictEqual(ids.length, 1, res.out);	// -r 2: two runs in all
});

// illumos's ctstat selects the union of -i and -t (scan_all,
// ctstat.c:665-694), and repeated -i/-t accumulate (walk_args).
test('ctstat -i and -t: a union, and repeated ones accumulate',
  async (t) => {
    const mk = () => ct.spawn('sleep', ['30'],
      { template: { type: 'process' }, stdio: 'ignore' }).contract;
    const a = mk();
    const b = mk();
    t.after(async () => {
      for (const c of [a, b]) {
        await c.stop({ signal: 'SIGKILL' });
        c.dispose();
      }
    });
    const ids = (out) => out.split('\n').slice(1).filter(Boolean)
      .map((l) => Number(l.split(/ +/)[0]));
    let r = await run('ctstat', ['-i', String(a.ctid), '-t', 'device']);
    assert.strictEqual(r.code, 0, r.err);
    assert.deepStrictEqual(ids(r.out), [a.ctid], r.out);
    r = await run('ctstat', ['-i', String(a.ctid), '-i', String(b.ctid)]);
    assert.deepStrictEqual(ids(r.out), [a.ctid, b.ctid].sort((x, y) => x - y),
      r.out);
    r = await run('ctstat', ['-t', 'device', '-t', 'process']);
    assert.ok(ids(r.out).includes(a.ctid) && ids(r.out).includes(b.ctid),
      r.out);
  });

test('ctstat: the table of illumos, a row per contract, -v terms',
  async (t) => {
    const { child, contract } = ct.spawn('sleep', ['30'], {
      template: { type: 'process', cookie: '0x2a',
        informative: { pr_fork: true } },
      stdio: 'ignore',
    });
    t.after(async () => {
      await contract.stop({ signal: 'SIGKILL' });
      contract.dispose();
    });
    const id = contract.ctid;
    const comm = fs.readFileSync('/proc/self/comm', 'utf8').trim();
    const head = 'CTID    ZONEID  TYPE    STATE   HOLDER  EVENTS  QTIME   ' +
      'NTIME   ';
    const row = `${String(id).padEnd(8)}0       process owned   ` +
      `${String(process.pid).padEnd(8)}0       -       -       `;
    let r = await run('ctstat', []);
    assert.strictEqual(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.strictEqual(lines[0], head);
    assert.ok(lines.includes(row), r.out);

    r = await run('ctstat', ['-v', '-i', String(id), '-t', 'process']);
    assert.strictEqual(r.code, 0, r.err);
    // illumos's print_verbose (ctstat.c:448-473): "label:" padded to the
    // longest label plus two, then the value.
    const f = (label, value) => `\t${`${label}:`.padEnd(23)}${value}`;
    assert.deepStrictEqual(r.out.split('\n'), [
      head, row,
      f('cookie', '0x2a'),
      f('informative event set', 'fork'),
      f('critical event set', 'hwerr empty'),
      f('fatal event set', 'hwerr'),
      f('parameter set', 'noorphan'), // spawn()'s cleanup
      f('member processes', child.pid),
      // Beyond illumos: each member's command, in the value column.
      `\t${''.padEnd(23)}${child.pid}: sleep 30`,
      f('inherited contracts', 'none'),
      f('service fmri', ''),
      f('service fmri ctid', id),
      f('creator', comm),
      f('aux', ''),
      '',
    ]);

    r = await run('ctstat', ['-i', String(id + 1000), '-T', 'u', '1', '2']);
    assert.strictEqual(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^\\d+\\n${head}\\n\\d+\\n${head}\\n$`));
    r = await run('ctstat', ['-t', 'device']);
    assert.strictEqual(r.out, `${head}\n`);
    r = await run('ctstat', ['1', '0']);
    assert.strictEqual(r.code, 0);
    assert.strictEqual(r.out, '');
  });

const HEAD = 'CTID    EVID    CRIT ACK CTTYPE   SUMMARY\n';

test('ctwatch prints the events of a contract, then exits 0 on SIGTERM',
  async () => {
    // A contract held by ctrun that waits for a line on its stdin.
    const runner = start(tool('ctrun'), ['-v', '-i', 'fork,exit', '--',
      'sh', '-c', 'read x; sh -c "exit 4"; exit 0'], { stdin: 'pipe' });
    const id = (await runner.waitOut(/created contract id (\d+)\n/))[1];
    const w = start(tool('ctwatch'), ['-v', id]);
    await w.waitOut(/^CTID {4}EVID.*\n/);
    assert.strictEqual(w.out, HEAD);
    runner.p.stdin.end('go\n');
    await w.waitOut(new RegExp(`\\n${id} +\\d+ +crit (yes|no) +process  ` +
      'contract empty\\n'));
    assert.strictEqual((await runner.done).code, 0);
    w.p.kill('SIGTERM');
    const res = await w.done;
    assert.strictEqual(res.code, 0, res.err);
    assert.strictEqual(res.signal, null);
    const lines = res.out.split('\n');
    const row = (text) => new RegExp(`^${id} {${8 - id.length}}\\d+ +info ` +
      `no  process  ${text}$`);
    const created = lines.filter((l) => row('process \\d+ was created')
      .test(l));
    const exited = lines.filter((l) => row('process \\d+ exited').test(l));
    assert.strictEqual(created.length, 1, res.out);
    assert.strictEqual(exited.length, 2, res.out);
    assert.ok(lines.includes('\twait status: 0x400 (exited, code 4)'),
      res.out);
    assert.ok(lines.some((l) => /^\tparent pid: \d+$/.test(l)), res.out);
  });

test('ctwatch -a picks up contracts made after it started', async (t) => {
  const w = start(tool('ctwatch'), ['-a']);
  await w.waitOut(/^CTID.*\n/);
  // A contract that keeps forking until it is told to stop.
  const { contract } = ct.spawn('sh', ['-c',
    'while :; do sleep 0.05; done'], {
    template: { type: 'process', informative: { pr_fork: true } },
    stdio: 'ignore',
  });
  t.after(() => contract.dispose());
  const id = contract.ctid;
  await w.waitOut(new RegExp(`\\n${id} .* was created\\n`));
  await contract.stop({ signal: 'SIGKILL' });
  await w.waitOut(new RegExp(`\\n${id} .*contract empty\\n`));
  w.p.kill('SIGINT');
  assert.strictEqual((await w.done).code, 0);
});

test('ctwatch: a contract id that does not exist is an error', async () => {
  const r = await run('ctwatch', ['2147483647']);
  assert.strictEqual(r.code, 1);
  assert.strictEqual(r.err, 'ctwatch: invalid contract id: 2147483647\n');
});

// A member kills its anchor under ctrun (docs/security.md, "A killed
// anchor"): ctrun, a child subreaper, gets the tree back and, as it
// leaves, a noorphan contract's members are killed -- the program, a
// setsid daemon and a double-forked one -- and any other's continued.
// Before, they ran on under init in both cases.
test('ctrun: a member that kills its anchor: noorphan leaves no member ' +
  'behind, an orphan runs on', {
  skip: process.env.ILLUMOS_CONTRACT_MEMBERSHIP !== 'reaper',
}, async () => {
  // A duration no other process has: the members are found by it.
  const nap = `1000.${process.pid}`;
  const tag = `sleep\0${nap}\0`;
  const left = () => h.running((cmdline) => cmdline === tag);
  const state = (pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];
    } catch {
      return null;
    }
  };
  try {
    for (const noorphan of [false, true]) {
      // Its end, not its output's: the members left running hold that.
      const r = start(tool('ctrun'), [
        ...(noorphan ? ['-o', 'noorphan'] : []), 'sh', '-c',
        `setsid sleep ${nap} & (sleep ${nap} &); ` +
        `sleep 0.2; kill -9 $PPID; exec sleep ${nap} >/dev/null 2>&1`]);
      await r.waitErr(/lost its anchor \(killed by a member\)/);
      await r.exited;
      if (noorphan) {
        await h.until(() => left().length === 0, h.ms(3000),
          'every member killed');
      } else {
        await h.until(() => left().length === 3 &&
          left().every((p) => state(p) === 'S'), h.ms(3000),
          'the three members continued');
        for (const pid of left()) process.kill(Number(pid), 'SIGKILL');
        await h.until(() => left().length === 0, h.ms(3000), 'cleaned up');
      }
    }
  } finally {
    for (const pid of left()) process.kill(Number(pid), 'SIGKILL');
  }
});
