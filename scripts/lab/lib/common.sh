#!/usr/bin/env bash
# shellcheck shell=bash
# Shared settings and helpers for lab.sh. Sourced, never run.
# The settings are used by the other lib files:
# shellcheck disable=SC2034

LAB=${FLEET_LAB_DIR:-/tmp/fleet-lab}
LAB_BRIDGE=fleetlab0
LAB_BRIDGE_ADDR=10.77.0.1
LAB_NET_PREFIX=10.77.0
LAB_NETNS_PREFIX=fleetlab-
LAB_VETH_PREFIX=flw
LAB_RUN=/run/fleetlab
LAB_DATA=/var/lib/fleet-lab
LAB_USER=fleetlab
LAB_APP=demo
LAB_REGISTRY="${LAB_BRIDGE_ADDR}:5000"
LAB_MAX_HOSTS=200

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

# host_addr 3 -> 10.77.0.13
host_addr() { printf '%s.%d' "$LAB_NET_PREFIX" "$((10 + $1))"; }
host_ns() { printf '%sweb%d' "$LAB_NETNS_PREFIX" "$1"; }
host_dir() { printf '%s/hosts/web%d' "$LAB" "$1"; }

# "web2" -> 2, or fail with a clear message.
host_index() {
  local name=$1
  [[ $name =~ ^web([1-9][0-9]*)$ ]] || die "unknown host '$name' (expected web1, web2, ...)"
  local i=${BASH_REMATCH[1]}
  [[ -d $(host_dir "$i") ]] || die "host '$name' is not in the lab at $LAB (run: lab.sh up --hosts N)"
  printf '%d' "$i"
}

# Number of hosts of the running lab (from the host folders).
lab_host_count() {
  local n=0 d
  for d in "$LAB"/hosts/web*; do
    [[ -d $d ]] && n=$((n + 1))
  done
  printf '%d' "$n"
}

# pid_alive PIDFILE EXPECT: prints the pid when the file names a live process whose command line
# contains EXPECT (guards against a recycled pid).
pid_alive() {
  local file=$1 expect=$2 pid cmd
  [[ -s $file ]] || return 1
  pid=$(head -n 1 "$file" 2>/dev/null | tr -dc '0-9')
  [[ -n $pid ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$expect"* ]] || return 1
  printf '%s' "$pid"
}

# proc_running PID: the process exists and is not a zombie (PID 1 here reaps orphans slowly).
proc_running() {
  local state
  state=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# kill_pidfile PIDFILE EXPECT [WAIT_TENTHS]: TERM the process named by the pid file, wait, then KILL.
kill_pidfile() {
  local file=$1 expect=$2 wait=${3:-50} pid i
  if pid=$(pid_alive "$file" "$expect"); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < wait; i++)); do
      proc_running "$pid" || break
      sleep 0.1
    done
    if proc_running "$pid"; then
      log "pid $pid ($expect) did not stop after TERM; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 10; i++)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

need_root() { [[ $(id -u) -eq 0 ]] || die "the lab needs root (network namespaces, sshd on port 22)"; }

need_tools() {
  local t missing=()
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  ((${#missing[@]} == 0)) ||
    die "missing tools: ${missing[*]} (apt-get install -y the packages in scripts/ci/debian-packages.txt)"
}

raise_nofile() {
  local hard
  hard=$(ulimit -Hn)
  [[ $hard == unlimited ]] && hard=65536
  ulimit -n "$hard" 2>/dev/null || true
}
