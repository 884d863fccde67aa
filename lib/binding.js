'use strict';
// Loads the native addon -- build/Release from a source build, else the
// prebuild for this platform (prebuilds/<platform>-<arch>/, libc tagged),
// in node-gyp-build's order -- and finds the helper programs (ct-exec,
// ct-keeper, the tools) in the same directory.  The C side is told that
// directory once: it starts ct-keeper from there.
const fs = require('fs');
const path = require('path');

const top = path.join(__dirname, '..');
const file = require('node-gyp-build').resolve(top);
const binding = require(file);
const helperDir = path.dirname(file);
binding.setHelperDir(helperDir);

function helperPath(name) {
  const p = path.join(helperDir, name);
  return fs.existsSync(p) ? p : null;
}

function shimPath() {
  return helperPath('ct-exec');
}

module.exports = { binding, file, helperDir, helperPath, shimPath };
