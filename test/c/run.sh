#!/bin/sh
# C unit tests of the portable core, and a -Werror syntax check of every
# other C source.  Run from the repository root: sh test/c/run.sh
#
#   CC=clang        compiler (default cc)
#   CT_SANITIZE=1   build the tests with AddressSanitizer and UBSan
#   CT_VALGRIND=1   run each test under valgrind (memcheck, leaks)
#
# Every test program checks with test/c/check.h and ends with "N passed,
# N failed"; the last line here sums them.  A test program that does not
# compile, crashes, leaks or fails under valgrind counts as one more
# failure, as does each source that fails the syntax check.
set -u

CC=${CC:-cc}
CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g"
CORE="src/names.c src/template.c src/error.c src/records.c"
BIN=test/c/bin

if [ ! -f src/ct.h ]; then
	echo "run.sh: run me from the repository root" >&2
	exit 2
fi

TESTFLAGS=$CFLAGS
if [ "${CT_SANITIZE:-0}" = 1 ]; then
	TESTFLAGS="$TESTFLAGS -fsanitize=address,undefined -fno-omit-frame-pointer"
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	ASAN_OPTIONS=detect_leaks=1
	export UBSAN_OPTIONS ASAN_OPTIONS
fi
VALGRIND=
if [ "${CT_VALGRIND:-0}" = 1 ]; then
	if [ "${CT_SANITIZE:-0}" = 1 ]; then
		echo "run.sh: note: CT_VALGRIND ignored: sanitizer builds" \
		    "cannot run under valgrind"
	else
		VALGRIND="valgrind --leak-check=full --error-exitcode=1 -q"
	fi
fi

passed=0
failed=0
mkdir -p "$BIN" || exit 1

# 1. Build the tests.
tests=
for t in test/c/test_*.c; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .c)
	rm -f "$BIN/$name"
	# shellcheck disable=SC2086
	if $CC $TESTFLAGS -Isrc -o "$BIN/$name" "$t" $CORE; then
		tests="$tests $name"
	else
		echo "run.sh: FAIL: $t does not compile"
		failed=$((failed + 1))
	fi
done

# 2. Syntax-check the rest: the binding (src/binding.c, src/binding/),
# the Linux backend, the helpers, the CLI.  (src/illumos/ needs illumos
# headers: scripts/check-illumos.sh; its logic runs against the model in
# step 4.)
node_inc=$(node -p "require('path').join(process.execPath,'..','..','include','node')" 2>/dev/null)
if [ ! -f "$node_inc/node_api.h" ]; then
	node_inc="$(npm config get nodedir 2>/dev/null)/include/node"
fi
for f in src/*.c src/binding/*.c src/linux/*.c src/helpers/*.c src/cli/*.c; do
	[ -f "$f" ] || continue
	case "$f" in
	src/names.c|src/template.c|src/error.c)
		continue ;;
	src/binding.c|src/binding/*.c)
		if [ ! -f "$node_inc/node_api.h" ]; then
			echo "run.sh: note: no node_api.h found;" \
			    "$f not checked"
			continue
		fi ;;
	esac
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS -DNAPI_VERSION=8 -fsyntax-only -Isrc -Isrc/linux -Isrc/helpers \
	    -I"$node_inc" "$f"; then
		echo "run.sh: FAIL: $f does not compile"
		failed=$((failed + 1))
	fi
done

# 3. Run the tests.
out=$BIN/.out
for name in $tests; do
	echo "== $name"
	# shellcheck disable=SC2086
	$VALGRIND "$BIN/$name" >"$out" 2>&1
	rc=$?
	cat "$out"
	counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	if [ -z "$counts" ]; then
		echo "run.sh: FAIL: $name printed no counts (exit status $rc)"
		failed=$((failed + 1))
		continue
	fi
	p=${counts%% passed*}
	f=${counts#*passed, }
	f=${f%% failed}
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "run.sh: FAIL: $name exited with status $rc"
		failed=$((failed + 1))
	fi
done
rm -f "$out"

# 4. The illumos backend against the model of its kernel (test/illumos/).
echo "== illumos backend (model)"
sanflags=
[ "${CT_SANITIZE:-0}" = 1 ] &&
    sanflags="-fsanitize=address,undefined -fno-omit-frame-pointer"
IL_CFLAGS=$sanflags sh test/illumos/run.sh >"$BIN/.il" 2>&1
cat "$BIN/.il"
counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$BIN/.il" | tail -n 1)
if [ -z "$counts" ]; then
	echo "run.sh: FAIL: test/illumos/run.sh printed no counts"
	failed=$((failed + 1))
else
	p=${counts%% passed*}
	f=${counts#*passed, }
	f=${f%% failed}
	passed=$((passed + p))
	failed=$((failed + f))
fi
rm -f "$BIN/.il"

echo "C unit tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
