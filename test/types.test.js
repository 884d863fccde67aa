'use strict';
// index.d.ts type-checks a typed use of the whole API (test/types/), and
// every `@ts-expect-error` there is an error: tsc --noEmit, strict; its
// Features is what the runtime features object holds.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const cp = require('child_process');

const os = require('os');
const h = require('./helpers');

h.useRoot('types'); // features with a usable root (the last test)
const top = path.join(__dirname, '..');
const tsc = path.join(top, 'node_modules', 'typescript', 'bin', 'tsc');

test('index.d.ts: tsc --noEmit -p test/types passes', () => {
  assert.ok(fs.existsSync(tsc), `TypeScript is not installed (${tsc} is ` +
    'missing): run `npm install` (typescript is a devDependency)');
  const r = cp.spawnSync(process.execPath, [tsc, '-p', 'test/types'],
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

// What features really holds, with a usable contract root and without one,
// as object literals checked against index.d.ts's Features: a runtime field
// the type lacks, a wrong type, a missing required field, or a declared
// field neither object has, is a compile error.
test('index.d.ts Features matches the runtime features object', (t) => {
  const read = (env) => {
    const r = cp.spawnSync(process.execPath, ['-e',
      `process.stdout.write(JSON.stringify(require(${JSON.stringify(top)}).features))`],
    { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30000 });
    assert.strictEqual(r.status, 0, r.stderr);
    return r.stdout;
  };
  const withRoot = read({});
  const without = read({ ILLUMOS_CONTRACT_ROOT: '/proc/ict-none/contract' });
  assert.ok('rootError' in JSON.parse(without) &&
    JSON.parse(withRoot).root !== null, 'both cases are covered');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-types-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(top, path.join(dir, 'node_modules', 'illumos_contract'));
  fs.writeFileSync(path.join(dir, 'features.mts'),
    "import type { Features } from 'illumos_contract';\n" +
    `const withRoot = ${withRoot} satisfies Features;\n` +
    `const without = ${without} satisfies Features;\n` +
    'type Unseen = Exclude<keyof Features, keyof typeof withRoot | ' +
    'keyof typeof without>;\n' +
    'const unseen: [Unseen] extends [never] ? true : Unseen = true;\n' +
    'void unseen;\n');
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'es2022',
      module: 'nodenext', moduleResolution: 'nodenext', types: ['node'],
      typeRoots: [path.join(top, 'node_modules', '@types')] },
    files: ['features.mts'],
  }));
  const r = cp.spawnSync(process.execPath, [tsc, '-p', '.'],
    { cwd: dir, encoding: 'utf8', timeout: 120000 });
  assert.ifError(r.error);
  assert.strictEqual(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
});
