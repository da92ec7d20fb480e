#!/usr/bin/env bash
# Installs everything the build, the tests and the lab need on a fresh Debian 12 machine (as root).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mapfile -t packages < <(grep -v '^[[:space:]]*\(#\|$\)' "$here/debian-packages.txt")
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
if [[ -s $here/python-requirements.txt ]]; then
  python3 -m pip install -q -r "$here/python-requirements.txt"
fi
