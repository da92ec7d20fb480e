#!/usr/bin/env bash
# shellcheck shell=bash
# `bastion-up`: hosts the controller cannot route to, reachable only through a bastion (docs/lab.md).
#
#   controller (root namespace) --fleetlab0 10.77.0.0/24--> bastion 10.77.0.250 (namespace fleetlab-bastion)
#   bastion --bridge fbpriv0 10.78.0.0/24, inside the bastion's namespace--> priv1 10.78.0.11, priv2 10.78.0.12
#
# The private bridge lives inside the bastion's namespace, so the root namespace has no route (not even an
# interface) to 10.78.0.0/24. Every sshd allows TCP forwarding (priv1 serves as the second hop of a chain);
# the bastion keeps OpenSSH's default MaxSessions 10. A second bastion for the light hosts runs in the root
# namespace on $BASTION_LIGHT_ADDR (MaxSessions 10 too): light hosts reached through it share its sessions.
# With `up --servers`, priv1 and priv2 also get dockerd and nginx (bastion-servers.sh).
# Idempotent: what already runs is kept. `bastion-down` (and `down`) stops it all by pid file.

BASTION_NS="${LAB_NETNS_PREFIX}bastion"
BASTION_ADDR=10.77.0.250
BASTION_VETH=flbst0
BASTION_BRIDGE=fbpriv0
BASTION_PRIV_PREFIX=10.78.0
BASTION_PRIV_HOSTS=2
BASTION_LIGHT_ADDR=127.0.9.1
BASTION_DIR="$LAB/bastion"

bastion_priv_addr() { printf '%s.%d' "$BASTION_PRIV_PREFIX" "$((10 + $1))"; }
bastion_priv_ns() { printf '%spriv%d' "$LAB_NETNS_PREFIX" "$1"; }

bastion_ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

# The bastion namespace on the lab bridge, its private bridge, and one namespace per private host.
bastion_net_up() {
  local i ns
  ip link show "$LAB_BRIDGE" >/dev/null 2>&1 || die "bastion-up: the lab is not up (no bridge $LAB_BRIDGE; run lab.sh up)"
  if ! bastion_ns_exists "$BASTION_NS"; then
    ip netns add "$BASTION_NS"
    ip link add "$BASTION_VETH" type veth peer name eth0 netns "$BASTION_NS"
    ip link set "$BASTION_VETH" master "$LAB_BRIDGE"
    ip link set "$BASTION_VETH" up
    ip -n "$BASTION_NS" addr add "$BASTION_ADDR/24" dev eth0
    ip -n "$BASTION_NS" link set eth0 up
    ip -n "$BASTION_NS" link set lo up
    ip -n "$BASTION_NS" link add "$BASTION_BRIDGE" type bridge
    ip -n "$BASTION_NS" addr add "$BASTION_PRIV_PREFIX.1/24" dev "$BASTION_BRIDGE"
    ip -n "$BASTION_NS" link set "$BASTION_BRIDGE" up
  fi
  # This machine may have a default route (and something answering on it): make "no route" explicit.
  ip route replace unreachable "$BASTION_PRIV_PREFIX.0/24"
  for ((i = 1; i <= BASTION_PRIV_HOSTS; i++)); do
    ns=$(bastion_priv_ns "$i")
    bastion_ns_exists "$ns" && continue
    ip netns add "$ns"
    ip -n "$BASTION_NS" link add "fbp$i" type veth peer name eth0 netns "$ns"
    ip -n "$BASTION_NS" link set "fbp$i" master "$BASTION_BRIDGE"
    ip -n "$BASTION_NS" link set "fbp$i" up
    ip -n "$ns" addr add "$(bastion_priv_addr "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
}

# bastion_sshd NAME NETNS ADDR [MAXSESSIONS] [SETENV]: keys, config and a running sshd in $BASTION_DIR/NAME
# (NETNS "-" for the root namespace). Kept when it already runs with the same configuration.
bastion_sshd() {
  local name=$1 ns=$2 addr=$3 max=${4:-} setenv=${5:-} dir="$BASTION_DIR/$1"
  mkdir -p "$dir"
  [[ -s $dir/ssh_host_ed25519_key.pub ]] || ssh_host_keys "$dir"
  ssh_write_config "$dir/sshd_config.new" "$dir" "$setenv"
  if [[ -n $max ]]; then
    sed -i "s/^MaxSessions .*/MaxSessions $max/" "$dir/sshd_config.new"
  fi
  {
    echo "AllowTcpForwarding yes"
    echo "ListenAddress $addr:22"
    echo "PidFile $dir/sshd.pid"
  } >> "$dir/sshd_config.new"
  if pid_alive "$dir/sshd.pid" "$dir/sshd_config" >/dev/null; then
    if cmp -s "$dir/sshd_config.new" "$dir/sshd_config"; then
      rm -f "$dir/sshd_config.new"
      return 0
    fi
    kill_pidfile "$dir/sshd.pid" "$dir/sshd_config"
  fi
  mv -f "$dir/sshd_config.new" "$dir/sshd_config"
  if [[ $ns == - ]]; then
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" || die "$name: sshd did not start; see $dir/sshd.log"
  else
    ip netns exec "$ns" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" ||
      die "$name: sshd did not start; see $dir/sshd.log"
  fi
  wait_for 10 pid_alive "$dir/sshd.pid" "$dir/sshd_config" ||
    die "$name: sshd did not come up within 10 s; see $dir/sshd.log"
}

# known_hosts for the bastion, the private hosts and the light bastion (ed25519 lines).
bastion_known_hosts() {
  local i
  {
    ssh_known_line "$BASTION_ADDR" "$BASTION_DIR/bastion/ssh_host_ed25519_key.pub"
    for ((i = 1; i <= BASTION_PRIV_HOSTS; i++)); do
      ssh_known_line "$(bastion_priv_addr "$i")" "$BASTION_DIR/priv$i/ssh_host_ed25519_key.pub"
    done
    ssh_known_line "$BASTION_LIGHT_ADDR" "$BASTION_DIR/light-bastion/ssh_host_ed25519_key.pub"
  } > "$BASTION_DIR/known_hosts.tmp"
  chmod 0644 "$BASTION_DIR/known_hosts.tmp"
  mv -f "$BASTION_DIR/known_hosts.tmp" "$BASTION_DIR/known_hosts"
}

inventory_bastion_body() {
  cat <<YAML
app: $LAB_APP
image: $LAB_REGISTRY/$LAB_APP
ssh:
  user: root
  identity_files: [../client/id_ed25519]
  known_hosts: ../bastion/known_hosts
  connect_timeout: 5s
  proxy_jump: root@$BASTION_ADDR
paths:
  root: $BASTION_DIR/{host}/opt
  state: $BASTION_DIR/{host}/state
nginx:
  upstream_file: $BASTION_DIR/{host}/nginx/fleet-$LAB_APP.conf
  upstream_name: fleet_$LAB_APP
  conf: $BASTION_DIR/{host}/nginx/nginx.conf
  url: http://127.0.0.1:80
YAML
}

bastion_up() {
  local i addrs=()
  need_tools ip ssh-keygen
  [[ -x /usr/sbin/sshd ]] || die "missing /usr/sbin/sshd (apt-get install -y openssh-server)"
  mkdir -p "$BASTION_DIR" "$LAB/inventory" /run/sshd
  chmod 0755 "$BASTION_DIR"
  ssh_client_keys
  bastion_net_up
  bastion_sshd bastion "$BASTION_NS" "$BASTION_ADDR" 10
  for ((i = 1; i <= BASTION_PRIV_HOSTS; i++)); do
    bastion_sshd "priv$i" "$(bastion_priv_ns "$i")" "$(bastion_priv_addr "$i")" "" "DOCKER_HOST=unix://$LAB_RUN/docker-priv$i.sock"
    addrs+=("$(bastion_priv_addr "$i")")
  done
  bastion_sshd light-bastion - "$BASTION_LIGHT_ADDR" 10
  bastion_known_hosts
  if grep -qs '^LAB_SERVERS=1' "$LAB/lab.env"; then
    bastion_servers_up
  fi
  inventory_write "$LAB/inventory/bastion.yml" inventory_bastion_body priv "${addrs[@]}"
  log "bastion up: $BASTION_ADDR (namespace $BASTION_NS) in front of ${addrs[*]};" \
    "light bastion $BASTION_LIGHT_ADDR; inventory $LAB/inventory/bastion.yml"
}

bastion_down() {
  local i ns
  bastion_servers_down
  kill_pidfile "$BASTION_DIR/light-bastion/sshd.pid" "$BASTION_DIR/light-bastion/sshd_config"
  kill_pidfile "$BASTION_DIR/bastion/sshd.pid" "$BASTION_DIR/bastion/sshd_config"
  for ((i = 1; i <= BASTION_PRIV_HOSTS; i++)); do
    kill_pidfile "$BASTION_DIR/priv$i/sshd.pid" "$BASTION_DIR/priv$i/sshd_config"
    ns=$(bastion_priv_ns "$i")
    if bastion_ns_exists "$ns"; then ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"; fi
  done
  if bastion_ns_exists "$BASTION_NS"; then ip netns del "$BASTION_NS" 2>/dev/null || log "could not delete namespace $BASTION_NS"; fi
  ip link del "$BASTION_VETH" 2>/dev/null || true
  ip route del unreachable "$BASTION_PRIV_PREFIX.0/24" 2>/dev/null || true
  rm -rf "$BASTION_DIR" "$LAB/inventory/bastion.yml"
}
