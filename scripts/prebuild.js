#!/usr/bin/env node
'use strict';
// npm run prebuilds [-- flavour...]: build prebuilds/<platform>-<arch>/ from
// source with Debian's toolchains, in the layout node-gyp-build loads:
//
//   prebuilds/linux-x64/node.napi.glibc.node     gcc, glibc 2.28 floor
//   prebuilds/linux-x64/node.napi.musl.node      musl-gcc (musl-tools)
//   prebuilds/linux-x64/{ct-exec,ct-keeper,ctrun,ctstat,ctwatch}
//   prebuilds/linux-arm64/node.napi.glibc.node   aarch64-linux-gnu-gcc
//   prebuilds/linux-arm64/{ct-exec,...}
//
// One Node-API build per flavour (NAPI_VERSION in binding.gyp) loads on
// every Node the package supports.  The helpers are static -- ct-exec has
// no libc at all, the others static musl on x64 and static glibc on arm64
// (Debian has no musl cross compiler) -- so one set beside both x64 addons
// serves glibc and musl hosts alike.  Each build runs node-gyp on
// binding.gyp in a scratch copy of the sources, so build/ is left alone.
//
// Flavours: x64-glibc x64-musl arm64-glibc arm64-helpers (default: all).
// Needs gcc, make, python3, Node headers (npm's nodedir or a download),
// and for the others musl-tools, gcc-aarch64-linux-gnu and patchelf.
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');

const top = path.join(__dirname, '..');
const out = path.join(top, 'prebuilds');
const helpers = ['ct-exec', 'ct-keeper', 'ctrun', 'ctstat', 'ctwatch'];
const addon = 'illumos_contract';

const flavours = {
  // The addon against this glibc, held to 2.28 (src/linux/glibc_floor.c).
  'x64-glibc': { arch: 'x64', cc: 'gcc', strip: 'strip',
    vars: { ct_glibc_floor: 1 }, targets: [addon], tag: 'glibc' },
  // musl: the addon, and the static helpers both x64 addons share.
  'x64-musl': { arch: 'x64', cc: 'musl-gcc', strip: 'strip', musl: true,
    vars: { ct_static_tools: 1 }, targets: [addon, ...helpers], tag: 'musl' },
  'arm64-glibc': { arch: 'arm64', cc: 'aarch64-linux-gnu-gcc',
    strip: 'aarch64-linux-gnu-strip', vars: { ct_glibc_floor: 1 },
    targets: [addon], tag: 'glibc' },
  'arm64-helpers': { arch: 'arm64', cc: 'aarch64-linux-gnu-gcc',
    strip: 'aarch64-linux-gnu-strip', vars: { ct_static_tools: 1 },
    targets: helpers },
};

function run(cmd, args, opts) {
  const r = cp.spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8', ...opts });
  if (r.error || r.status !== 0) {
    process.stderr.write(`${r.stdout || ''}${r.stderr || ''}`);
    throw new Error(`${cmd} ${args.join(' ')}: ` +
      (r.error ? r.error.message : `exit ${r.status}`));
  }
  // Compiler and linker warnings (static glibc's about NSS, say) matter.
  for (const l of `${r.stdout}${r.stderr}`.split('\n')) {
    if (/warning:/.test(l)) process.stderr.write(`${l}\n`);
  }
  return r.stdout;
}

function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const npmDir = path.join(path.dirname(process.execPath), '..', 'lib',
    'node_modules', 'npm');
  return path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

// musl-gcc sees only musl's headers; the backend also needs the kernel's
// (linux/, asm/), which Debian keeps with glibc's.  Link just those in.
function kernelHeaders(dir) {
  const inc = path.join(dir, 'kinc');
  fs.mkdirSync(inc);
  const multi = run('gcc', ['-print-multiarch']).trim();
  for (const [name, from] of [['linux', '/usr/include/linux'],
    ['asm-generic', '/usr/include/asm-generic'],
    ['asm', `/usr/include/${multi}/asm`]]) {
    fs.symlinkSync(from, path.join(inc, name));
  }
  return inc;
}

function build(name, f, scratch) {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir);
  fs.cpSync(path.join(top, 'binding.gyp'), path.join(dir, 'binding.gyp'));
  fs.cpSync(path.join(top, 'src'), path.join(dir, 'src'), { recursive: true });
  const env = { ...process.env, CC: f.cc, CXX: f.cc, LINK: f.cc,
    CC_target: f.cc };
  if (f.musl) env.CFLAGS = `-isystem ${kernelHeaders(dir)}`;
  const vars = Object.entries(f.vars).map(([k, v]) => `-D${k}=${v}`);
  run(process.execPath, [nodeGyp(), 'configure', `--arch=${f.arch}`,
    '--', ...vars], { cwd: dir, env });
  run('make', ['-C', 'build', 'BUILDTYPE=Release',
    `-j${Math.max(1, os.availableParallelism())}`, ...f.targets],
  { cwd: dir, env });
  const dest = path.join(out, `linux-${f.arch}`);
  fs.mkdirSync(dest, { recursive: true });
  for (const t of f.targets) {
    const from = path.join(dir, 'build', 'Release',
      t === addon ? `${addon}.node` : t);
    const to = path.join(dest, t === addon ? `node.napi.${f.tag}.node` : t);
    fs.copyFileSync(from, to);
    run(f.strip, t === addon ? ['--strip-unneeded', to] : [to]);
    // Linked against Debian's musl, whose libc.so has no soname; a musl
    // system (Alpine) knows it by the name its own programs record.
    if (f.musl && t === addon) {
      const needed = run('readelf', ['-d', to]);
      if (/\[libc\.so\]/.test(needed)) {
        run('patchelf', ['--replace-needed', 'libc.so',
          'libc.musl-x86_64.so.1', to]);
      }
    }
  }
}

function main() {
  const want = process.argv.slice(2);
  for (const w of want) {
    if (!flavours[w]) {
      throw new Error(`unknown flavour ${w} (${Object.keys(flavours)})`);
    }
  }
  const names = want.length > 0 ? want : Object.keys(flavours);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ict-prebuild-'));
  try {
    for (const name of names) {
      const t0 = process.hrtime.bigint();
      build(name, flavours[name], scratch);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      console.log(`prebuild ${name}: ${s.toFixed(1)} s`);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  for (const d of fs.readdirSync(out).sort()) {
    for (const f of fs.readdirSync(path.join(out, d)).sort()) {
      const size = fs.statSync(path.join(out, d, f)).size;
      console.log(`  prebuilds/${d}/${f}  ${size} bytes`);
    }
  }
}

main();
