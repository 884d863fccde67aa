#!/bin/sh
# Compile-check the illumos backend, the portable core and the ct tools
# against the headers of a real illumos-gate tree, on a Linux host with gcc
# and git: no illumos machine is needed, and nothing of illumos is kept.
#
# usage: scripts/check-illumos.sh GIT_DIR [REF]
#   GIT_DIR  git directory of an illumos-gate tree (a bare clone is fine),
#            e.g. gwr/illumos-gate (ref smb-up-29, 2021) or
#            r1mikey/illumos-gate (ref arm64-gate, 2025)
#   REF      branch, tag or commit (default: HEAD)
#
# The headers of REF (usr/src/head, usr/src/uts/common, usr/src/uts/intel,
# libcontract's and libnvpair's) are unpacked into a temporary directory,
# which is removed on exit; every file is then compiled with -fsyntax-only
# as an illumos compiler would see it (no Linux macros, __sun defined),
# warnings as errors.  Exit 0 when every file compiles cleanly.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 GIT_DIR [REF]" >&2
	exit 2
fi
gitdir=$1
ref=${2:-HEAD}
if ! git --git-dir="$gitdir" rev-parse -q --git-dir >/dev/null 2>&1; then
	echo "$0: not a git directory: $gitdir" >&2
	exit 2
fi
if ! git --git-dir="$gitdir" rev-parse -q --verify "$ref^{commit}" \
    >/dev/null; then
	echo "$0: no such ref in $gitdir: $ref" >&2
	exit 2
fi

hdrs=$(mktemp -d)
trap 'rm -rf "$hdrs"' EXIT INT TERM

# Blob by blob: a snapshot may lack some large objects, and only headers
# are wanted.
git --git-dir="$gitdir" ls-tree -r "$ref" -- usr/src/head \
    usr/src/uts/common usr/src/uts/intel usr/src/lib/libcontract/common \
    usr/src/lib/libnvpair |
while read -r _mode kind obj path; do
	case "$kind:$path" in
	blob:*.h) ;;
	*) continue ;;
	esac
	mkdir -p "$hdrs/$(dirname "$path")"
	git --git-dir="$gitdir" cat-file blob "$obj" >"$hdrs/$path" \
	    2>/dev/null || rm -f "$hdrs/$path"
done
[ -f "$hdrs/usr/src/uts/common/sys/contract.h" ] || {
	echo "$0: $ref has no usr/src/uts/common/sys/contract.h" >&2
	exit 2
}

# <sys/priv.h> (pulled in by <procfs.h>) includes <sys/priv_names.h>,
# which an illumos build generates from usr/src/uts/common/os/priv_defs:
# it is in no source tree, and an empty one stands in (nothing here uses
# the privilege names it defines).
mkdir -p "$hdrs/generated/sys"
: >"$hdrs/generated/sys/priv_names.h"

# The binding includes node_api.h; Node's own headers stand in for the
# ones an illumos Node would have.
node_inc=$(node -p "require('path').join(process.execPath, '..', '..', \
'include', 'node')" 2>/dev/null || true)
if [ ! -f "$node_inc/node_api.h" ]; then
	node_inc="$(npm config get nodedir 2>/dev/null)/include/node"
fi

# The compiler's own headers (stdatomic.h...), after illumos's, as an
# illumos gcc has them.
cc_inc=$(gcc -print-file-name=include)

cd "$here"
set --
for f in src/illumos/*.c src/names.c src/template.c \
    src/error.c src/records.c src/helperdir.c src/evpop.c src/lock.c \
    src/cli/*.c; do
	[ -f "$f" ] && set -- "$@" "$f"
done

rc=0
for f in "$@"; do
	gcc -fsyntax-only -nostdinc -std=gnu11 -Wall -Wextra -Werror \
	    -Wno-unknown-pragmas \
	    -D__EXTENSIONS__ -D_REENTRANT -D_LARGEFILE_SOURCE \
	    -D_FILE_OFFSET_BITS=64 \
	    -U__linux__ -U__linux -Ulinux -U__gnu_linux__ -D__sun -D__SVR4 \
	    -I"$hdrs/usr/src/lib/libcontract/common" \
	    -I"$hdrs/usr/src/lib/libnvpair" \
	    -I"$hdrs/usr/src/head" -I"$hdrs/usr/src/uts/common" \
	    -I"$hdrs/usr/src/uts/intel" \
	    -idirafter "$hdrs/generated" \
	    -idirafter "$node_inc" -idirafter "$cc_inc" -I src -I src/illumos \
	    "$f" || rc=1
done
if [ $rc -eq 0 ]; then
	echo "check-illumos: $# file(s) compile cleanly against" \
	    "illumos headers ($ref)"
fi
exit $rc
