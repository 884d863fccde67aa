#!/bin/sh
# npm run test:asan -- the C unit tests and the whole node --test suite
# against a build with AddressSanitizer and UBSan.  The addon and its
# helper programs are built in a copy of the tree (build/ stays as it is);
# node itself is not instrumented, so the ASan runtime is preloaded.
# Leak checking of the C core is the valgrind run of the unit tests
# (CT_VALGRIND=1); under node, LeakSanitizer would report node's own
# allocations, so it is off here.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/ict-asan-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$top"
for f in binding.gyp package.json index.js index.mjs index.d.ts README.md docs \
    LICENSE lib src test examples bin man scripts bench node_modules; do
	[ -e "$f" ] && cp -r "$f" "$work/"
done
chmod 755 "$work"

echo "== C unit tests with ASan/UBSan, then under valgrind"
CT_SANITIZE=1 sh test/c/run.sh
CT_VALGRIND=1 sh test/c/run.sh

echo "== addon and helpers built with -fsanitize=address,undefined"
cd "$work"
CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -g" \
LDFLAGS="-fsanitize=address,undefined" npm run build -- --ct_static=0 --ct_test=1 \
	>build.log 2>&1 ||
	{ cat build.log; exit 1; }

echo "== the test matrix (test/matrix.js) against it"
# Children inherit the preload: keep the runtime out of their signal
# handling and core dumps, so a member that dies by SIGSEGV still dies by
# SIGSEGV and dumps its core.  ASan's quarantine holds freed memory, so
# RSS says nothing about leaks here (fds are still checked exactly).
ILLUMOS_CONTRACT_TEST_RSS_SLACK_MB=4096 ILLUMOS_CONTRACT_TEST_SLOW=4 \
LD_PRELOAD=$(gcc -print-file-name=libasan.so) \
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:disable_coredump=0:handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:handle_sigill=0 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	node test/matrix.js "$@" 2>&1 | tee test.log
if grep -qE 'ERROR: AddressSanitizer|runtime error:' test.log; then
	echo "test:asan: sanitizer reports above" >&2
	exit 1
fi
grep -q '^# matrix: all [0-9]* runs passed$' test.log
