'use strict';
// index.d.ts type-checks a typed use of the whole API (test/pack/types/), and
// every `@ts-expect-error` there is an error: tsc --noEmit, strict; its
// Features, ProcessStatus, RunResult and RunError are what the runtime
// objects hold.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const cp = require('child_process');

const os = require('os');
const h = require('../lib/helpers');

h.useRoot('types'); // features with a usable root (the last test)
const top = path.join(__dirname, '..', '..');
const tsc = path.join(top, 'node_modules', 'typescript', 'bin', 'tsc');

test('index.d.ts: tsc --noEmit -p test/pack/types passes', () => {
  assert.ok(fs.existsSync(tsc), `TypeScript is not installed (${tsc} is ` +
    'missing): run `npm install` (typescript is a devDependency)');
  const r = cp.spawnSync(process.execPath, [tsc, '-p', 'test/pack/types'],
    { cwd: top, encoding: 'utf8', timeout: 120000 });
  assert.ifError(r.error);
  assert.strictEqual(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});

test('index.d.ts declares every export of index.js', () => {
  // A new export without a declaration would not fail tsc: catch it here.
  // (Loading the library touches no contract root; features is a getter.)
  const dts = fs.readFileSync(path.join(top, 'index.d.ts'), 'utf8');
  const names = Object.keys(require(top));
  assert.ok(names.includes('features') && names.includes('Contract'));
  for (const n of names) {
    assert.match(dts, new RegExp(`^export (declare )?(function|const|class) ${n}\\b`, 'm'),
      `index.d.ts declares ${n}`);
  }
});

// Compile runtime objects (JSON) as literals that must satisfy index.d.ts's
// type `name`: a runtime field the type lacks, a wrong type, or a missing
// required field is an error; so is a declared field that none of them has
// (Error's own fields aside, and those named in `unseen`).
function typecheck(t, name, objects, unseen = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-types-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(top, path.join(dir, 'node_modules', 'illumos_contract'));
  const base = name.replace(/<.*/, '');
  fs.writeFileSync(path.join(dir, 'check.mts'),
    `import type { ${base} } from 'illumos_contract';\n` +
    objects.map((o, i) => `const o${i} = ${JSON.stringify(o)} ` +
      `satisfies ${name};\n`).join('') +
    `type Unseen = Exclude<keyof ${name}, keyof Error | ` +
    unseen.map((k) => `${JSON.stringify(k)} | `).join('') +
    `${objects.map((o, i) => `keyof typeof o${i}`).join(' | ')}>;\n` +
    'const unseen: [Unseen] extends [never] ? true : Unseen = true;\n' +
    'void unseen;\n');
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022',
      module: 'nodenext', moduleResolution: 'nodenext', types: ['node'],
      typeRoots: [path.join(top, 'node_modules', '@types')] },
    files: ['check.mts'],
  }));
  const r = cp.spawnSync(process.execPath, [tsc, '-p', '.'],
    { cwd: dir, encoding: 'utf8', timeout: 120000 });
  assert.ifError(r.error);
  assert.strictEqual(r.status, 0,
    `${name}: tsc failed:\n${r.stdout}${r.stderr}`);
}

// Run `src` (with ct, the library) in a node process; its printed JSON.
function runtime(src, env = {}) {
  const r = cp.spawnSync(process.execPath, ['-e',
    `const ct = require(${JSON.stringify(top)});\n${src}`],
  { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30000 });
  assert.strictEqual(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('index.d.ts Features matches the runtime features object', (t) => {
  const print = 'process.stdout.write(JSON.stringify(ct.features));';
  const withRoot = runtime(print);
  const without = runtime(print,
    { ILLUMOS_CONTRACT_ROOT: '/proc/ict-none/contract' });
  assert.ok('rootError' in without && withRoot.root !== null,
    'both cases are covered');
  typecheck(t, 'Features', [withRoot, without]);
});

// With tracing (where the host has it): a traced run's processes, on the
// result and on the error, whose records include one that dumped core
// (coreDumped) and one whose exec was read only after it was reaped
// (missed argv and CPU).  Without it, processes alone may go unseen.
test('index.d.ts ProcessStatus, RunResult, RunError, Member and ' +
  'TraceRecord match the runtime objects', (t) => {
  const o = runtime(`(async () => {
    const fs = require('fs'), os = require('os'), path = require('path');
    const out = {};
    const { contract } = ct.spawn('sleep', ['100'], { stdio: 'ignore' });
    out.status = contract.status();
    out.members = contract.members();
    await contract.stop();
    contract.dispose();
    out.piped = await ct.run('sh', ['-c', 'echo x'], { stdio: 'pipe',
      all: true });
    out.plain = await ct.run('true');
    const err = (e) => ({ ...e, name: e.name, message: e.message });
    await ct.run('sleep', ['100'], { timeout: 10 }).catch((e) => {
      out.timeout = err(e);
    });
    await ct.run('sleep', ['100'], { stdio: 'pipe',
      signal: AbortSignal.timeout(10) }).catch((e) => { out.abort = err(e); });
    await ct.run('sh', ['-c', 'exit 3'], { stdio: 'pipe', all: true }).catch((e) => {
      out.failed = err(e);
    });
    out.traced = ct.features.trace;
    if (out.traced) {
      out.tracedOk = await ct.run('sh', ['-c', 'echo x'], { stdio: 'pipe',
        all: true, trace: true });
      // lost is no element: a property, there only when non-zero.
      const lost = Object.getOwnPropertyDescriptor(out.tracedOk.processes,
        'lost');
      out.lostShape = lost === undefined ? 'absent' :
        \`\${typeof lost.value} \${lost.enumerable}\`;
      // sh dumps core in a directory of its own; /bin/true is reaped
      // before this thread reads its EXEC (held up until sh says so).
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-types-core-'));
      const p = ct.run('sh', ['-c', 'ulimit -c unlimited; /bin/true; ' +
        ': > reaped; kill -SEGV $$'], { cwd: dir, stdio: 'pipe', all: true,
        trace: true });
      const until = Date.now() + ${h.ms(20000)};
      while (!fs.existsSync(path.join(dir, 'reaped')) &&
          Date.now() < until) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
      await p.catch((e) => { out.tracedFailed = err(e); });
      fs.rmSync(dir, { recursive: true, force: true });
    }
    process.stdout.write(JSON.stringify(out));
  })();`);
  assert.strictEqual(o.failed.code, 'ERR_CHILD_PROCESS_FAILED');
  assert.strictEqual(o.timeout.code, 'ETIMEDOUT');
  assert.strictEqual(o.abort.code, 'ABORT_ERR');
  assert.ok(o.members.length > 0);
  typecheck(t, 'ProcessStatus', [o.status]);
  typecheck(t, 'Member', o.members);
  const results = [o.piped, o.plain];
  const errors = [o.timeout, o.abort, o.failed];
  let unseen = ['processes'];
  if (o.traced) {
    assert.strictEqual(o.tracedFailed.signal, 'SIGSEGV');
    assert.ok(['absent', 'number false'].includes(o.lostShape), o.lostShape);
    results.push(o.tracedOk);
    errors.push(o.tracedFailed);
    unseen = [];
    typecheck(t, 'TraceRecord', [...o.tracedOk.processes,
      ...o.tracedFailed.processes]);
  } else {
    t.diagnostic('features.trace is false here: TraceRecord not checked');
  }
  typecheck(t, 'RunResult<string>', results, unseen);
  typecheck(t, 'RunError<string>', errors, unseen);
});

// A mistake in run(cmd, opts) / spawn(cmd, opts) is reported against the
// options (index.d.ts lists the overloads with args first), not as an
// options object that is no `readonly string[]`.
test('index.d.ts overloads: an options mistake names the option', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-types-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(top, path.join(dir, 'node_modules', 'illumos_contract'));
  const calls = [
    "run('true', { timout: 500 })",
    "run('true', { killSignal: 'SIGBOGUS' })",
    "run('true', [], { timout: 500 })",
    "spawn('true', { killSignal: 'SIGBOGUS' })",
  ];
  fs.writeFileSync(path.join(dir, 'check.mts'),
    "import { run, spawn } from 'illumos_contract';\n" +
    calls.map((c) => `void ${c};\n`).join(''));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022',
      module: 'nodenext', moduleResolution: 'nodenext', types: ['node'],
      typeRoots: [path.join(top, 'node_modules', '@types')] },
    files: ['check.mts'],
  }));
  const r = cp.spawnSync(process.execPath, [tsc, '-p', '.'],
    { cwd: dir, encoding: 'utf8', timeout: 120000 });
  assert.ifError(r.error);
  const out = r.stdout + r.stderr;
  assert.notStrictEqual(r.status, 0, out);
  assert.doesNotMatch(out, /readonly string\[\]/);
  assert.match(out, /check\.mts\(2,.*\n(.*\n)*?.*'timout' does not exist in type 'RunOptions'/);
  assert.match(out, /check\.mts\(3,.*\n(.*\n)*?.*Type '"SIGBOGUS"' is not assignable/);
  assert.match(out, /check\.mts\(4,.*\n(.*\n)*?.*'timout' does not exist in type 'RunOptions'/);
  assert.match(out, /check\.mts\(5,.*\n(.*\n)*?.*Type '"SIGBOGUS"' is not assignable/);
});
