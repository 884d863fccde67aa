'use strict';
// Loads the native addon and finds the exec shim built beside it.
const fs = require('fs');
const path = require('path');

const top = path.join(__dirname, '..');
const binding = require('node-gyp-build')(top);

function shimPath() {
  for (const dir of ['Release', 'Debug']) {
    const p = path.join(top, 'build', dir, 'ct-exec');
    if (fs.existsSync(p)) return p;
  }
  return null;
}

module.exports = { binding, shimPath };
