'use strict';
// The package as published: `npm pack` ships the sources and no tests or
// build products; `npm install <tarball>` (offline) builds the addon from
// source, and the README Quick Start, the ES module entry and the types
// work from the installed copy; package.json's man lists the man pages.  Also: on an OS with neither backend
// (src/none.c), require() works and every call throws ENOTSUP.
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('./helpers');

const root = h.useRoot('pack');
const top = path.join(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let tmp;
let installed; // <tmp>/app/node_modules/illumos_contract

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-pack-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function sh(cmd, args, opts = {}) {
  const r = cp.spawnSync(cmd, args, { encoding: 'utf8', timeout: 120000,
    ...opts });
  assert.ifError(r.error);
  assert.strictEqual(r.status, 0,
    `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test('npm pack ships the sources, and no tests or build products', () => {
  const out = sh(npm, ['pack', '--json', '--pack-destination', tmp],
    { cwd: top });
  const [info] = JSON.parse(out.slice(out.indexOf('[')));
  const files = info.files.map((f) => f.path).sort();
  for (const f of ['package.json', 'README.md', 'LICENSE', 'binding.gyp',
    'index.js', 'index.mjs', 'index.d.ts', 'lib/binding.js',
    'lib/contract.js', 'lib/spawn.js', 'lib/template.js', 'src/ct.h',
    'src/binding.c', 'src/names.c', 'src/template.c', 'src/error.c',
    'src/records.c',
    'src/illumos.c', 'src/none.c', 'src/helpers/exec.c']) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  // Every source binding.gyp names is shipped.
  const gyp = fs.readFileSync(path.join(top, 'binding.gyp'), 'utf8');
  for (const [, src] of gyp.matchAll(/"(src\/[^"]+\.c)"/g)) {
    assert.ok(files.includes(src), `${src} (binding.gyp) is in the package`);
  }
  // package.json's man names every page under man/, each one shipped.
  const pkg = JSON.parse(fs.readFileSync(path.join(top, 'package.json')));
  assert.deepStrictEqual(pkg.man.map((m) => path.normalize(m)).sort(),
    fs.readdirSync(path.join(top, 'man')).map((m) => `man/${m}`).sort());
  for (const m of pkg.man) {
    assert.ok(files.includes(path.normalize(m)), `${m} is in the package`);
  }
  for (const f of files) {
    assert.doesNotMatch(f, /^(test|bench|build|build-asan|prebuilds|scripts|\.ci|node_modules)\//,
      `${f} should not be in the package`);
    assert.doesNotMatch(f, /\.(o|node|tgz)$/, `${f} is a build product`);
  }
  const tgz = path.join(tmp, info.filename);
  assert.ok(fs.existsSync(tgz));
  fs.renameSync(tgz, path.join(tmp, 'package.tgz'));
});

test('npm install <tarball> builds from source; the Quick Start runs',
  async () => {
    const tgz = path.join(tmp, 'package.tgz');
    assert.ok(fs.existsSync(tgz), 'the previous test packed it');
    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'),
      JSON.stringify({ name: 'app', private: true }));
    const install = ['install', tgz, '--no-audit', '--no-fund'];
    const r = cp.spawnSync(npm, [...install, '--offline'],
      { cwd: app, encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) { // the cache lacks something: allow the registry
      sh(npm, [...install, '--prefer-offline'], { cwd: app });
    }
    installed = path.join(app, 'node_modules', 'illumos_contract');
    assert.ok(fs.existsSync(path.join(installed, 'build', 'Release',
      'illumos_contract.node')), 'the addon was built at install');
    assert.ok(!fs.existsSync(path.join(installed, 'test')));

    // The README Quick Start, against the installed copy.
    const readme = fs.readFileSync(path.join(top, 'README.md'), 'utf8');
    const m = readme.match(/<!-- quickstart[^>]*-->\s*```js\n([\s\S]*?)```/);
    assert.ok(m, 'the Quick Start block is in the README');
    fs.writeFileSync(path.join(app, 'quickstart.js'), m[1]);
    fs.writeFileSync(path.join(app, 'esm.mjs'),
      "import c, { features } from 'illumos_contract';\n" +
      "import { createRequire } from 'node:module';\n" +
      'const r = createRequire(import.meta.url);\n' +
      "console.log(c === r('illumos_contract'), features.backend === c.backend);\n");
    const env = { ...process.env, ILLUMOS_CONTRACT_ROOT: root };
    for (const [file, check] of [
      ['quickstart.js', (out) => {
        assert.match(out, /^started$/m);
        assert.match(out, /sh exited 0; still running: 1\n/);
        assert.match(out, /contract \d+ is empty: the daemon is gone too\n$/);
      }],
      ['esm.mjs', (out) => assert.strictEqual(out, 'true true\n')],
    ]) {
      const p = cp.spawn(process.execPath, [file], { cwd: app, env,
        stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { err += d; });
      const [code] = await h.once(p, 'close', 15000);
      assert.strictEqual(code, 0, `${file}: ${out}${err}`);
      check(out);
    }
    assert.deepStrictEqual(h.contractDirs(root), []);

    // The shipped types, resolved through the installed package's exports
    // (@types/node from this repository's devDependencies).
    fs.writeFileSync(path.join(app, 't.mts'),
      "import contract, { run, type ProcessTemplate } from 'illumos_contract';\n" +
      "const t: ProcessTemplate = { type: 'process', critical: { pr_empty: true } };\n" +
      'contract.set_template(t);\n' +
      "const code: number | null = (await run('true')).code;\n" +
      'void code;\n');
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'es2022',
        module: 'nodenext', moduleResolution: 'nodenext', types: ['node'],
        typeRoots: [path.join(top, 'node_modules', '@types')] },
      files: ['t.mts'],
    }));
    const tsc = path.join(top, 'node_modules', 'typescript', 'bin', 'tsc');
    assert.ok(fs.existsSync(tsc), 'TypeScript is not installed: npm install');
    sh(process.execPath, [tsc, '-p', '.'], { cwd: app });
  });

// src/none.c: the backend binding.gyp builds on an OS that is neither
// Linux nor illumos.  Built here by hand from the shipped sources, with
// process.platform faked, the library must load and refuse every call.
test('without a backend (src/none.c) require works and calls throw ENOTSUP',
  () => {
    assert.ok(installed, 'the previous test installed the package');
    const pkg = path.join(tmp, 'none', 'node_modules', 'illumos_contract');
    fs.mkdirSync(path.join(pkg, 'build', 'Release'), { recursive: true });
    for (const f of ['package.json', 'index.js', 'index.mjs', 'lib']) {
      fs.cpSync(path.join(installed, f), path.join(pkg, f), { recursive: true });
    }
    fs.cpSync(path.join(installed, '..', 'node-gyp-build'),
      path.join(tmp, 'none', 'node_modules', 'node-gyp-build'),
      { recursive: true });
    let inc = path.join(process.execPath, '..', '..', 'include', 'node');
    if (!fs.existsSync(path.join(inc, 'node_api.h'))) {
      const r = cp.spawnSync(npm, ['config', 'get', 'nodedir'],
        { encoding: 'utf8' });
      inc = path.join(String(r.stdout).trim(), 'include', 'node');
    }
    assert.ok(fs.existsSync(path.join(inc, 'node_api.h')),
      `node_api.h not found (tried ${inc})`);
    const src = path.join(installed, 'src');
    const cc = process.env.CC || 'cc';
    // The flags binding.gyp gives none.c, with -Werror.
    sh(cc, ['-std=c11', '-Wall', '-Wextra', '-Werror', `-I${src}`, '-c',
      path.join(src, 'none.c'), '-o', path.join(tmp, 'none.o')]);
    sh(cc, ['-shared', '-fPIC', '-std=c11', '-D_GNU_SOURCE',
      '-DNAPI_VERSION=8', `-I${src}`, `-I${inc}`, '-o',
      path.join(pkg, 'build', 'Release', 'illumos_contract.node'),
      // The core files as binding.gyp lists them, then the glue and none.c.
      ...JSON.parse(fs.readFileSync(path.join(installed, 'binding.gyp'),
        'utf8')).variables.ct_core.map((f) => path.join(installed, f)),
      ...['binding.c', 'none.c'].map((f) => path.join(src, f))]);
    const script = `
      Object.defineProperty(process, 'platform', { value: 'darwin' });
      const c = require('illumos_contract');
      const out = { backend: c.backend, features: c.features, calls: {} };
      const calls = {
        set_template: () => c.set_template({ type: 'process' }),
        clear_template: () => c.clear_template(),
        latest: () => c.latest(),
        create: () => c.create(),
        adopt: () => c.adopt(1),
        observe: () => c.observe(1),
        list: () => c.list(),
        spawn: () => c.spawn('true'),
        Contract: () => new c.Contract(),
      };
      for (const [k, f] of Object.entries(calls)) {
        try { f(); out.calls[k] = 'returned'; }
        catch (e) { out.calls[k] = [e.code, e.errno, e.message]; }
      }
      c.run('true').then(() => { out.calls.run = 'resolved'; },
        (e) => { out.calls.run = [e.code, e.errno, e.message]; })
        .then(() => console.log(JSON.stringify(out)));
    `;
    const out = sh(process.execPath, ['-e', script],
      { cwd: path.join(tmp, 'none') });
    const r = JSON.parse(out);
    const sysname = os.type();
    const why = 'process contracts need illumos or Linux (cgroup v2); ' +
      `this is ${sysname}`;
    assert.strictEqual(r.backend, 'none');
    assert.strictEqual(r.features.backend, 'none');
    assert.strictEqual(r.features.root, null);
    assert.strictEqual(r.features.rootError, why);
    assert.strictEqual(r.features.spawn, 'kernel');
    assert.ok(!Object.values(r.features.events).includes(true));
    for (const [k, v] of Object.entries(r.calls)) {
      assert.ok(Array.isArray(v), `${k} ${v}`);
      assert.strictEqual(v[0], 'ENOTSUP', `${k}: ${v}`);
      assert.strictEqual(v[1], os.constants.errno.ENOTSUP, k);
      assert.strictEqual(v[2], `ENOTSUP: ${why}`, k);
    }
    assert.strictEqual(Object.keys(r.calls).length, 10);
  });
