'use strict';
// The ES module entry (index.mjs) through the package's "exports", resolved
// by name from a temp dir whose node_modules/illumos_contract is a symlink
// to the repository: named exports, the default export, the live
// `features` view, and a contract made from ESM.
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('esm');
const top = path.join(__dirname, '..', '..');

const SCRIPT = `
import { createRequire } from 'node:module';
import * as ns from 'illumos_contract';
import contract, { set_template, clear_template, latest, run, features }
  from 'illumos_contract';

const require = createRequire(import.meta.url);
const cjs = require('illumos_contract');
const out = {};
out.resolvedImport = import.meta.resolve('illumos_contract');
out.resolvedRequire = require.resolve('illumos_contract');
out.named = Object.keys(ns).sort();
out.cjsKeys = Object.keys(cjs).sort();
out.defaultIsCjs = contract === cjs;
out.sameFunctions = Object.keys(cjs).filter((k) => k !== 'features')
  .every((k) => ns[k] === cjs[k]);
out.pkgJson = require('illumos_contract/package.json').name;
try {
  await import('illumos_contract/lib/contract.js');
  out.deep = 'importable';
} catch (e) {
  out.deep = e.code;
}

// features: a live, read-only view of the CommonJS getter.
out.featuresEqual = JSON.stringify(features) === JSON.stringify(cjs.features);
out.featureKeys = Object.keys(features).join() === Object.keys(cjs.features).join();
out.spread = { ...features }.backend === cjs.backend;
const lib = require(${JSON.stringify(path.join(top, 'lib', 'binding.js'))});
const real = lib.binding.features;
lib.binding.features = () => ({ ...real(), root: '/live/view' });
out.live = features.root;
out.liveHas = 'root' in features && !('nonesuch' in features);
lib.binding.features = real;
out.liveAgain = features.root === cjs.features.root;
try {
  features.root = 'x';
  out.readOnly = false;
} catch (e) {
  out.readOnly = e instanceof TypeError;
}
out.inspected = (await import('node:util')).inspect(features).includes('backend');

// A contract from ESM: 1.0.3 calls and run().
set_template({ type: 'process', critical: { pr_empty: true } });
const { spawn } = await import('node:child_process');
spawn('sh', ['-c', '(setsid sleep 0.1 &)'], { stdio: 'ignore' });
clear_template();
const ct = latest('process');
await new Promise((resolve) => ct.once('pr_empty', (ev) => {
  ct.ack(ev.evid);
  ct.abandon();
  ct.dispose();
  resolve();
}));
out.emptied = true;
const r = await run('sh', ['-c', 'exit 4'], { stdio: 'ignore',
  reject: false });
out.run = [r.code, r.timedOut];
console.log(JSON.stringify(out));
`;

test('import illumos_contract: named and default exports, live features',
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-esm-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(top, path.join(dir, 'node_modules', 'illumos_contract'));
    fs.writeFileSync(path.join(dir, 'esm.mjs'), SCRIPT);
    const p = cp.spawn(process.execPath, ['esm.mjs'], { cwd: dir,
      env: { ...process.env, ILLUMOS_CONTRACT_ROOT: root },
      stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const [code] = await h.once(p, 'close', 15000);
    assert.strictEqual(code, 0, err);
    const r = JSON.parse(out);
    assert.strictEqual(fs.realpathSync(new URL(r.resolvedImport)),
      path.join(top, 'index.mjs'));
    assert.strictEqual(fs.realpathSync(r.resolvedRequire),
      path.join(top, 'index.js'));
    assert.deepStrictEqual(r.named, [...r.cjsKeys, 'default'].sort());
    assert.ok(r.cjsKeys.includes('features') && r.cjsKeys.length >= 12);
    assert.strictEqual(r.defaultIsCjs, true, 'default export is module.exports');
    assert.strictEqual(r.sameFunctions, true);
    assert.strictEqual(r.pkgJson, 'illumos_contract');
    assert.strictEqual(r.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    assert.strictEqual(r.featuresEqual, true);
    assert.strictEqual(r.featureKeys, true);
    assert.strictEqual(r.spread, true);
    assert.strictEqual(r.live, '/live/view', 'features is read on each access');
    assert.strictEqual(r.liveHas, true);
    assert.strictEqual(r.liveAgain, true);
    assert.strictEqual(r.readOnly, true);
    assert.strictEqual(r.inspected, true);
    assert.strictEqual(r.emptied, true);
    assert.deepStrictEqual(r.run, [4, false]);
    assert.deepStrictEqual(h.contractDirs(root), []);
  });
