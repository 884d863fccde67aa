'use strict';
// The README's Quick Start runs as written.
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('qs');
const top = path.join(__dirname, '..', '..');

test('the README Quick Start runs as written', async () => {
  const readme = fs.readFileSync(path.join(top, 'README.md'), 'utf8');
  const m = readme.match(/<!-- quickstart[^>]*-->\s*```js\n([\s\S]*?)```/);
  assert.ok(m, 'the Quick Start block is in the README');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-qs-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(top, path.join(dir, 'node_modules', 'illumos_contract'));
  fs.writeFileSync(path.join(dir, 'quickstart.js'), m[1]);
  const p = cp.spawn(process.execPath, ['quickstart.js'], { cwd: dir,
    env: { ...process.env, ILLUMOS_CONTRACT_ROOT: root },
    stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  const [code] = await h.once(p, 'exit', 15000);
  assert.strictEqual(code, 0);
  const lines = out.trim().split('\n');
  assert.ok(lines.includes('started'), out);
  assert.match(out, /sh exited 0; still running: 1\n/);
  assert.match(lines[lines.length - 1], /^contract \d+ is empty: the daemon is gone too$/);
  assert.strictEqual(lines.filter((l) => / forked by /.test(l)).length,
    lines.filter((l) => / exited \(/.test(l)).length);
  assert.deepStrictEqual(h.contractDirs(root), [], 'abandoned and removed');
});
