#!/usr/bin/env bash
# The fault-injection suite: the real fleet binary deploys an app of its own ("faults", slots on ports
# 9280/9281, behind an nginx of its own on port 8280 of every lab host) while load.py requests every
# host's nginx the whole time (a new connection per request), through: fleet SIGKILLed at random points of
# a swap, a full state disk, dockerd killed, nginx killed, two deploys started at once, and a deploy
# started while another one rolls out. It asserts 0 failed requests (on the hosts not broken on purpose),
# 0 hosts where nginx and `current` disagree, 0 locks left after cleanup, and exactly one winner of every
# simultaneous pair.
#
# usage: Tests/faults/run.sh        (as root, on a running lab: scripts/lab/lab.sh up --hosts 4 --servers)
# env:   FAULTS_KILLS=3   fleet runs SIGKILLed         FAULTS_PAIRS=3    simultaneous pairs
#        FAULTS_MAX_SECONDS=600  the whole suite stops by itself after this long (failing what is left)
#        FLEET_BIN=.build/debug/fleet   FAULTS_DIR=/tmp/fleet-faults
#        FLEET_LAB_LOCKED=1   the caller holds /tmp/fleet-lab.lock already (else this script takes it)
#        FAULTS_CASES="c_baseline c_disk"   only these scenarios (c_keepalive: the keep-alive measurement,
#        keepalive.sh, not in the default list)
# Last line: "N passed, M failed"; exit 1 when anything failed.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/Tests/faults
FD=${FAULTS_DIR:-/tmp/fleet-faults}
FLEET=${FLEET_BIN:-$REPO/.build/debug/fleet}
APP=faults
PORT_BLUE=9280
PORT_GREEN=9281
NGINX_PORT=8280
# shellcheck source=hosts.sh
. "$HERE/hosts.sh"
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=cases.sh
. "$HERE/cases.sh"
# shellcheck source=keepalive.sh
. "$HERE/keepalive.sh"

finish() { # finish PASSED FAILED: the one last line, on every path
  echo "$1 passed, $2 failed"
  exit $(($2 == 0 && $1 > 0 ? 0 : 1))
}
((EUID == 0)) || { echo "faults: run as root (it enters the lab hosts' namespaces)" >&2; finish 0 1; }
for t in ssh jq python3 curl nsenter timeout flock pgrep docker; do
  command -v "$t" >/dev/null || { echo "faults: missing $t" >&2; finish 0 1; }
done
[[ -x $FLEET ]] || { echo "faults: no fleet binary at $FLEET (swift build)" >&2; finish 0 1; }
grep -qs '^LAB_SERVERS=1' "$LAB/lab.env" || { echo "faults: no lab with servers (scripts/lab/lab.sh up --hosts 4 --servers)" >&2; finish 0 1; }
N=$(sed -n 's/^LAB_HOSTS=//p' "$LAB/lab.env")
((N >= 4)) || { echo "faults: the lab has $N hosts; 4 are needed" >&2; finish 0 1; }
N=4

# The lab is shared: run under its lock (unless the caller holds it), held by flock itself (-o), so that
# nothing this suite starts inherits the lock's descriptor.
if [[ ${FLEET_LAB_LOCKED:-} != 1 ]]; then
  rc=0
  flock -o -E 75 -w "${FAULTS_LOCK_WAIT:-1800}" /tmp/fleet-lab.lock env FLEET_LAB_LOCKED=1 "$0" "$@" || rc=$?
  ((rc != 75)) || { echo "faults: the lab stayed locked for ${FAULTS_LOCK_WAIT:-1800} s" >&2; finish 0 1; }
  exit "$rc"
fi

mkdir -p "$FD/out" "$FD/inv"
rm -f "$FD"/out/* "$FD/pids"
START=$SECONDS
MAX=${FAULTS_MAX_SECONDS:-600}

# Everything this suite started is stopped by pid on every exit path; the lab is left as it was (its
# dockerds running, the suite's nginx stopped, the tmpfs unmounted).
cleaned=0
cleanup() {
  ((cleaned)) && return 0
  cleaned=1
  local p i
  if [[ -f $FD/pids ]]; then
    while read -r p; do kill -TERM "$p" 2>/dev/null || true; done <"$FD/pids"
  fi
  for p in $(jobs -p); do kill -TERM "$p" 2>/dev/null || true; done
  for ((i = 1; i <= N; i++)); do dockerd_start "$i" >/dev/null 2>&1 || true; done
  for ((i = 1; i <= N; i++)); do
    lab_docker "$i" rm -f "$APP-blue" "$APP-green" >/dev/null 2>&1 || true
    fnginx_down "$i"
  done
  tmpfs_unfill 2 "$(hdir 2)/state" 2>/dev/null || true
  tmpfs_down 2 "$(hdir 2)/state" 2>/dev/null || true
  ssh_masters_exit
}
REPORTED=0
# shellcheck disable=SC2317 # trap handlers
on_exit() {
  cleanup
  if ((!REPORTED)); then
    echo "FAIL suite: ended early after $((SECONDS - START)) s (see $FD/out/log)" >>"$FD/out/results"
    report
  fi
}
# shellcheck disable=SC2317 # trap handlers
on_term() {
  trap - TERM INT
  echo "FAIL suite: stopped ($1) after $((SECONDS - START)) s" >>"$FD/out/results"
  cleanup
  report
}
trap on_exit EXIT
trap 'on_term "signal or time limit"' TERM INT
# The time limit: a watchdog that signals this shell (it is killed by pid in cleanup).
(end=$((SECONDS + MAX)); while ((SECONDS < end)); do sleep 1; done; kill -TERM "$$") >/dev/null 2>&1 &
echo "$!" >>"$FD/pids"

# A clean app on every host: no containers, empty folders, the suite's nginx running; web2's state folder
# a 40 MiB tmpfs (pre-flight wants 32 MiB free there).
setup() {
  local i d
  for ((i = 1; i <= N; i++)); do
    d=$(hdir "$i")
    lab_docker "$i" rm -f "$APP-blue" "$APP-green" >/dev/null 2>&1 || true
    [[ $i != 2 ]] || tmpfs_down 2 "$d/state"
    rm -rf "$d/opt" "$d/state"
    mkdir -p "$d/opt" "$d/state"
    rm -f "$(fnginx_dir "$i")/fleet-$APP.conf"
    fnginx_down "$i"
    fnginx_up "$i" || return 1
  done
  tmpfs_up 2 "$(hdir 2)/state" 40
  printf 'SECRET_TOKEN=faults-%s\nGREETING=hello\n' "$RANDOM" >"$FD/inv/faults.env"
  write_inventory "$FD/inv/faults.yml" 1
  INV=$FD/inv/faults.yml
}
write_inventory() { # write_inventory FILE DRAIN
  {
    printf 'app: %s\nimage: 10.77.0.1:5000/demo\nenv_file: faults.env\n' "$APP"
    printf 'ssh:\n  user: root\n  identity_files: [%s]\n  known_hosts: %s\n  connect_timeout: 10s\n' "$KEY" "$KH"
    printf 'paths:\n  root: %s/hosts/{host}/opt\n  state: %s/hosts/{host}/state\n' "$FD" "$FD"
    printf 'nginx:\n  upstream_file: %s/hosts/{host}/nginx/fleet-%s.conf\n  upstream_name: fleet_%s\n' "$FD" "$APP" "$APP"
    printf '  conf: %s/hosts/{host}/nginx/nginx.conf\n  url: http://127.0.0.1:%s\n' "$FD" "$NGINX_PORT"
    printf 'container: {ports: [%s, %s]}\n' "$PORT_BLUE" "$PORT_GREEN"
    printf 'health: {path: /health, status: 200, timeout: 8s, interval: 1s}\nrollout: {batch: 2}\ndrain: %ss\n' "$2"
    printf 'hosts:\n'
    for ((i = 1; i <= N; i++)); do printf '  web%s: %s\n' "$i" "$(host_addr "$i")"; done
  } >"$1"
}

report() {
  local passed failed
  REPORTED=1
  say "--- requests: $TOTAL_REQUESTS, failed (hosts not broken on purpose): $FAILED_REQUESTS"
  say "--- hosts where nginx and current disagreed after a scenario: $INCONSISTENT"
  say "--- locks left after cleanup: $LEAKED"
  say "--- simultaneous pairs with exactly one winner: $PAIRS_OK of $PAIRS_RUN"
  grep '^FAIL' "$FD/out/results" >&2 2>/dev/null || true
  passed=$(grep -c '^PASS' "$FD/out/results" 2>/dev/null || true)
  failed=$(grep -c '^FAIL' "$FD/out/results" 2>/dev/null || true)
  say "time: $((SECONDS - START)) s; outputs in $FD/out"
  finish "${passed:-0}" "${failed:-0}"
}

: >"$FD/out/results"
if ! setup >>"$FD/out/log" 2>&1; then
  fail "setup" "could not prepare the hosts (see $FD/out/log)"
  report
fi
for scenario in ${FAULTS_CASES:-c_baseline c_sigkill c_pairs c_late c_disk c_dockerd c_nginx}; do
  if ((SECONDS - START > MAX - 45)); then
    fail "$scenario" "not run: the time limit ($MAX s) is near"
    continue
  fi
  say "=== $scenario"
  "$scenario" || fail "$scenario" "ended early"
done
cleanup
report
