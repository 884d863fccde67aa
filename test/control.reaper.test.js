'use strict';
// The whole-tree control suite under reaper membership.
process.env.ILLUMOS_CONTRACT_MEMBERSHIP = 'reaper';
require('./control.test.js');
