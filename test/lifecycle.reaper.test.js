'use strict';
require('./lib/lifecycle')('anchor');
