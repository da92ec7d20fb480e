#!/usr/bin/env bash
# shellcheck shell=bash
# Light hosts for benchmarks: one sshd per loopback address (127.0.1.1 .. 127.0.1.250, then 127.0.2.x),
# port 22, no namespace, no docker. One host key pair shared by all; one known_hosts line per address.

LIGHT_MAX=500

# light_addr I (1-based) -> 127.0.1.I for I <= 250, then 127.0.2.(I-250).
light_addr() {
  local i=$1
  printf '127.0.%d.%d' "$(((i - 1) / 250 + 1))" "$(((i - 1) % 250 + 1))"
}

light_down() {
  local dir="$LAB/light" f pid
  [[ -d $dir/pids ]] || { rm -rf "$dir"; return 0; }
  for f in "$dir"/pids/*.pid; do
    [[ -e $f ]] || continue
    # TERM them all first, then wait: much faster than one by one.
    if pid=$(pid_alive "$f" "$dir/sshd_config"); then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for f in "$dir"/pids/*.pid; do
    [[ -e $f ]] || continue
    kill_pidfile "$f" "$dir/sshd_config" 20
  done
  rm -rf "$dir" "$LAB/inventory/light.yml"
}

light_up() {
  local n=$1 dir="$LAB/light" i addr addrs=() pid
  if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n > LIGHT_MAX)); then
    die "light-up: N must be 1..$LIGHT_MAX, got '$n'"
  fi
  need_tools ssh-keygen
  [[ -x /usr/sbin/sshd ]] || die "missing /usr/sbin/sshd (apt-get install -y openssh-server)"
  raise_nofile
  light_down
  mkdir -p "$dir/pids" "$dir/logs" "$LAB/inventory" /run/sshd
  chmod 0755 "$LAB"
  ssh_client_keys
  ssh_host_keys "$dir"
  ssh_write_config "$dir/sshd_config" "$dir"
  : > "$dir/known_hosts.tmp"
  for ((i = 1; i <= n; i++)); do
    addr=$(light_addr "$i")
    addrs+=("$addr")
    ssh_known_line "$addr" "$dir/ssh_host_ed25519_key.pub" >> "$dir/known_hosts.tmp"
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/logs/light$i.log" \
      -o "ListenAddress=$addr:22" -o "PidFile=$dir/pids/light$i.pid" ||
      die "light$i ($addr): sshd did not start; see $dir/logs/light$i.log"
  done
  mv -f "$dir/known_hosts.tmp" "$dir/known_hosts"
  chmod 0644 "$dir/known_hosts"
  for ((i = 1; i <= n; i++)); do
    wait_for 10 pid_alive "$dir/pids/light$i.pid" "$dir/sshd_config" ||
      die "light$i: sshd did not come up within 10 s; see $dir/logs/light$i.log"
  done
  inventory_light "${addrs[@]}"
  log "light hosts up: $n (inventory $LAB/inventory/light.yml, known_hosts $dir/known_hosts)"
}
