'use strict';
require('./lib/lifecycle')('atfork');
