#!/usr/bin/env bash
# release-check.sh: the release as users get it, as root: scripts/release.sh for the version the sources say,
# then scripts/release/chroot-test.sh on its tarball (a bare Debian 12 root filesystem: fleet --version,
# ldd, fleet plan, and a deploy to the lab when the lab runs with its servers). About 3 minutes from a cold
# build, 1 once the release build and the root filesystem are cached.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
version=$(sed -n 's/.*static let current = "\(.*\)".*/\1/p' Sources/FleetCore/FleetCore.swift)
scripts/release.sh "$version"
scripts/release/chroot-test.sh "dist/fleet-$version-linux-x86_64.tar.gz"
