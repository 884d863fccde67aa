'use strict';
// The test runner of `npm test` (and `npm run test:asan`): every test file
// once, as the host chooses its membership and spawn mechanism; then the
// suites whose behaviour depends on those choices again in each cell of the
// declared matrix below, as child `node --test` runs whose environment
// forces the cell (ILLUMOS_CONTRACT_MEMBERSHIP, ILLUMOS_CONTRACT_SPAWN: the
// suites read nothing else).
//
//   node test/matrix.js                 everything, as npm test does
//   node test/matrix.js FILE...         these files: in each of their cells
//                                       when in MATRIX, else once
//   node test/matrix.js --cell NAME FILE...   these files in one cell
//   node test/matrix.js --list          the plan, without running it
//
// Exits 1 when any run failed; the last line says which.
const cp = require('child_process');
const fs = require('fs');
const path = require('path');

const top = path.join(__dirname, '..');

// Membership x spawn mechanism.  Reaper membership has one way in (the
// helper starts every contract), so it is one cell.
const CELLS = {
  'cgroup/atfork': { ILLUMOS_CONTRACT_MEMBERSHIP: 'cgroup',
    ILLUMOS_CONTRACT_SPAWN: 'atfork' },
  'cgroup/shim': { ILLUMOS_CONTRACT_MEMBERSHIP: 'cgroup',
    ILLUMOS_CONTRACT_SPAWN: 'shim' },
  reaper: { ILLUMOS_CONTRACT_MEMBERSHIP: 'reaper' },
};
const ALL = Object.keys(CELLS);

// The membership-sensitive suites and the cells each runs in.
const MATRIX = {
  'test/e2e/quickstart.test.js': ALL,
  'test/e2e/lifecycle.test.js': ALL,
  'test/e2e/events.test.js': ALL,
  'test/e2e/control.test.js': ALL,
  'test/e2e/observe.test.js': ALL,
  'test/e2e/holder.test.js': ALL,
  'test/e2e/cli.test.js': ALL,
  'test/e2e/cli-output.test.js': ALL,
  // Tracing has no spawn-mechanism part: one cell per membership.
  'test/e2e/trace.test.js': ['cgroup/atfork', 'reaper'],
  // A container has no writable cgroup: reaper membership inside, whatever
  // the host would choose; its own tests vary uid and namespaces.
  'test/env/container.test.js': ['reaper'],
};

const KINDS = ['unit', 'e2e', 'env', 'pack'];

function allFiles() {
  const out = [];
  for (const k of KINDS) {
    const dir = path.join(top, 'test', k);
    for (const f of fs.readdirSync(dir).sort()) {
      if (f.endsWith('.test.js')) out.push(`test/${k}/${f}`);
    }
  }
  return out;
}

function rel(f) {
  return path.relative(top, path.resolve(f)).split(path.sep).join('/');
}

// [{ cell, files }], in order.
function plan(args) {
  let cell = null;
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--cell') cell = args[++i];
    else files.push(rel(args[i]));
  }
  if (cell !== null && !(cell in CELLS)) {
    throw new Error(`unknown cell ${cell}: ${ALL.join(', ')}`);
  }
  for (const f of files) {
    if (!fs.existsSync(path.join(top, f))) throw new Error(`no file ${f}`);
  }
  if (cell !== null) return [{ cell, files }];
  const runs = [];
  const picked = files.length > 0 ? files : allFiles();
  const once = picked.filter((f) => !(f in MATRIX));
  if (once.length > 0) runs.push({ cell: null, files: once });
  for (const c of ALL) {
    const inCell = picked.filter((f) => (MATRIX[f] || []).includes(c));
    if (inCell.length > 0) runs.push({ cell: c, files: inCell });
  }
  return runs;
}

function label(cell) {
  return cell === null ? 'host default' : cell;
}

function run(runs) {
  const failed = [];
  for (const { cell, files } of runs) {
    const env = { ...process.env };
    delete env.ILLUMOS_CONTRACT_MEMBERSHIP;
    delete env.ILLUMOS_CONTRACT_SPAWN;
    if (cell !== null) Object.assign(env, CELLS[cell]);
    console.log(`# matrix: ${label(cell)}: ${files.join(' ')}`);
    const t0 = Date.now();
    const r = cp.spawnSync(process.execPath,
      ['--test', '--test-concurrency=1', ...files],
      { cwd: top, env, stdio: 'inherit' });
    const s = ((Date.now() - t0) / 1000).toFixed(0);
    const ok = r.status === 0;
    console.log(`# matrix: ${label(cell)}: ${ok ? 'pass' : 'FAIL'} in ${s} s`);
    if (!ok) failed.push(label(cell));
  }
  console.log(failed.length === 0
    ? `# matrix: all ${runs.length} runs passed`
    : `# matrix: FAILED in ${failed.join(', ')}`);
  return failed.length === 0 ? 0 : 1;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const runs = plan(args.filter((a) => a !== '--list'));
  if (args.includes('--list')) {
    for (const { cell, files } of runs) {
      console.log(`${label(cell)}: ${files.join(' ')}`);
    }
  } else {
    process.exitCode = run(runs);
  }
}

module.exports = { CELLS, MATRIX, allFiles, plan };
