#!/usr/bin/env bash
# fleet's main job on a local lab: 3 real test hosts (network namespaces, each with sshd, its own dockerd and
# nginx, and a registry holding demo:v1, v2 and a broken v3), then a real rolling deploy of v2 over v1, then
# `fleet status`. Run as root. `scripts/lab/lab.sh down` removes the lab.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/ci/ensure-deps.sh
swift build -c release --product fleet
fleet=$(swift build -c release --show-bin-path)/fleet
scripts/lab/lab.sh up --hosts 3 --servers
inventory=${FLEET_LAB_DIR:-/tmp/fleet-lab}/inventory/lab.yml
echo "== fleet deploy v1 (the release before)"
"$fleet" deploy --inventory "$inventory" v1
echo "== fleet plan v2 (exactly what deploy will run)"
"$fleet" plan --inventory "$inventory" v2 | sed -n "1,12p"
echo "== fleet deploy v2 (rolling, blue/green behind each host's nginx)"
"$fleet" deploy --inventory "$inventory" v2
echo "== fleet status"
"$fleet" status --inventory "$inventory"
