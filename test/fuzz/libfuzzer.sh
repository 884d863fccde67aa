#!/bin/sh
# libFuzzer runs of the C parsers that read what others send or write
# (test/fuzz/c/*.c; docs/security.md, "How it is tested").
#
#   sh test/fuzz/libfuzzer.sh [RUNS]     each harness RUNS inputs (default
#                                        1000000), seed 1, ASan + UBSan
#   sh test/fuzz/libfuzzer.sh --install  only make sure clang is there
#
# clang comes from Debian (apt-get install clang) when it is missing and
# we are root; otherwise the script says so and exits 77 (skipped).
# Each harness starts from the seeds below (real messages and records);
# a crash leaves its input as test/fuzz/c/bin/crash-* and fails.
set -eu
cd "$(dirname "$0")/../.."
# The harnesses link clang's ASan runtime statically: under npm run
# test:asan, gcc's libasan preloaded into them aborts them ("incompatible
# ASan runtimes"), and that run's options (no leak checks, no SEGV
# handling) are not the ones a fuzzer wants.  They bring their own.
unset LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1 ||
    ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n){return 0;}' |
    "$CC" -x c -fsanitize=fuzzer -o /dev/null - >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		apt-get update -qq >/dev/null 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang \
		    >/dev/null 2>&1 || true
	fi
fi
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "libfuzzer.sh: no clang (apt-get install clang): skipped" >&2
	exit 77
fi
[ "${1:-}" = --install ] && exit 0
RUNS=${1:-1000000}
BIN=test/fuzz/c/bin
mkdir -p "$BIN"
FLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -Isrc -Isrc/linux
-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
CORE="src/names.c src/template.c src/error.c src/records.c"

seed() {	# seed DIR NAME PRINTF-FORMAT
	printf "$3" >"$1/$2"
}

for h in nlwalk records procinfo; do
	corpus=$BIN/$h.corpus
	rm -rf "$corpus"
	mkdir -p "$corpus"
	case $h in
	nlwalk)
		src="src/linux/nlwalk.c"
		# A FORK as the kernel sends it: nlmsghdr(16) cn_msg(20) event.
		seed "$corpus" fork '\001\100\000\000\000\100\000\000\000\003\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000\030\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\001\000\000\000\001\000\000\000\002\000\000\000\002\000\000\000'
		seed "$corpus" uevent '\000add@/devices/x\000ACTION=add\000DEVPATH=/devices/x\000SUBSYSTEM=cpu\000'
		;;
	records)
		src="src/linux/parse.c src/linux/safeio.c src/linux/proc.c src/linux/map.c"
		seed "$corpus" anchor '\0001234 5678'
		seed "$corpus" state '\001owned 42 99'
		seed "$corpus" terms '\002v1;type=process;critical=1;'
		seed "$corpus" stat '\0031 (a) b) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0'
		seed "$corpus" pids '\0041\n2\n3\n'
		seed "$corpus" events '\005populated 1\nfrozen 0\n'
		;;
	procinfo)
		# procinfo.c is compiled into the harness (static parsers).
		src="src/linux/trace.c src/linux/map.c"
		seed "$corpus" stat '\00042 (a) b) S 7 1 1 0 -1 4194560 0 0 0 0 3 4 0 0 20 0 1 0 500'
		seed "$corpus" cmdline '\001sh\000-c\000read x\000'
		seed "$corpus" zombie '\0029 (cc) Z 1 1 1 0 -1 4194560 0 0 0 0 7 8 0 0 20 0 1 0 300'
		seed "$corpus" argv '\203a\000bc'
		;;
	esac
	# shellcheck disable=SC2086
	$CC $FLAGS -o "$BIN/$h" "test/fuzz/c/$h.c" $src $CORE
	echo "== libFuzzer $h: $RUNS runs"
	"$BIN/$h" -seed=1 -runs="$RUNS" -max_len=4096 \
	    -artifact_prefix="$BIN/crash-$h-" "$corpus" 2>"$BIN/$h.log" || {
		tail -n 40 "$BIN/$h.log"
		echo "libfuzzer.sh: FAIL: $h"
		exit 1
	}
	grep -E '^Done [0-9]+ runs' "$BIN/$h.log" || tail -n 2 "$BIN/$h.log"
done
