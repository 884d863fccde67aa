#!/bin/sh
# Run `npm test` under other Node release lines, each installed
# from the npm registry as the `node` package: its preinstall script
# installs node-<platform>-<arch>@<same version> (also from the registry)
# and hard-links that package's binary to node_modules/node/bin/node.
# Nothing else is downloaded.  The addon is Node-API, so the build that
# `npm install` made (with the machine's Node) is the one every Node loads.
#
#   sh scripts/node-matrix.sh [major ...]      (default: 22 24 26)
#
# Run from a built checkout (after npm install).  Each `npm test` runs
# with that Node first in PATH (npm itself, the test runner, and children
# started as `node` or `npm` use it) and must finish within
# $NODE_MATRIX_LIMIT seconds (300).  Prints
# one "node-matrix: Node vX.Y.Z: pass|FAIL in N s" line per version;
# exits 1 if any failed.
set -u
cd "$(dirname "$0")/.."

limit=${NODE_MATRIX_LIMIT:-300}
[ $# -gt 0 ] || set -- 22 24 26
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ict-nodes.XXXXXX") || exit 1
chmod 755 "$tmp" # test/env/nonroot.test.js runs this Node as nobody
trap 'rm -rf "$tmp"' EXIT INT TERM
status=0
summary=

for major in "$@"; do
	prefix=$tmp/node$major
	if ! npm install --prefix "$prefix" --no-save --no-audit --no-fund \
	    --loglevel=error "node@$major" >"$tmp/install.log" 2>&1; then
		cat "$tmp/install.log" >&2
		echo "node-matrix: cannot install node@$major" >&2
		summary="$summary
node-matrix: Node $major: FAIL (not installed)"
		status=1
		continue
	fi
	bin=$prefix/node_modules/node/bin
	version=$("$bin/node" --version 2>/dev/null) || version=
	case $version in
	v"$major".*) ;;
	*)
		echo "node-matrix: node@$major gave '$version' in $bin" >&2
		summary="$summary
node-matrix: Node $major: FAIL (no binary)"
		status=1
		rm -rf "$prefix"
		continue
		;;
	esac
	echo "node-matrix: Node $version ($bin/node)"
	# npm test must reach this Node as `node` (npm runs scripts with PATH).
	if [ "$(PATH="$bin:$PATH" node --version)" != "$version" ]; then
		echo "node-matrix: PATH does not lead to $bin/node" >&2
		exit 1
	fi
	start=$(date +%s)
	if PATH="$bin:$PATH" timeout "$limit" npm test; then
		result=pass
	else
		result=FAIL
		status=1
	fi
	line="node-matrix: Node $version: $result in $(($(date +%s) - start)) s"
	echo "$line"
	summary="$summary
$line"
	rm -rf "$prefix"
done

echo "$summary" | sed '/^$/d'
exit $status
