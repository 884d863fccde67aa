'use strict';
// docs/ARCHITECTURE.md is the project's map: every file it names in
// backquotes (a path with a directory, or a bare name with a source
// extension) must exist, so the map cannot silently drift from the tree.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');

const top = path.join(__dirname, '..', '..');
const page = fs.readFileSync(path.join(top, 'docs', 'ARCHITECTURE.md'), 'utf8');

// Bare names are looked up in the directories the page lists them beside.
const DIRS = ['', 'src', 'src/linux', 'src/illumos', 'src/helpers',
  'src/cli', 'src/binding', 'lib', 'test/c', 'test/lib', 'scripts'];

function named(md) {
  const out = new Set();
  // Inline code spans, and the parts diagram (a fenced block).
  const spans = [...md.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
  const fence = md.match(/```\n([\s\S]*?)```/);
  const words = spans.join(' ').split(/[\s,()]+/)
    .concat(fence ? fence[1].split(/[\s,()]+/) : []);
  for (let w of words) {
    w = w.replace(/[.:;]+$/, '');
    if (/^(src|lib|test|docs|bin|scripts|bench|examples|man)\//.test(w) ||
        /^[\w.-]+\.(c|h|js|mjs|ts|gyp|sh)$/.test(w)) {
      out.add(w.replace(/\/$/, ''));
    }
  }
  return [...out];
}

function exists(name) {
  if (name.includes('/')) return fs.existsSync(path.join(top, name));
  return DIRS.some((d) => fs.existsSync(path.join(top, d, name)));
}

test('every file docs/ARCHITECTURE.md names exists', () => {
  const names = named(page);
  assert.ok(names.length > 30, `found only ${names.length} names`);
  const missing = names.filter((n) => !exists(n));
  assert.deepStrictEqual(missing, []);
});
