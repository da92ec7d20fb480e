#!/usr/bin/env bash
# shellcheck shell=bash
# The lab network: bridge fleetlab0 (10.77.0.1/24), one namespace per host, a veth pair into each.

net_up_bridge() {
  ip link add "$LAB_BRIDGE" type bridge
  ip addr add "$LAB_BRIDGE_ADDR/24" dev "$LAB_BRIDGE"
  ip link set "$LAB_BRIDGE" up
}

# net_up_host I: namespace fleetlab-webI, veth flwI (bridge side) <-> eth0 (inside), lo up.
# No default route inside: a host can reach only 10.77.0.0/24 and its own loopback.
net_up_host() {
  local i=$1 ns veth
  ns=$(host_ns "$i")
  veth="${LAB_VETH_PREFIX}$i"
  ip netns add "$ns"
  ip link add "$veth" type veth peer name eth0 netns "$ns"
  ip link set "$veth" master "$LAB_BRIDGE"
  ip link set "$veth" up
  ip -n "$ns" addr add "$(host_addr "$i")/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
}

# Remove every namespace, veth and the bridge of the lab, by name.
net_down() {
  local ns link
  while read -r ns _; do
    [[ $ns == "$LAB_NETNS_PREFIX"* ]] || continue
    ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"
  done < <(ip netns list 2>/dev/null)
  while read -r link; do
    ip link del "$link" 2>/dev/null || true
  done < <(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
    grep -E "^${LAB_VETH_PREFIX}[0-9]+$" || true)
  if ip link show "$LAB_BRIDGE" >/dev/null 2>&1; then
    ip link del "$LAB_BRIDGE"
  fi
}
