# shellcheck shell=bash
# Lab-side helpers of the fault suite (run as root on the machine that runs the lab): the suite's own
# nginx on each lab host (port 8280, so killing it never touches the lab's), a small tmpfs as a host's
# state folder (inside that host's mount namespace: each lab sshd runs in one of its own, with private
# mounts), and a host's dockerd killed and started again as scripts/lab/lib/docker.sh starts it.
# Sourced by run.sh (and Tests/playbooks/harden.sh for the dockerd helpers); every helper is idempotent.

LAB=${FLEET_LAB_DIR:-/tmp/fleet-lab}
LAB_RUN=/run/fleetlab

host_ns() { printf 'fleetlab-web%s' "$1"; }
host_addr() { printf '10.77.0.%s' "$((10 + $1))"; }
lab_docker() { # lab_docker I ARGS...: the docker CLI against host I's daemon (bounded)
  local i=$1
  shift
  timeout 30 docker -H "unix://$LAB_RUN/docker-web$i.sock" "$@"
}
# only_std CMD...: run CMD with no file descriptor but 0, 1 and 2: a daemon started here (nginx, dockerd)
# must never inherit the lab lock's descriptor from whoever holds it, or the lock outlives the suite.
only_std() { (close_fds && exec "$@"); }
close_fds() { # close_fds: every descriptor of this (sub)shell but 0, 1 and 2
  local f n
  for f in /proc/"$BASHPID"/fd/*; do
    n=${f##*/}
    if [[ $n =~ ^[0-9]+$ ]] && ((n > 2)); then eval "exec $n>&-"; fi
  done
}
# cmdline_has PID TEXT: PID runs and its command line contains TEXT.
cmdline_has() {
  [[ $1 =~ ^[0-9]+$ ]] && { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "$2"
}

# --- the suite's nginx -------------------------------------------------------------------------------
# fnginx_dir I / fnginx_conf I: where host I's nginx of this suite keeps its files ($FD: the suite's folder).
fnginx_dir() { printf '%s/hosts/web%s/nginx' "$FD" "$1"; }
fnginx_conf() { printf '%s/nginx.conf' "$(fnginx_dir "$1")"; }
fnginx_pid() { cat "$(fnginx_dir "$1")/nginx.pid" 2>/dev/null || true; }
fnginx_running() { cmdline_has "$(fnginx_pid "$1")" "$(fnginx_conf "$1")"; }

fnginx_write() { # fnginx_write I: the config (the lab's, on port NGINX_PORT, proxying to fleet_APP)
  local i=$1 d
  d=$(fnginx_dir "$i")
  mkdir -p "$d/tmp"
  [[ -f $d/fleet-$APP.conf ]] || printf 'upstream fleet_%s {\n    server 127.0.0.1:%s;\n}\n' "$APP" "$PORT_BLUE" >"$d/fleet-$APP.conf"
  cat >"$d/nginx.conf" <<CONF
# nginx of the fault suite on lab host web$i (Tests/faults/hosts.sh)
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $d/tmp/client_body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    include $d/fleet-$APP.conf;
    server {
        listen $(host_addr "$i"):$NGINX_PORT;
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://fleet_$APP;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_connect_timeout 5s;
        }
    }
}
CONF
}

fnginx_up() { # fnginx_up I: start host I's nginx of this suite unless it runs
  local i=$1
  fnginx_running "$i" && return 0
  fnginx_orphans "$i"
  fnginx_write "$i"
  only_std ip netns exec "$(host_ns "$i")" nginx -q -c "$(fnginx_conf "$i")" 2>>"$FD/out/nginx-web$i.err"
  local n
  for ((n = 0; n < 50; n++)); do fnginx_running "$i" && return 0; sleep 0.1; done
  return 1
}

# fnginx_kill I: SIGKILL host I's nginx of this suite, master and workers (workers outlive a killed
# master). The master is stopped first, so that no worker it forks (a reload under way) escapes.
fnginx_kill() {
  local i=$1 pid w
  pid=$(fnginx_pid "$i")
  cmdline_has "$pid" "$(fnginx_conf "$i")" || return 0
  kill -STOP "$pid" 2>/dev/null || true
  for w in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
    cmdline_has "$w" "nginx: " && kill -KILL "$w" 2>/dev/null
  done
  kill -KILL "$pid" 2>/dev/null || true
}
# fnginx_orphans I: kill nginx workers whose master is gone (ppid 1) that listen on the suite's port in
# host I's namespace: left by an earlier run of this suite that was itself killed.
fnginx_orphans() {
  local i=$1 pid
  for pid in $(ip netns exec "$(host_ns "$i")" ss -Hltnp "( sport = :$NGINX_PORT )" 2>/dev/null |
    grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    if cmdline_has "$pid" "nginx: worker" && [[ $(ps -o ppid= -p "$pid" | tr -d ' ') == 1 ]]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}
# fnginx_down I: stop it (TERM to the master, which stops its workers).
fnginx_down() {
  local i=$1 pid n
  pid=$(fnginx_pid "$i")
  cmdline_has "$pid" "$(fnginx_conf "$i")" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((n = 0; n < 50; n++)); do cmdline_has "$pid" "$(fnginx_conf "$i")" || return 0; sleep 0.1; done
  fnginx_kill "$i"
}

# --- a tmpfs state folder inside host I's mount namespace (the one its sshd and sessions see) -------------
sshd_pid() { cat "$LAB/hosts/web$1/sshd.pid" 2>/dev/null || true; }
in_host_ns() { # in_host_ns I CMD...: run CMD in host I's mount namespace
  local i=$1 pid
  shift
  pid=$(sshd_pid "$i")
  cmdline_has "$pid" "sshd" || { echo "web$i: its sshd (pid '$pid') does not run" >&2; return 1; }
  nsenter -t "$pid" -m -- "$@"
}
# shellcheck disable=SC2016 # expanded by awk and by the inner sh
tmpfs_mounted() { in_host_ns "$1" awk -v d="$2" '$5 == d { f = 1 } END { exit !f }' /proc/self/mountinfo; }
tmpfs_up() { # tmpfs_up I DIR MIB
  mkdir -p "$2"
  tmpfs_mounted "$1" "$2" || in_host_ns "$1" mount -t tmpfs -o "size=${3}m,mode=0700" fleetfaults "$2"
}
# tmpfs_fill I DIR [MIB]: fill DIR's file system (with MIB MiB only, when given).
# shellcheck disable=SC2016 # expanded by the inner sh
tmpfs_fill() {
  if [[ -n ${3:-} ]]; then
    in_host_ns "$1" sh -c 'head -c "$2" /dev/zero > "$1/.fill" 2>/dev/null; true' sh "$2" "$(($3 * 1048576))"
  else
    in_host_ns "$1" sh -c 'cat /dev/zero > "$1/.fill" 2>/dev/null; true' sh "$2"
  fi
}
tmpfs_unfill() { in_host_ns "$1" rm -f "$2/.fill"; }
tmpfs_down() { # tmpfs_down I DIR
  if tmpfs_mounted "$1" "$2"; then in_host_ns "$1" umount "$2" || in_host_ns "$1" umount -l "$2"; fi
  return 0
}

# --- dockerd of a lab host -------------------------------------------------------------------------------
dockerd_pid() {
  local pid
  pid=$(cat "$LAB_RUN/docker-web$1.pid" 2>/dev/null) || return 1
  cmdline_has "$pid" "docker-web$1.sock" && printf '%s' "$pid"
}
# dockerd_kill I APP: SIGKILL host I's dockerd and APP's containers with it (as an OOM kill of the docker
# service's cgroup would: a killed dockerd alone leaves its containers running under their shims). Its
# command line is kept for dockerd_start.
dockerd_kill() {
  local i=$1 app=$2 pid id cpid
  local -a cpids=()
  pid=$(dockerd_pid "$i") || return 0
  tr '\0' '\n' <"/proc/$pid/cmdline" >"$FD/dockerd-web$i.args"
  for id in $(lab_docker "$i" ps -q --no-trunc --filter "label=fleet.app=$app" 2>/dev/null); do
    cpid=$(lab_docker "$i" inspect -f '{{.State.Pid}}' "$id" 2>/dev/null) || continue
    [[ $cpid =~ ^[1-9][0-9]*$ ]] && grep -qs "$id" "/proc/$cpid/cgroup" && cpids+=("$cpid")
  done
  kill -KILL "$pid" 2>/dev/null || true
  for cpid in "${cpids[@]}"; do kill -KILL "$cpid" 2>/dev/null || true; done
}
# dockerd_start I: start host I's dockerd again with the command line it had (no-op while it answers).
dockerd_start() {
  local i=$1 n
  local -a args=()
  lab_docker "$i" info >/dev/null 2>&1 && return 0
  [[ -s $FD/dockerd-web$i.args ]] || { echo "web$i: no saved dockerd command line" >&2; return 1; }
  mapfile -t args <"$FD/dockerd-web$i.args"
  [[ ${args[0]} == dockerd ]] || return 1
  # The background subshell closes them itself and becomes dockerd: one left waiting would hold the lab
  # lock's descriptor as long as dockerd runs.
  (close_fds && exec setsid nsenter "--net=/run/netns/$(host_ns "$i")" "${args[@]}") >>"$LAB/hosts/web$i/dockerd.log" 2>&1 </dev/null &
  echo "$!" >"$LAB_RUN/launch-web$i.pid"
  for ((n = 0; n < 120; n++)); do lab_docker "$i" info >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}
