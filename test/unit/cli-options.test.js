'use strict';
// The tools' options and output formats against illumos's own tools
// (illumos-gate usr/src/cmd/ctrun/ctrun.c, ctstat/ctstat.c,
// ctwatch/ctwatch.c, arm64-gate): the option letters and whether each
// takes an argument, and the printf formats of the tables, read from our
// sources (src/cli/) and compared with the facts below, each cited by
// file:line.  Runs no tool: test/e2e/cli.test.js runs them, and
// test/e2e/cli-output.test.js compares what they print, line by line.
const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');

const src = (f) => fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'cli',
  f), 'utf8');

// getopt strings of illumos's tools.
const REAL = {
  'ctrun.c': 'a:A:l:o:i:c:f:F:r:tvV', // ctrun.c:401
  'ctstat.c': 'ai:T:t:v', // ctstat.c:817
  'ctwatch.c': 'rfv', // ctwatch.c:242
};
// Where ours differs on purpose, or not yet: every entry must still be
// true (the test fails once it is not, so the list stays honest).
const MISSING = {};
const EXTRA = {
  'ctwatch.c': ['a'], // ctwatch -a: every type
  'ctrun.c': ['s', 'g', 'k'], // ctrun as an init: man/ctrun.1, INIT
};

// letter -> takes an argument
function letters(spec) {
  const m = new Map();
  const s = spec.replace(/^[+:]+/, '');
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ':') continue;
    m.set(s[i], s[i + 1] === ':');
  }
  return m;
}

function ours(file) {
  const m = src(file).match(/getopt\(argc, argv, CLI_OPTS "([^"]+)"\)/);
  assert.ok(m, `no getopt string in src/cli/${file}`);
  return letters(m[1]);
}

for (const file of Object.keys(REAL)) {
  test(`${file}: the option letters of illumos's tool`, () => {
    const real = letters(REAL[file]);
    const mine = ours(file);
    const missing = MISSING[file] ?? [];
    const extra = EXTRA[file] ?? [];
    for (const [c, arg] of real) {
      if (missing.includes(c)) {
        assert.ok(!mine.has(c), `-${c} is there now: drop it from MISSING`);
        continue;
      }
      assert.ok(mine.has(c), `-${c} is missing`);
      assert.strictEqual(mine.get(c), arg, `-${c}: argument or not`);
    }
    for (const c of mine.keys()) {
      if (!real.has(c)) assert.ok(extra.includes(c), `-${c} is not illumos's`);
    }
  });
}

test('table formats: illumos\'s printf formats', () => {
  // ctwatch.c:117 (header) and :145 (row): widths without separators.
  const w = src('ctwatch.c');
  assert.ok(w.includes('"%-8s%-8s%-5s%-4s%-9s%s\\n", "CTID", "EVID", "CRIT"'));
  assert.ok(w.includes('"%-8d%-8s%-5s%-4s%-9s", (int)ev->ctid'));
  // ctstat.c:509 (header) and :590 (row).
  const s = src('ctstat.c');
  assert.ok(s.includes('"%-8s%-8s%-8s%-8s%-8s%-8s%-8s%-8s\\n", "CTID", ' +
    '"ZONEID"'));
  assert.ok(s.includes('"%-7d %-7d %-7s %-7s %-7s %-7d %-7s %-8s\\n"'));
  // ctstat.c:448-473 (print_verbose): "\t<label>" then ":" padded to the
  // longest label plus two.
  assert.match(s, /printf\("\\t%s%-\*s", fl->label,\s+width - \(int\)strlen\(fl->label\), ":"\)/);
  // ctrun.c:220-228 (v_printf): -v on stdout.
  assert.match(src('ctrun.c'), /\(void\) printf\("%s\(%d\): ", cli_prog, \(int\)getpid\(\)\);/);
});
