#!/usr/bin/env bash
# shellcheck shell=bash
# `bastion-up`'s servers (when the lab runs with --servers): dockerd and nginx in priv1 and priv2, as on the
# web hosts, so fleet can deploy through the bastion. The private hosts reach the lab registry (10.77.0.1:5000)
# through NAT in the bastion's namespace; nothing routes the other way, so the controller still cannot reach
# 10.78.0.0/24.

bastion_priv_dir() { printf '%s/priv%d' "$BASTION_DIR" "$1"; }
bastion_docker_sock() { printf '%s/docker-priv%d.sock' "$LAB_RUN" "$1"; }
bastion_docker_pidfile() { printf '%s/docker-priv%d.pid' "$LAB_RUN" "$1"; }

# The private hosts' way out to the registry: forwarding and masquerade in the bastion's namespace.
bastion_nat_up() {
  local i
  ip netns exec "$BASTION_NS" sysctl -q -w net.ipv4.ip_forward=1
  if ! ip netns exec "$BASTION_NS" iptables -t nat -C POSTROUTING -s "$BASTION_PRIV_PREFIX.0/24" -o eth0 -j MASQUERADE 2>/dev/null; then
    ip netns exec "$BASTION_NS" iptables -t nat -A POSTROUTING -s "$BASTION_PRIV_PREFIX.0/24" -o eth0 -j MASQUERADE
  fi
  for ((i = 1; i <= BASTION_PRIV_HOSTS; i++)); do
    ip -n "$(bastion_priv_ns "$i")" route replace default via "$BASTION_PRIV_PREFIX.1"
  done
}

# bastion_docker_start I: priv I's dockerd in its namespace (kept when it runs; returns at once).
bastion_docker_start() {
  local i=$1 dir
  dir=$(bastion_priv_dir "$i")
  pid_alive "$(bastion_docker_pidfile "$i")" dockerd >/dev/null && return 0
  pid_alive "$LAB_RUN/launch-priv$i.pid" dockerd >/dev/null && return 0
  dockerd_launch "priv$i" "$(bastion_priv_ns "$i")" "$dir" "$(bastion_docker_sock "$i")" "$(bastion_docker_pidfile "$i")"
}

bastion_docker_wait() {
  local i=$1
  wait_for 60 docker -H "unix://$(bastion_docker_sock "$i")" info ||
    die "priv$i: dockerd did not answer 'docker info' within 60 s; see $(bastion_priv_dir "$i")/dockerd.log"
}

# bastion_nginx_start I: priv I's nginx (the web hosts' configuration, with priv I's folders and address).
bastion_nginx_start() {
  local i=$1 d conf upstream
  d="$(bastion_priv_dir "$i")/nginx"
  conf="$d/nginx.conf"
  upstream="$d/fleet-$LAB_APP.conf"
  pid_alive "$d/nginx.pid" "$conf" >/dev/null && return 0
  mkdir -p "$d/tmp" "$(bastion_priv_dir "$i")/opt" "$(bastion_priv_dir "$i")/state"
  [[ -s $upstream ]] || nginx_write_upstream "$upstream"
  nginx_render_conf "priv$i" "$d" "$(bastion_priv_addr "$i")" "$upstream"
  ip netns exec "$(bastion_priv_ns "$i")" nginx -t -q -c "$conf" || die "priv$i: nginx -t failed for $conf; see $d/error.log"
  ip netns exec "$(bastion_priv_ns "$i")" nginx -c "$conf" || die "priv$i: nginx did not start; see $d/error.log"
  wait_for 10 pid_alive "$d/nginx.pid" nginx || die "priv$i: nginx did not write $d/nginx.pid within 10 s"
}

bastion_servers_up() {
  local i
  need_tools docker dockerd nginx nsenter setsid iptables
  bastion_nat_up
  for ((i = 1; i <= BASTION_PRIV_HOSTS; i++)); do
    bastion_docker_start "$i"
    bastion_nginx_start "$i"
  done
  for ((i = 1; i <= BASTION_PRIV_HOSTS; i++)); do
    bastion_docker_wait "$i"
  done
}

# Containers, nginx and dockerd of the private hosts, by pid file; their data roots.
bastion_servers_down() {
  local i ids sock f d
  for ((i = 1; i <= BASTION_PRIV_HOSTS; i++)); do
    sock="unix://$(bastion_docker_sock "$i")"
    if pid_alive "$(bastion_docker_pidfile "$i")" dockerd >/dev/null; then
      ids=$(timeout 10 docker -H "$sock" ps -aq 2>/dev/null) || ids=
      # shellcheck disable=SC2086 # one id per word
      [[ -z $ids ]] || timeout 30 docker -H "$sock" rm -f $ids >/dev/null 2>&1 || log "priv$i: could not remove containers"
    fi
    d="$(bastion_priv_dir "$i")/nginx"
    kill_pidfile "$d/nginx.pid" "$d/nginx.conf" 30
    for f in "$(bastion_docker_pidfile "$i")" "$LAB_RUN/launch-priv$i.pid"; do
      if [[ -e $f ]]; then kill_pidfile "$f" dockerd 150; fi
    done
    # The data roots stay (docker may leave mounts there): `down` unmounts and removes all of $LAB_DATA.
  done
}
