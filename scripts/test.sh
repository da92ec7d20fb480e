#!/usr/bin/env bash
# The whole test suite, as root: static checks, the build, a lab of real hosts (sshd, dockerd, nginx, a
# registry in network namespaces), the Swift tests, the release tarball in a bare Debian root filesystem (with a
# deploy from there) and the host-script tests against it. The lab is torn down
# at the end, however the run ends.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/ci/ensure-deps.sh
scripts/ci/static-checks.sh
swift build --build-tests
trap 'scripts/lab/lab.sh down >/dev/null 2>&1 || true' EXIT
scripts/lab/lab.sh up --hosts 4 --servers
scripts/lab/lab.sh ipv6-up
scripts/lab/lab.sh registry-auth-up # a registry that requires a login (registry: tests)
scripts/lab/lab.sh light-up 20
scripts/lab/lab.sh bastion-up
scripts/lab/lab.sh wan-up 100 20 # light hosts 1..20 behind a 100 ms round trip (WANTests)
swift test --skip-build
scripts/ci/release-check.sh
if [[ -x Tests/playbooks/run.sh ]]; then
  Tests/playbooks/run.sh
fi
Tests/faults/run.sh # the real fleet binary through faults under load; takes the lab lock, stops by itself (FAULTS_MAX_SECONDS=600)
