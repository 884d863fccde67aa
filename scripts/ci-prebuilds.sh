#!/bin/sh
# CI: build prebuilds/ before npm test, which checks them (test/pack/prebuild.
# test.js, test/pack/pack.test.js).  Installs what that needs from Debian --
# the cross and musl toolchains, patchelf, readelf (binutils), qemu-user
# and the arm64 libc and libstdc++ that the arm64 Node runs on -- then
# npm run prebuilds, and the arm64 Node from the npm registry
# (scripts/arm64-node.sh).  Run as root from anywhere.
set -eu
cd "$(dirname "$0")/.."
pkgs="gcc make python3 binutils gcc-aarch64-linux-gnu libc6-dev-arm64-cross
libstdc++6-arm64-cross musl-tools patchelf qemu-user-static"
# shellcheck disable=SC2086
if ! dpkg -s $pkgs >/dev/null 2>&1; then
	apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
fi
npm run prebuilds
sh scripts/arm64-node.sh
