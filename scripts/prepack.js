'use strict';
// npm's prepack: refuse to pack without a prebuild for every target the
// README promises (docs/building.md, "Prebuilt binaries"), since the
// tarball would silently be a source-only one that needs a compiler,
// Python and Node's headers at every install.  A source-only pack is
// asked for with ILLUMOS_CONTRACT_SOURCE_PACK=1 (test/pack/pack.test.js
// on a machine without prebuilds; a git dependency, which npm packs).
//
//   node scripts/prepack.js [DIR]      DIR: the prebuilds (./prebuilds)
const fs = require('fs');
const path = require('path');

const helpers = ['ct-exec', 'ct-keeper', 'ctrun', 'ctstat', 'ctwatch'];
// What `npm run prebuilds` (scripts/prebuild.js) leaves, per target.
const TARGETS = {
  'linux-x64': ['node.napi.glibc.node', 'node.napi.musl.node', ...helpers],
  'linux-arm64': ['node.napi.glibc.node', ...helpers],
};

function missing(dir) {
  const out = [];
  for (const [target, files] of Object.entries(TARGETS)) {
    for (const f of files) {
      const p = path.join(dir, target, f);
      let st = null;
      try { st = fs.statSync(p); } catch { /* missing */ }
      if (st === null || !st.isFile() || st.size === 0) {
        out.push(`${target}/${f}`);
      }
    }
  }
  return out;
}

const dir = path.resolve(process.argv[2] ||
  path.join(__dirname, '..', 'prebuilds'));
const lack = missing(dir);
if (lack.length === 0) process.exit(0);
if (process.env.ILLUMOS_CONTRACT_SOURCE_PACK === '1') {
  process.stderr.write(`prepack: a source-only pack, as asked ` +
    `(ILLUMOS_CONTRACT_SOURCE_PACK=1): ${lack.length} prebuilt file(s) ` +
    'missing\n');
  process.exit(0);
}
process.stderr.write(`prepack: refusing to pack without the prebuilds ` +
  `the README promises; missing in ${dir}:\n` +
  lack.map((f) => `  ${f}\n`).join('') +
  'Build them with `npm run prebuilds` (scripts/ci-prebuilds.sh installs ' +
  'the toolchains), or set ILLUMOS_CONTRACT_SOURCE_PACK=1 for a ' +
  'source-only package (docs/building.md).\n');
process.exit(1);
