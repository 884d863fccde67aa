'use strict';
// Errors the JS layer makes itself, in Node's shapes: a TypeError with a
// string `code`; a system error with `code`, `errno` and `syscall` (as
// the binding throws them).
function typeError(code, message) {
  const e = new TypeError(message);
  e.code = code;
  return e;
}

function sysError(code, errno, syscall, message) {
  const e = new Error(`${code}: ${message}`);
  e.code = code;
  e.errno = errno;
  e.syscall = syscall;
  return e;
}

module.exports = { typeError, sysError };
