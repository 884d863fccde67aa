#!/bin/sh
# Compile-check every illumos-relevant source against the headers of a real
# illumos-gate tree, on any host with gcc and git (no illumos needed).
#
# usage: scripts/check-illumos.sh GIT_DIR [REF]
#   GIT_DIR  git dir of an illumos-gate tree (e.g. a bare clone of
#            gwr/illumos-gate, branch smb-up-29, or r1mikey/illumos-gate,
#            branch arm64-gate)
#   REF      branch or commit (default: the tool's choice)
# The checker itself is ../shared/tools/illumos-check.sh next to this
# repository, or whatever ILLUMOS_CHECK names.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tool=${ILLUMOS_CHECK:-$here/../shared/tools/illumos-check.sh}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 GIT_DIR [REF]" >&2
	exit 2
fi
if [ ! -f "$tool" ]; then
	echo "$0: checker not found: $tool" >&2
	echo "$0: set ILLUMOS_CHECK to the path of illumos-check.sh" >&2
	exit 2
fi
gitdir=$1
if ! git --git-dir="$gitdir" rev-parse -q --git-dir >/dev/null 2>&1; then
	echo "$0: not a git directory: $gitdir" >&2
	exit 2
fi
if [ $# -eq 2 ] &&
    ! git --git-dir="$gitdir" rev-parse -q --verify "$2^{commit}" >/dev/null; then
	echo "$0: no such ref in $gitdir: $2" >&2
	exit 2
fi

cd "$here"
set -- "$gitdir" ${2+"$2"}
for f in src/illumos.c src/illumos/*.c src/names.c src/template.c \
    src/error.c src/records.c; do
	if [ -f "$f" ]; then set -- "$@" "$f"; fi
done
exec sh "$tool" "$@"
