#!/usr/bin/env bash
# fleet's exec benchmark: one command. Raises the open-file limit, checks the tools, runs run.py.
#   scripts/bench/run.sh --hosts 10,50,100,250,500 --repeat 3
#   scripts/bench/run.sh --build-fleet ...   (first: swift build -c release --scratch-path .build-bench)
#   scripts/bench/run.sh --down              (stop the light sshds)
#   scripts/bench/run.sh --rollout --hosts 100 --repeat 3   (fleet's own overhead in a no-op rollout; rollout.py)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"

if [[ "$(id -u)" -ne 0 ]]; then
    echo "run.sh: the light hosts bind port 22 on 127.0.3.x: run as root" >&2
    exit 2
fi

args=()
script="run.py"
for a in "$@"; do
    if [[ "${a}" == "--rollout" ]]; then
        script="rollout.py"
    elif [[ "${a}" == "--build-fleet" ]]; then
        echo "building fleet (release, scratch path .build-bench) ..." >&2
        (cd "${repo}" && swift build -c release --scratch-path .build-bench)
    else
        args+=("${a}")
    fi
done

# Every tool opens one or more descriptors per host: raise the soft limit to the hard limit.
hard="$(ulimit -Hn)"
if [[ "${hard}" == "unlimited" ]]; then
    ulimit -n 65536
else
    ulimit -n "${hard}"
fi

missing=()
command -v parallel-ssh >/dev/null || missing+=("parallel-ssh (apt-get install -y pssh)")
command -v ansible >/dev/null || missing+=("ansible (pip install -r scripts/ci/python-requirements.txt)")
command -v pyinfra >/dev/null || missing+=("pyinfra (pip install -r scripts/ci/python-requirements.txt)")
python3 -c 'import matplotlib' 2>/dev/null || missing+=("matplotlib (pip install -r scripts/ci/python-requirements.txt)")
if [[ "${#missing[@]}" -gt 0 ]]; then
    printf 'run.sh: missing, that tool is skipped: %s\n' "${missing[@]}" >&2
fi

exec python3 "${here}/${script}" ${args[@]+"${args[@]}"}
