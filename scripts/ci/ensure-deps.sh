#!/usr/bin/env bash
# Installs the project's Debian and PyPI packages only when one is missing, so the README's commands work
# on a fresh machine and cost nothing on a prepared one.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
missing=0
while read -r pkg; do
  [[ -z $pkg || $pkg == \#* ]] && continue
  if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
    missing=1
    break
  fi
done < "$here/debian-packages.txt"
if ((missing)); then
  echo "installing the packages fleet's lab and tests need (scripts/ci/install-deps.sh)" >&2
  "$here/install-deps.sh"
fi
