'use strict';
// spawn_ratio.reaper_floor: what the anchor alone costs a spawn, without
// the library -- Node spawns ct-exec --anchor @3 /bin/true (one more exec
// and fork: the anchor forks the program, reaps it, records it in the
// directory it was given, and exits as it did) to 'exit', ÷ a plain spawn
// of /bin/true to 'exit'.  Blocks of PER of each alternate; the figure is
// the median of the blocks' ratios.  Reaper membership's spawn ratio
// cannot go below it (docs/performance.md).
const fs = require('fs');
const { spawn } = require('child_process');
const { shimPath } = require('../lib/binding');
const { median, nowNs, round, log, done, atExit } = require('./common');

const BLOCKS = Number(process.env.ICT_BENCH_ANCHOR_BLOCKS) || 40;
const PER = 5;
const exe = shimPath();
const dir = fs.mkdtempSync('/dev/shm/ict-bench-anchor-');
const dfd = fs.openSync(dir, 'r');
atExit(() => fs.rmSync(dir, { recursive: true, force: true }));

function one(anchor) {
  return new Promise((resolve, reject) => {
    const t0 = nowNs();
    const c = anchor
      ? spawn(exe, ['--anchor', '@3', '/bin/true', '/bin/true'],
        { stdio: ['ignore', 'ignore', 'ignore', dfd] })
      : spawn('/bin/true', [], { stdio: 'ignore' });
    c.once('error', reject);
    c.once('exit', (code) => {
      // The anchor's records go, for the next one's exclusive create.
      for (const f of fs.readdirSync(dir)) fs.unlinkSync(`${dir}/${f}`);
      if (code !== 0) reject(new Error(`exit ${code}`));
      else resolve(Number(nowNs() - t0) / 1e6);
    });
  });
}

async function main() {
  if (exe === null) throw new Error('ct-exec is missing: build first');
  log(`anchor floor: ${BLOCKS} blocks of ${PER} anchored and ${PER} plain ` +
    'spawns of /bin/true, alternating, no library');
  for (let i = 0; i < 20; i++) {
    await one(true);
    await one(false);
  }
  const ratios = [];
  const a = [];
  const p = [];
  for (let b = 0; b < BLOCKS; b++) {
    const ab = [];
    const pb = [];
    for (let i = 0; i < PER; i++) {
      if ((b + i) % 2 === 0) {
        ab.push(await one(true));
        pb.push(await one(false));
      } else {
        pb.push(await one(false));
        ab.push(await one(true));
      }
    }
    ratios.push(median(ab) / median(pb));
    a.push(...ab);
    p.push(...pb);
  }
  done({ ratio: round(median(ratios)), anchored_ms: round(median(a)),
    plain_ms: round(median(p)), blocks: BLOCKS });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
