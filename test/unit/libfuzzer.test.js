'use strict';
// A seeded slice of the libFuzzer harnesses (test/fuzz/c/): the netlink
// walks, the record parsers and a member's stat and cmdline (members(),
// traces), 20,000 inputs each under ASan and UBSan.
// The long run is `sh test/fuzz/libfuzzer.sh` (1,000,000 each).  Skipped,
// and saying why, only where clang cannot be had (.ci/run installs it).
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

test('libFuzzer: netlink, records, stat/cmdline, 20000 runs each', (t) => {
  const r = spawnSync('sh', [path.join(__dirname, '..', 'fuzz', 'libfuzzer.sh'),
    '20000'], { encoding: 'utf8', timeout: 240000 });
  if (r.status === 77) {
    t.skip('no clang here: ' + r.stderr.trim());
    return;
  }
  assert.strictEqual(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /libFuzzer nlwalk[\s\S]*Done 20000 runs/);
  assert.match(r.stdout, /libFuzzer records[\s\S]*Done 20000 runs/);
  assert.match(r.stdout, /libFuzzer procinfo[\s\S]*Done 20000 runs/);
});
