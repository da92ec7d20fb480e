#!/usr/bin/env bash
# fleet's exec benchmark: one command. Raises the open-file limit, checks the tools, runs run.py.
#   scripts/bench/run.sh --hosts 10,50,100,250,500 --repeat 3
#   scripts/bench/run.sh --build-fleet ...   (first: swift build -c release --scratch-path .build-bench)
#   scripts/bench/run.sh --down              (stop the light sshds)
#   scripts/bench/run.sh --wan --hosts 50,200,500 --rtt 0,50,150   (behind a delay proxy; wan.py)
#   scripts/bench/run.sh --rollout --hosts 100 --repeat 3   (fleet's own overhead in a no-op rollout; rollout.py)
#   scripts/bench/run.sh --scale --hosts 2000   (exec, plan --probe, status, deploy from a 1,024 soft limit; scale.py)
#   scripts/bench/run.sh --rollout --hosts 600 --repeat 1 --nofile 1024 --keep-hosts
#       (fleet started by the plain user fleetbench from a shell whose soft open-file limit is 1024; the hard
#       limit is left as it is. The harness itself keeps the high limit below.)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"

if [[ "$(id -u)" -ne 0 ]]; then
    echo "run.sh: the light hosts bind port 22 on 127.0.101.x: run as root" >&2
    exit 2
fi

args=()
script="run.py"
for a in "$@"; do
    if [[ "${a}" == --nofile || "${a}" == --nofile=* ]] && [[ " $* " != *" --rollout "* && " $* " != *" --scale "* ]]; then
        echo "run.sh: --nofile is an option of --rollout and --scale" >&2
        exit 2
    fi
    if [[ "${a}" == "--rollout" ]]; then
        script="rollout.py"
    elif [[ "${a}" == "--scale" ]]; then
        script="scale.py"
    elif [[ "${a}" == "--wan" ]]; then
        script="wan.py"
    elif [[ "${a}" == "--build-fleet" ]]; then
        echo "building fleet (release, scratch path .build-bench) ..." >&2
        (cd "${repo}" && swift build -c release --scratch-path .build-bench)
        # what the binary was built from, for the records (rollout.py reads it)
        (cd "${repo}" && printf '%s%s\n' "$(git rev-parse --short HEAD)" \
            "$(git diff --quiet HEAD -- Sources Package.swift || echo ' + uncommitted changes')") \
            > "${repo}/.build-bench/release/fleet.source"
    else
        args+=("${a}")
    fi
done

# Every tool opens one or more descriptors per host: raise the soft limit to the hard limit. (--nofile N
# lowers it again, for fleet only, in the shell rollout.py starts fleet from.)
hard="$(ulimit -Hn)"
if [[ "${hard}" == "unlimited" ]]; then
    ulimit -S -n 65536
else
    ulimit -S -n "${hard}"
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
