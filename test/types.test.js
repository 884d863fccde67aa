'use strict';
// index.d.ts type-checks a typed use of the whole API (test/types/), and
// every `@ts-expect-error` there is an error: tsc --noEmit, strict.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const cp = require('child_process');

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
