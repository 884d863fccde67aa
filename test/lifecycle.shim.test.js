'use strict';
require('./lib/lifecycle')('shim');
