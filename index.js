'use strict';
// illumos_contract: process contracts for Node.js.
// The 1.0.3 API keeps its illumos names; extensions follow Node's style.
const { binding } = require('./lib/binding');
const { Contract } = require('./lib/contract');
const tmpl = require('./lib/template');
require('./lib/hook'); // child_process spawns under a template join it
const { spawn, run } = require('./lib/spawn');

function set_template(t) {
  tmpl.setTemplate(t);
}

function clear_template(type) {
  tmpl.clearTemplate(type);
}

// latest([type]): the type of the last set_template() unless given.
function latest(type) {
  return new Contract(undefined, undefined, type);
}

function create() {
  binding.create('device');
}

function adopt(ctid) {
  return new Contract(ctid, true);
}

function observe(ctid) {
  return new Contract(ctid, false);
}

function list(type) {
  return binding.list(type);
}

module.exports = {
  set_template,
  clear_template,
  latest,
  create,
  adopt,
  observe,
  spawn,
  run,
  list,
  Contract,
  backend: process.platform === 'linux' ? 'linux'
    : process.platform === 'sunos' ? 'illumos' : 'none',
};

// What this host and privilege level deliver; computed on each read, so a
// missing contract root shows up here instead of failing require().
Object.defineProperty(module.exports, 'features', {
  enumerable: true,
  get() { return binding.features(); },
});
