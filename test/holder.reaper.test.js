'use strict';
// The holder-death and cross-process suite under reaper membership.
process.env.ILLUMOS_CONTRACT_MEMBERSHIP = 'reaper';
require('./holder.test.js');
