#!/usr/bin/env bash
# shellcheck shell=bash
# IPv6 on the lab network: the bridge gets fd77::1/64, host I gets fd77::(10+I)/64 on its eth0, and a second
# sshd in the host's namespace listens on [fd77::(10+I)]:22 with the host's own keys and settings (the first
# keeps 10.77.0.x, so adding IPv6 to a running lab disturbs nothing). known_hosts.v6 names each host by its
# IPv6 address. Idempotent: addresses and sshds already there are kept.

LAB_BRIDGE_ADDR6=fd77::1

# host_addr6 3 -> fd77::13
host_addr6() { printf 'fd77::%d' "$((10 + $1))"; }

# ipv6_add_addr NS DEV ADDR: ADDR/64 on DEV (in namespace NS, or here when NS is empty), unless there already.
ipv6_add_addr() {
  local ns=$1 dev=$2 addr=$3 run=()
  [[ -n $ns ]] && run=(ip netns exec "$ns")
  if ! "${run[@]}" ip -6 addr show dev "$dev" | grep -q "inet6 $addr/64"; then
    "${run[@]}" ip -6 addr add "$addr/64" dev "$dev" nodad
  fi
}

# ipv6_sshd_config I: host I's sshd settings with the IPv6 listener and a pid file of its own.
ipv6_sshd_config() {
  local i=$1 dir
  dir=$(host_dir "$i")
  grep -v -E '^(ListenAddress|PidFile) ' "$dir/sshd_config" > "$dir/sshd6_config.tmp"
  {
    echo "ListenAddress [$(host_addr6 "$i")]:22"
    echo "PidFile $dir/sshd6.pid"
  } >> "$dir/sshd6_config.tmp"
  mv -f "$dir/sshd6_config.tmp" "$dir/sshd6_config"
}

# ipv6_up: every running lab host gets its IPv6 address and listener; writes $LAB/known_hosts.v6.
ipv6_up() {
  local d i dir n=0
  ip link show "$LAB_BRIDGE" >/dev/null 2>&1 || die "the lab is down: lab.sh up first"
  ipv6_add_addr "" "$LAB_BRIDGE" "$LAB_BRIDGE_ADDR6"
  : > "$LAB/known_hosts.v6.tmp"
  for d in "$LAB"/hosts/web*; do
    [[ -d $d ]] || continue
    i=${d##*/web}
    dir=$(host_dir "$i")
    ipv6_add_addr "$(host_ns "$i")" eth0 "$(host_addr6 "$i")"
    if ! pid_alive "$dir/sshd6.pid" "$dir/sshd6_config" >/dev/null; then
      ipv6_sshd_config "$i"
      ip netns exec "$(host_ns "$i")" /usr/sbin/sshd -f "$dir/sshd6_config" -E "$dir/sshd6.log" ||
        die "web$i: the IPv6 sshd did not start; see $dir/sshd6.log"
      wait_for 10 pid_alive "$dir/sshd6.pid" "$dir/sshd6_config" ||
        die "web$i: the IPv6 sshd did not come up within 10 s; see $dir/sshd6.log"
    fi
    ssh_known_line "$(host_addr6 "$i")" "$dir/ssh_host_ed25519_key.pub" >> "$LAB/known_hosts.v6.tmp"
    n=$((n + 1))
  done
  mv -f "$LAB/known_hosts.v6.tmp" "$LAB/known_hosts.v6"
  chmod 0644 "$LAB/known_hosts.v6"
  log "ipv6: $n hosts on fd77::/64 (known_hosts $LAB/known_hosts.v6)"
}

# ipv6_down: stop the IPv6 listeners (the addresses go with the namespaces at lab.sh down).
ipv6_down() {
  local d
  for d in "$LAB"/hosts/web*; do
    [[ -f $d/sshd6_config ]] || continue
    kill_pidfile "$d/sshd6.pid" "$d/sshd6_config"
  done
}
