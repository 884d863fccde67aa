'use strict';
// The trace data tests under reaper membership (docs/trace.md).
process.env.ILLUMOS_CONTRACT_MEMBERSHIP = 'reaper';
require('./trace.test.js');
