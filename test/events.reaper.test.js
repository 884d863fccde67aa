'use strict';
// The per-member events suite under reaper membership.
process.env.ILLUMOS_CONTRACT_MEMBERSHIP = 'reaper';
require('./events.test.js');
