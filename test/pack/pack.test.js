'use strict';
// The package as published: `npm pack` ships the sources, the prebuilds
// when present, and no tests or build products; `npm install <tarball>`
// (offline) builds the addon from source, and the README Quick Start, the
// ES module entry and the types work from the installed copy; with the
// prebuilds, an install with no scripts, no compiler, make or python and
// no Node headers works the same, and npx ctrun too; package.json's man
// lists the man pages; without every prebuild, prepack refuses to pack
// unless ILLUMOS_CONTRACT_SOURCE_PACK=1 asks for a source-only one.  Also: on an OS with neither backend
// (src/none.c), require() works and every call throws ENOTSUP.
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');
const h = require('../lib/helpers');

const root = h.useRoot('pack');
const top = path.join(__dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let tmp;
let installed; // <tmp>/app/node_modules/illumos_contract

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-pack-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function sh(cmd, args, opts = {}) {
  const r = cp.spawnSync(cmd, args, { encoding: 'utf8', timeout: h.ms(120000),
    ...opts });
  assert.ifError(r.error);
  assert.strictEqual(r.status, 0,
    `${cmd} ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// prebuilds/ (npm run prebuilds) is never in git but ships when present.
const prebuilds = path.join(top, 'prebuilds');
const hostPrebuild = path.join(prebuilds, `${process.platform}-${process.arch}`);

function listTree(dir, rel = '') {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory()
      ? listTree(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]));
}

// Without prebuilds/ at all (a clone where npm run prebuilds did not
// run) the pack is source-only, which prepack refuses unless asked.
const sourceOnly = fs.existsSync(prebuilds) ? {}
  : { ILLUMOS_CONTRACT_SOURCE_PACK: '1' };

test('prepack refuses a pack without a prebuild for every target, unless ' +
  'ILLUMOS_CONTRACT_SOURCE_PACK=1 asks for a source-only one', (t) => {
  const script = path.join(top, 'scripts', 'prepack.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-prepack-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env };
  delete env.ILLUMOS_CONTRACT_SOURCE_PACK;
  const check = (extra) => cp.spawnSync(process.execPath, [script, dir],
    { encoding: 'utf8', env: { ...env, ...extra } });
  const helpers = ['ct-exec', 'ct-keeper', 'ctrun', 'ctstat', 'ctwatch'];
  const want = [
    ...['node.napi.glibc.node', 'node.napi.musl.node', ...helpers]
      .map((f) => `linux-x64/${f}`),
    ...['node.napi.glibc.node', ...helpers].map((f) => `linux-arm64/${f}`),
  ];
  let r = check({});
  assert.strictEqual(r.status, 1, r.stderr);
  assert.match(r.stderr, /refusing to pack/);
  for (const f of want) assert.ok(r.stderr.includes(`  ${f}\n`), f);
  r = check({ ILLUMOS_CONTRACT_SOURCE_PACK: '1' });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.match(r.stderr, /source-only pack, as asked/);
  for (const f of want) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), 'x');
  }
  fs.writeFileSync(path.join(dir, 'linux-arm64', 'ctwatch'), '');
  r = check({});
  assert.strictEqual(r.status, 1, 'an empty file is no prebuild');
  assert.match(r.stderr, /^ {2}linux-arm64\/ctwatch$/m);
  fs.writeFileSync(path.join(dir, 'linux-arm64', 'ctwatch'), 'x');
  r = check({});
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stderr, '');
  const pkg = JSON.parse(fs.readFileSync(path.join(top, 'package.json')));
  assert.strictEqual(pkg.scripts.prepack, 'node scripts/prepack.js');
  if (fs.existsSync(prebuilds)) return;
  // And npm pack itself stops, here where there are none.
  r = cp.spawnSync(npm, ['pack', '--dry-run'], { cwd: top, env,
    encoding: 'utf8', timeout: h.ms(120000) });
  assert.notStrictEqual(r.status, 0, 'npm pack without prebuilds failed');
  assert.match(r.stderr, /refusing to pack/);
});

test('npm pack ships the sources and the prebuilds, no tests or build ' +
  'products', () => {
  const out = sh(npm, ['pack', '--json', '--pack-destination', tmp],
    { cwd: top, env: { ...process.env, ...sourceOnly } });
  const [info] = JSON.parse(out.slice(out.indexOf('[')));
  const files = info.files.map((f) => f.path).sort();
  for (const f of ['package.json', 'README.md', 'LICENSE', 'binding.gyp',
    'index.js', 'index.mjs', 'index.d.ts', 'lib/binding.js',
    'lib/contract.js', 'lib/spawn.js', 'lib/template.js', 'src/ct.h',
    'src/binding.c', 'src/names.c', 'src/template.c', 'src/error.c',
    'src/records.c', 'src/evpop.c', 'src/helperdir.c',
    'src/illumos/il.h', 'src/illumos/tools.h', 'src/illumos/ctfs.c',
    'src/illumos/tmpl.c', 'src/illumos/contract.c', 'src/illumos/status.c',
    'src/illumos/events.c', 'src/none.c', 'src/helpers/exec.c']) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  // Every source binding.gyp names is shipped.
  const gyp = fs.readFileSync(path.join(top, 'binding.gyp'), 'utf8');
  for (const [, src] of gyp.matchAll(/"(src\/[^"]+\.c)"/g)) {
    assert.ok(files.includes(src), `${src} (binding.gyp) is in the package`);
  }
  // Every page the README links to is shipped: its links work in the
  // installed package too.
  const front = fs.readFileSync(path.join(top, 'README.md'), 'utf8');
  for (const [, doc] of front.matchAll(/\]\((docs\/[^)#\s]+)/g)) {
    assert.ok(files.includes(doc), `${doc} (linked from README) is shipped`);
  }
  const built = fs.existsSync(prebuilds) ? listTree(prebuilds) : [];
  for (const f of built) {
    assert.ok(files.includes(`prebuilds/${f}`), `prebuilds/${f} is shipped`);
  }
  // package.json's man names every page under man/, each one shipped.
  const pkg = JSON.parse(fs.readFileSync(path.join(top, 'package.json')));
  assert.deepStrictEqual(pkg.man.map((m) => path.normalize(m)).sort(),
    fs.readdirSync(path.join(top, 'man')).map((m) => `man/${m}`).sort());
  for (const m of pkg.man) {
    assert.ok(files.includes(path.normalize(m)), `${m} is in the package`);
  }
  for (const f of files) {
    assert.doesNotMatch(f, /^(test|bench|build|build-asan|scripts|\.ci|\.cache|node_modules)\//,
      `${f} should not be in the package`);
    if (f.startsWith('prebuilds/')) continue;
    assert.doesNotMatch(f, /\.(o|node|tgz)$/, `${f} is a build product`);
  }
  // git never sees them (where this is a git work tree: test:asan copies
  // the sources elsewhere).
  const ignored = cp.spawnSync('git', ['check-ignore', '-q', 'prebuilds/x'],
    { cwd: top });
  if (ignored.status !== 128) {
    assert.strictEqual(ignored.status, 0, 'prebuilds/ is in .gitignore');
  }
  const tgz = path.join(tmp, info.filename);
  assert.ok(fs.existsSync(tgz));
  fs.renameSync(tgz, path.join(tmp, 'package.tgz'));
});

function install(app, args, env) {
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true }));
  const tgz = path.join(tmp, 'package.tgz');
  assert.ok(fs.existsSync(tgz), 'the pack test packed it');
  const cmd = ['install', tgz, '--no-audit', '--no-fund', ...args];
  const t0 = process.hrtime.bigint();
  const r = cp.spawnSync(npm, [...cmd, '--offline'],
    { cwd: app, encoding: 'utf8', timeout: h.ms(120000), env });
  if (r.status !== 0) { // the cache lacks something: allow the registry
    sh(npm, [...cmd, '--prefer-offline'], { cwd: app, env });
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`npm install ${args.join(' ')}: ${s.toFixed(1)} s\n`);
  return path.join(app, 'node_modules', 'illumos_contract');
}

async function runIn(app, env, file, timeout = 15000) {
  const p = cp.spawn(process.execPath, [file], { cwd: app, env,
    stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { err += d; });
  const [code] = await h.once(p, 'close', timeout);
  assert.strictEqual(code, 0, `${file}: ${out}${err}`);
  return out;
}

// The README Quick Start, an ES module import and the shipped types,
// against the installed copy in app; `addon` matches the file it loads.
async function quickStart(app, env, addon) {
  const readme = fs.readFileSync(path.join(top, 'README.md'), 'utf8');
  const m = readme.match(/<!-- quickstart[^>]*-->\s*```js\n([\s\S]*?)```/);
  assert.ok(m, 'the Quick Start block is in the README');
  fs.writeFileSync(path.join(app, 'quickstart.js'), m[1]);
  let out = await runIn(app, env, 'quickstart.js');
  assert.match(out, /^started$/m);
  assert.match(out, /sh exited 0; still running: 1\n/);
  assert.match(out, /contract \d+ is empty: the daemon is gone too\n$/);

  fs.writeFileSync(path.join(app, 'esm.mjs'),
    "import c, { features } from 'illumos_contract';\n" +
    "import { createRequire } from 'node:module';\n" +
    'const r = createRequire(import.meta.url);\n' +
    "console.log(c === r('illumos_contract'), features.backend === c.backend);\n");
  out = await runIn(app, env, 'esm.mjs');
  assert.strictEqual(out, 'true true\n');

  // Which addon loaded, and the keeper it starts: from the same directory.
  fs.writeFileSync(path.join(app, 'which.js'), `
    const fs = require('fs');
    const path = require('path');
    const c = require('illumos_contract');
    const file = require('node-gyp-build').resolve(
      path.dirname(require.resolve('illumos_contract/package.json')));
    c.set_template({ type: 'process' });
    const child = require('child_process').spawn('sleep', ['10']);
    c.clear_template();
    const root = c.features.root;
    const keepers = fs.readdirSync(root).filter((d) => /^k/.test(d))
      .flatMap((d) => fs.readFileSync(path.join(root, d, 'cgroup.procs'),
        'utf8').split('\\n').filter(Boolean));
    const exes = keepers.map((p) => fs.readlinkSync('/proc/' + p + '/exe'));
    child.kill('SIGKILL');
    console.log(JSON.stringify({ file, holderDeath: c.features.holderDeath,
      exes }));
  `);
  const w = JSON.parse(await runIn(app, env, 'which.js'));
  assert.match(w.file, addon);
  assert.strictEqual(w.holderDeath, true, 'ct-keeper is beside the addon');
  assert.deepStrictEqual(w.exes, [path.join(path.dirname(w.file),
    'ct-keeper')], 'the keeper runs from beside the addon');

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
  sh(process.execPath, [tsc, '-p', '.'], { cwd: app, env });
}

test('npm install <tarball> builds from source; the Quick Start runs',
  async () => {
    // With prebuilds in the tarball node-gyp-build would not compile:
    // ask it to, as on a platform with no matching prebuild.
    // JOBS: node-gyp compiles on every CPU (what a user can set too).
    const env = { ...process.env, ILLUMOS_CONTRACT_ROOT: root,
      npm_config_build_from_source: 'true', JOBS: 'max' };
    installed = install(path.join(tmp, 'app'), [], env);
    assert.ok(fs.existsSync(path.join(installed, 'build', 'Release',
      'illumos_contract.node')), 'the addon was built at install');
    assert.ok(!fs.existsSync(path.join(installed, 'test')));
    delete env.npm_config_build_from_source;
    await quickStart(path.join(tmp, 'app'), env,
      /\/node_modules\/illumos_contract\/build\/Release\/illumos_contract\.node$/);
    assert.deepStrictEqual(h.contractDirs(root), []);
  });

// A PATH with every program of this one except compilers, make and
// python: what a slim container or node:*-alpine offers.
function toolchainFreePath() {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  const banned = /^(cc|c89|c99|c\+\+|cpp|gcc|g\+\+|clang|tcc|make|gmake|python)|-(gcc|g\+\+|cc|c\+\+|cpp)(-[\d.]+)?$|^python/;
  for (const dir of process.env.PATH.split(':')) {
    let names;
    try { names = fs.readdirSync(dir); } catch { continue; }
    for (const n of names) {
      if (banned.test(n) || fs.existsSync(path.join(bin, n))) continue;
      fs.symlinkSync(path.join(dir, n), path.join(bin, n));
    }
  }
  return bin;
}

test('with prebuilds: npm install --ignore-scripts works with no ' +
  'toolchain, no nodedir', async (t) => {
  if (!fs.existsSync(path.join(hostPrebuild, 'ct-keeper'))) {
    t.skip(`no ${path.relative(top, hostPrebuild)}: npm run prebuilds`);
    return;
  }
  const bin = toolchainFreePath();
  // npm's user config without its nodedir (this machine's sets one).
  const npmrc = path.join(tmp, 'npmrc');
  const user = path.join(os.homedir(), '.npmrc');
  fs.writeFileSync(npmrc, (fs.existsSync(user)
    ? fs.readFileSync(user, 'utf8') : '').replace(/^\s*nodedir\s*=.*$/mg, ''));
  const env = { ...process.env, PATH: bin, ILLUMOS_CONTRACT_ROOT: root,
    npm_config_userconfig: npmrc };
  for (const k of Object.keys(env)) {
    if (/^npm_config_(nodedir|build_from_source)$/i.test(k)) delete env[k];
  }
  for (const tool of ['cc', 'gcc', 'make', 'python3', 'python']) {
    const r = cp.spawnSync('sh', ['-c', `command -v ${tool}`],
      { env, encoding: 'utf8' });
    assert.notStrictEqual(r.status, 0, `${tool} is out of PATH: ${r.stdout}`);
  }
  assert.strictEqual(sh(npm, ['config', 'get', 'nodedir'], { env }).trim(),
    'undefined');

  const app = path.join(tmp, 'bare');
  const pkg = install(app, ['--ignore-scripts'], env);
  assert.ok(!fs.existsSync(path.join(pkg, 'build')), 'nothing was built');
  await quickStart(app, env,
    /\/node_modules\/illumos_contract\/prebuilds\/linux-x64\/node\.napi\.glibc\.node$/);

  // run() of a daemonizing tree resolves once the daemon is gone too.
  fs.writeFileSync(path.join(app, 'daemon.js'), `
    const fs = require('fs');
    const { run } = require('illumos_contract');
    run('sh', ['-c', '(setsid sh -c "sleep 0.3; echo late > daemon.out" &); exit 3'],
      { reject: false })
      .then((r) => console.log(JSON.stringify({ code: r.code,
        daemon: fs.readFileSync('daemon.out', 'utf8') })));
  `);
  assert.deepStrictEqual(JSON.parse(await runIn(app, env, 'daemon.js')),
    { code: 3, daemon: 'late\n' });

  // npx ctrun: the launcher finds the prebuilt tool.
  const r = cp.spawnSync(npm, ['exec', '--offline', '--', 'ctrun', '-v',
    'sh', '-c', '(setsid sleep 0.2 &); echo hi; exit 7'],
  { cwd: app, env, encoding: 'utf8', timeout: 30000 });
  assert.strictEqual(r.status, 7, `${r.stdout}${r.stderr}`);
  // -v goes to stdout, as illumos's ctrun prints it (ctrun.c:220-228).
  assert.match(r.stdout, /^hi\n/m);
  assert.match(r.stdout, /ctrun\(\d+\): event from contract \d+: contract empty\n$/);
  assert.deepStrictEqual(h.contractDirs(root), []);
});

// src/none.c: the backend binding.gyp builds on an OS that is neither
// Linux nor illumos.  Built here by hand from the shipped sources, with
// process.platform faked, the library must load and refuse every call.
test('without a backend (src/none.c) require works and calls throw ENOTSUP',
  () => {
    // The installed copy, or (if that test failed: its failure is its
    // own) the same sources from the repository.
    const from = installed || top;
    const pkg = path.join(tmp, 'none', 'node_modules', 'illumos_contract');
    fs.mkdirSync(path.join(pkg, 'build', 'Release'), { recursive: true });
    for (const f of ['package.json', 'index.js', 'index.mjs', 'lib']) {
      fs.cpSync(path.join(from, f), path.join(pkg, f), { recursive: true });
    }
    fs.cpSync(path.join(from, installed ? '..' : 'node_modules', 'node-gyp-build'),
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
    const src = path.join(from, 'src');
    const cc = process.env.CC || 'cc';
    // The flags binding.gyp gives none.c, with -Werror.
    sh(cc, ['-std=c11', '-Wall', '-Wextra', '-Werror', `-I${src}`, '-c',
      path.join(src, 'none.c'), '-o', path.join(tmp, 'none.o')]);
    // The glue and the core as binding.gyp's addon target lists them.
    const gyp = JSON.parse(fs.readFileSync(path.join(installed, 'binding.gyp'),
      'utf8'));
    const sources = gyp.targets[0].sources.flatMap((f) => {
      const v = /^<@\((\w+)\)$/.exec(f); // a list variable: <@(ct_core)
      return v ? gyp.variables[v[1]] : [f];
    });
    sh(cc, ['-shared', '-fPIC', '-std=c11', '-D_GNU_SOURCE',
      '-DNAPI_VERSION=8', `-I${src}`, `-I${inc}`, '-o',
      path.join(pkg, 'build', 'Release', 'illumos_contract.node'),
      ...sources.map((f) => path.join(installed, f)),
      path.join(src, 'none.c')]);
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
