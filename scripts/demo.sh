#!/usr/bin/env bash
# fleet's main job on a local lab: brings up 3 real test hosts (network namespaces with sshd), builds fleet,
# and runs a command on every host in parallel. Run as root. `scripts/lab/lab.sh down` removes the lab.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build -c release --product fleet
fleet=$(swift build -c release --show-bin-path)/fleet
scripts/lab/lab.sh up --hosts 3
inventory=${FLEET_LAB_DIR:-/tmp/fleet-lab}/inventory/lab.yml
"$fleet" exec --inventory "$inventory" -- 'echo "$(hostname -I) up $(cut -d" " -f1 /proc/uptime)s"'
