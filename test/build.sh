#!/bin/sh
# The suite runs against a test build: the addon and its programs with
# the test switches (ILLUMOS_CONTRACT_TEST_*) compiled in (CT_TEST_BUILD,
# binding.gyp's ct_test; docs/security.md).  A release build -- npm
# install, the prebuilds -- has none.  build/ is made a test build once;
# after that node-gyp only rebuilds what changed.  Every CPU compiles
# (--jobs=max): the build is a fifth of npm test's time otherwise.
set -eu
cd "$(dirname "$0")/.."
log=build/test-build.log
if grep -q '"ct_test": "1"' build/config.gypi 2>/dev/null &&
    [ -n "${npm_config_node_gyp:-}" ]; then
	node "$npm_config_node_gyp" build --jobs=max >$log 2>&1 || { cat $log; exit 1; }
else
	npm run --silent build -- --ct_test=1 --jobs=max >/tmp/ct-test-build.$$ 2>&1 ||
		{ cat /tmp/ct-test-build.$$; rm -f /tmp/ct-test-build.$$; exit 1; }
	mv /tmp/ct-test-build.$$ $log
fi
