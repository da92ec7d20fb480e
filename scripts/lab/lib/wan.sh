#!/usr/bin/env bash
# shellcheck shell=bash
# The WAN lab: the light hosts 1..N behind a round-trip delay. This kernel has no netem, so one userspace
# proxy (scripts/lab/wanproxy.c, built here with cc) listens on each light host's address, port
# LAB_WAN_PORT, and forwards to its sshd on port 22, delaying every chunk by RTT/2 in each direction (order and
# throughput kept) and the connection itself by the TCP handshake's round trip. See docs/lab.md.
#
# `wan-up RTT_MS N` is idempotent: it keeps a running proxy with the same delay and hosts, else restarts it.
# It writes $LAB/inventory/wan.yml and $LAB/wan/known_hosts ([addr]:port lines). `wan-down` stops the proxy
# (by its pid file, checked against its command line). Light hosts are left alone.

LAB_WAN_PORT=${LAB_WAN_PORT:-2222}

wan_binary() {
  local src="$LAB_SCRIPTS/wanproxy.c" bin="$LAB/wan/wanproxy"
  if [[ ! -x $bin || $src -nt $bin ]]; then
    need_tools cc
    cc -O2 -Wall -Wextra -o "$bin.tmp" "$src" || die "wan: cannot build $src"
    mv -f "$bin.tmp" "$bin"
  fi
  printf '%s' "$bin"
}

wan_down() {
  kill_pidfile "$LAB/wan/wanproxy.pid" "$LAB/wan/map"
  rm -f "$LAB/inventory/wan.yml"
}

# wan_measure ADDR PORT: milliseconds from connect to the server's first byte (the SSH banner), or "?".
wan_measure() {
  python3 - "$1" "$2" <<'PY' 2>/dev/null || printf '?'
import socket, sys, time
t = time.monotonic()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
s.recv(64)
print(round((time.monotonic() - t) * 1000), end="")
PY
}

wan_up() {
  local rtt=${1:-} n=${2:-} dir="$LAB/wan" i addr bin type key pid want have banner
  if ! [[ $rtt =~ ^[0-9]+$ ]] || ((rtt > 10000)); then die "wan-up: RTT_MS must be 0..10000, got '$rtt'"; fi
  if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n > LIGHT_MAX)); then die "wan-up: N must be 1..$LIGHT_MAX, got '$n'"; fi
  for ((i = 1; i <= n; i++)); do
    light_pid "$LAB/light/pids/light$i.pid" ||
      die "wan-up: light host $i is not running (run: lab.sh light-up $n first)"
  done
  need_tools python3
  raise_nofile
  mkdir -p "$dir" "$LAB/inventory"
  bin=$(wan_binary)
  want=$(for ((i = 1; i <= n; i++)); do
    light_addr_v addr "$i"
    printf '%s %d %s 22\n' "$addr" "$LAB_WAN_PORT" "$addr"
  done)
  have=$(cat "$dir/map" 2>/dev/null || true)
  if pid=$(pid_alive "$dir/wanproxy.pid" "$dir/map") && [[ $have == "$want" ]] &&
    [[ $(cat "$dir/rtt" 2>/dev/null) == "$rtt" ]]; then
    log "wan: proxy pid $pid already serves $n hosts at $rtt ms"
  else
    wan_down
    printf '%s\n' "$want" > "$dir/map"
    printf '%s\n' "$rtt" > "$dir/rtt"
    setsid "$bin" "$rtt" "$dir/map" "$dir/stats" < /dev/null > "$dir/wanproxy.log" 2>&1 &
    echo "$!" > "$dir/wanproxy.pid"
    for ((i = 0; i < 50; i++)); do
      grep -q listeners "$dir/wanproxy.log" 2>/dev/null && break
      proc_running "$(cat "$dir/wanproxy.pid")" || die "wan: the proxy did not start; see $dir/wanproxy.log"
      sleep 0.1
    done
  fi
  read -r type key _ < "$LAB/light/ssh_host_ed25519_key.pub"
  for ((i = 1; i <= n; i++)); do
    light_addr_v addr "$i"
    printf '[%s]:%d %s %s\n' "$addr" "$LAB_WAN_PORT" "$type" "$key"
  done > "$dir/known_hosts.tmp"
  mv -f "$dir/known_hosts.tmp" "$dir/known_hosts"
  chmod 0644 "$dir/known_hosts"
  wan_inventory "$n"
  light_addr_v addr 1
  banner=$(wan_measure "$addr" "$LAB_WAN_PORT")
  log "wan up: $n hosts at $rtt ms round trip (port $LAB_WAN_PORT; inventory $LAB/inventory/wan.yml);" \
    "connect to first byte $banner ms (expected about $((2 * rtt)) ms plus sshd's start)"
}

wan_inventory_body() {
  cat <<YAML
app: $LAB_APP
image: $LAB_REGISTRY/$LAB_APP
ssh:
  user: root
  port: $LAB_WAN_PORT
  identity_files: [../client/id_ed25519]
  known_hosts: ../wan/known_hosts
  connect_timeout: 30s
YAML
}

wan_inventory() {
  local n=$1 i addrs=()
  for ((i = 1; i <= n; i++)); do
    light_addr_v "addrs[$((i - 1))]" "$i"
  done
  inventory_write "$LAB/inventory/wan.yml" wan_inventory_body wan "${addrs[@]}"
}

wan_status() {
  local pid
  if pid=$(pid_alive "$LAB/wan/wanproxy.pid" "$LAB/wan/map"); then
    echo "wan proxy pid $pid: $(wc -l < "$LAB/wan/map") hosts at $(cat "$LAB/wan/rtt") ms round trip, port $LAB_WAN_PORT"
  fi
}
