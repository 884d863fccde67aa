// illumos_contract as an ES module: the CommonJS module (index.js) is the
// one implementation; this re-exports it.
//
//   import contract from 'illumos_contract';          // the CJS exports object
//   import { set_template, latest } from 'illumos_contract';
//
// `features` is a getter on the CommonJS exports (it re-reads the host on
// every access).  An ES module cannot export a getter, and
// `export const features = cjs.features` would freeze it at import time;
// so the named export is a read-only live view: every property read
// (features.root, Object.keys(features), {...features}, JSON.stringify)
// reads the current value through the CommonJS getter.  Spread it for a
// snapshot: `const now = { ...features }`.
import cjs from './index.js';

export const {
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
  backend,
} = cjs;

const current = () => cjs.features;
const inspect = Symbol.for('nodejs.util.inspect.custom');
const readOnly = () => false; // set/define/delete fail (TypeError in strict code)

// util.inspect looks at a Proxy's target, not through its traps: show the
// current features there.
const target = {};
Object.defineProperty(target, inspect, {
  configurable: true,
  value: (depth, options, insp) => insp(current(), options),
});

export const features = new Proxy(target, {
  get(t, key) {
    return key === inspect ? t[inspect] : current()[key];
  },
  has(t, key) {
    return key in current();
  },
  ownKeys() {
    return Reflect.ownKeys(current());
  },
  getOwnPropertyDescriptor(t, key) {
    const now = current();
    if (!Object.prototype.hasOwnProperty.call(now, key)) return undefined;
    return { value: now[key], writable: false, enumerable: true,
      configurable: true };
  },
  set: readOnly,
  defineProperty: readOnly,
  deleteProperty: readOnly,
  setPrototypeOf: readOnly,
});

export default cjs;
