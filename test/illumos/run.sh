#!/bin/sh
# Build the illumos backend (src/illumos/*.c) and the portable core
# against the model of the illumos kernel (test/illumos/model/) with the
# host compiler, and run test_backend.c.  Run from the repository root:
#
#   sh test/illumos/run.sh [test-name]   privileged, then unprivileged
#   IL_BACKEND="file.c ..." sh test/illumos/run.sh   other backend sources
#   sh test/illumos/run.sh --addon   build instead, into test/c/bin/il/:
#       libilmodel.so (the backend, the core and the model),
#       illumos_model.node (src/binding.c on it) and model.node
#       (model_napi.c, the model's scripting calls), for
#       test/unit/illumos-model.test.js
#
# Ends with "N passed, N failed" (test/c/run.sh adds it to its sums).
set -u
CC=${CC:-cc}
M=test/illumos/model
BIN=test/c/bin
CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g ${IL_CFLAGS:-}"
BACKEND=${IL_BACKEND:-$(ls src/illumos/*.c)}
CORE="src/names.c src/template.c src/error.c src/records.c src/evpop.c src/lock.c"

mkdir -p "$BIN/il" || exit 1
PIC=
[ "${1:-}" = --addon ] && PIC=-fPIC
objs=
for f in $BACKEND; do
	o="$BIN/il/b_$(basename "$f" .c).o"
	# shellcheck disable=SC2086
	$CC $CFLAGS $PIC -D__EXTENSIONS__ -I$M/include \
	    -include $M/include/model_redirect.h -Isrc -Isrc/illumos \
	    -c "$f" -o "$o" || { echo "run.sh: FAIL: $f does not compile" \
	    "against the model"; echo "0 passed, 1 failed"; exit 1; }
	objs="$objs $o"
done
if [ "${1:-}" = --addon ]; then
	node_inc=$(node -p "require('path').join(process.execPath,'..','..','include','node')")
	[ -f "$node_inc/node_api.h" ] ||
	    node_inc="$(npm config get nodedir 2>/dev/null)/include/node"
	# shellcheck disable=SC2086
	$CC $CFLAGS -fPIC -shared -I$M/include -I$M -Isrc \
	    -o "$BIN/il/libilmodel.so" $M/*.c $CORE $objs -lpthread &&
	$CC $CFLAGS -fPIC -shared -DNAPI_VERSION=8 -I"$node_inc" -Isrc \
	    -o "$BIN/il/illumos_model.node" src/binding.c src/binding/*.c \
	    -L"$BIN/il" -lilmodel -Wl,-rpath,'$ORIGIN' &&
	$CC $CFLAGS -fPIC -shared -DNAPI_VERSION=8 -I"$node_inc" -I$M \
	    -I$M/include -o "$BIN/il/model.node" test/illumos/model_napi.c \
	    -L"$BIN/il" -lilmodel -Wl,-rpath,'$ORIGIN'
	exit
fi
# shellcheck disable=SC2086
if ! $CC $CFLAGS -I$M/include -I$M -Isrc -Isrc/illumos -o "$BIN/il/test_backend" \
    test/illumos/test_backend.c $M/*.c $CORE $objs -lpthread; then
	echo "run.sh: FAIL: the model test does not link"
	echo "0 passed, 1 failed"
	exit 1
fi
# Twice: as a privileged process (contract_event and contract_observer,
# as root) and as an unprivileged one; each test asserts what the kernel
# does in the mode it runs in (test_backend.c, priv).  The counts summed.
tp=0
tf=0
for mode in privileged unprivileged; do
	echo "== test_backend --$mode"
	"$BIN/il/test_backend" "--$mode" "$@" >"$BIN/il/.out" 2>&1
	st=$?
	cat "$BIN/il/.out"
	c=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$BIN/il/.out" | tail -n 1)
	if [ -z "$c" ]; then
		echo "run.sh: FAIL: test_backend --$mode printed no counts"
		tf=$((tf + 1))
		continue
	fi
	p=${c%% passed*}
	f=${c#*passed, }
	f=${f%% failed}
	tp=$((tp + p))
	tf=$((tf + f))
	[ "$st" -ne 0 ] && [ "$f" -eq 0 ] && tf=$((tf + 1))
done
rm -f "$BIN/il/.out"
echo "$tp passed, $tf failed"
[ "$tf" -eq 0 ]
