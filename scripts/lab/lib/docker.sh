#!/usr/bin/env bash
# shellcheck shell=bash
# One dockerd per lab host, entered into the host's network namespace only (ip netns exec would remount
# /sys and hide the cgroup mounts). Never Docker's default bridge: --bridge=none --iptables=false.

docker_sock() { printf '%s/docker-web%d.sock' "$LAB_RUN" "$1"; }
docker_pidfile() { printf '%s/docker-web%d.pid' "$LAB_RUN" "$1"; }
# docker_cli I ARG...: the docker CLI talking to host I's daemon.
docker_cli() {
  local i=$1
  shift
  docker -H "unix://$(docker_sock "$i")" "$@"
}

# docker_start I: start host I's dockerd in the background (returns at once).
docker_start() {
  dockerd_launch "web$1" "$(host_ns "$1")" "$(host_dir "$1")" "$(docker_sock "$1")" "$(docker_pidfile "$1")"
}

# dockerd_launch NAME NETNS DIR SOCK PIDFILE: a lab host's dockerd, entered into NETNS only, its config and log
# in DIR, data under $LAB_DATA/docker-NAME (every lab host's daemon starts this way; returns at once).
dockerd_launch() {
  local name=$1 ns=$2 dir=$3 sock=$4 pidfile=$5
  mkdir -p "$LAB_RUN" "$LAB_DATA"
  chmod 0755 "$LAB_RUN"
  echo '{}' > "$dir/daemon.json"
  setsid nsenter "--net=/run/netns/$ns" dockerd \
    --config-file "$dir/daemon.json" \
    --bridge=none --iptables=false --ip-masq=false \
    --insecure-registry "$LAB_REGISTRY" \
    --data-root "$LAB_DATA/docker-$name" --exec-root "$LAB_RUN/exec-$name" \
    -H "unix://$sock" --pidfile "$pidfile" --group docker \
    --shutdown-timeout 3 >> "$dir/dockerd.log" 2>&1 < /dev/null &
  # setsid and nsenter exec dockerd, so $! is dockerd's pid: recorded at once, so an interrupted `up`
  # leaves nothing that `down` cannot find (dockerd writes its own --pidfile only later).
  echo "$!" > "$LAB_RUN/launch-$name.pid"
}

docker_wait() {
  local i=$1
  wait_for 60 docker_cli "$i" info ||
    die "web$i: dockerd did not answer 'docker info' within 60 s; see $(host_dir "$i")/dockerd.log"
}

# docker_remove_containers I: remove every container of host I's daemon (fast, before stopping it).
docker_remove_containers() {
  local i=$1 ids
  pid_alive "$(docker_pidfile "$i")" dockerd >/dev/null || return 0
  ids=$(timeout 10 docker -H "unix://$(docker_sock "$i")" ps -aq 2>/dev/null) || return 0
  [[ -z $ids ]] && return 0
  # shellcheck disable=SC2086 # one id per word
  timeout 30 docker -H "unix://$(docker_sock "$i")" rm -f $ids >/dev/null 2>&1 ||
    log "web$i: could not remove containers $ids"
}

# Processes the lab's containerd left behind when a daemon was killed hard, found through the lab's own
# pid files only: each container's init (checked against the container's cgroup) and its parent shim
# (checked by name and container id), then containerd.
docker_kill_leftovers() {
  local f id pid ppid
  [[ -d $LAB_RUN ]] || return 0
  while IFS= read -r f; do
    id=$(basename "$(dirname "$f")")
    pid=$(tr -dc '0-9' < "$f")
    if [[ -z $pid ]] || ! grep -qs "$id" "/proc/$pid/cgroup"; then
      continue
    fi
    ppid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || ppid=
    kill -KILL "$pid" 2>/dev/null || true
    if [[ -n $ppid ]] && tr '\0' ' ' < "/proc/$ppid/cmdline" 2>/dev/null | grep -q "containerd-shim.*$id"; then
      kill -TERM "$ppid" 2>/dev/null || true
    fi
  done < <(find "$LAB_RUN" -name init.pid 2>/dev/null)
  while IFS= read -r f; do
    kill_pidfile "$f" containerd 50
  done < <(find "$LAB_RUN" -name containerd.pid 2>/dev/null)
}

# Unmount whatever docker left mounted under the lab's data and run roots, deepest first.
docker_unmount_all() {
  local m
  while IFS= read -r m; do
    umount -l "$m" 2>/dev/null || log "could not unmount $m"
  done < <(awk -v a="$LAB_DATA" -v b="$LAB_RUN" \
    'index($2, a "/") == 1 || $2 == a || index($2, b "/") == 1 || $2 == b {print $2}' /proc/mounts |
    awk '{print length, $0}' | sort -rn | cut -d' ' -f2-)
}

# docker_down_all: stop every lab dockerd (TERM all, then wait), then clean their roots.
docker_down_all() {
  local f pid
  for f in "$LAB_RUN"/docker-web*.pid "$LAB_RUN"/launch-web*.pid; do
    [[ -e $f ]] || continue
    if pid=$(pid_alive "$f" dockerd); then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for f in "$LAB_RUN"/docker-web*.pid "$LAB_RUN"/launch-web*.pid; do
    [[ -e $f ]] || continue
    kill_pidfile "$f" dockerd 150
  done
  docker_kill_leftovers
  docker_unmount_all
  rm -rf "$LAB_DATA" "$LAB_RUN"
}
