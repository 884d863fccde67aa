#!/bin/sh
# Build the illumos backend (src/illumos/*.c) and the portable core
# against the model of the illumos kernel (test/illumos/model/) with the
# host compiler, and run test_backend.c.  Run from the repository root:
#
#   sh test/illumos/run.sh [test-name]
#   IL_BACKEND="file.c ..." sh test/illumos/run.sh   other backend sources
#
# Ends with "N passed, N failed" (test/c/run.sh adds it to its sums).
set -u
CC=${CC:-cc}
M=test/illumos/model
BIN=test/c/bin
CFLAGS="-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g ${IL_CFLAGS:-}"
BACKEND=${IL_BACKEND:-$(ls src/illumos/*.c)}
CORE="src/names.c src/template.c src/error.c src/records.c src/evq.c"

mkdir -p "$BIN/il" || exit 1
objs=
for f in $BACKEND; do
	o="$BIN/il/b_$(basename "$f" .c).o"
	# shellcheck disable=SC2086
	$CC $CFLAGS -D__EXTENSIONS__ -I$M/include \
	    -include $M/include/model_redirect.h -Isrc -Isrc/illumos \
	    -c "$f" -o "$o" || { echo "run.sh: FAIL: $f does not compile" \
	    "against the model"; echo "0 passed, 1 failed"; exit 1; }
	objs="$objs $o"
done
# shellcheck disable=SC2086
if ! $CC $CFLAGS -I$M/include -I$M -Isrc -Isrc/illumos -o "$BIN/il/test_backend" \
    test/illumos/test_backend.c $M/*.c $CORE $objs -lpthread; then
	echo "run.sh: FAIL: the model test does not link"
	echo "0 passed, 1 failed"
	exit 1
fi
exec "$BIN/il/test_backend" "$@"
