#!/usr/bin/env bash
# The fleet lab: real test hosts on this machine (network namespaces, sshd, dockerd, nginx, a registry).
# See docs/lab.md. Needs root.
set -euo pipefail

LAB_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$LAB_SCRIPTS/lib/common.sh"
# shellcheck source=lib/net.sh
. "$LAB_SCRIPTS/lib/net.sh"
# shellcheck source=lib/sshd.sh
. "$LAB_SCRIPTS/lib/sshd.sh"
# shellcheck source=lib/inventory.sh
. "$LAB_SCRIPTS/lib/inventory.sh"
# shellcheck source=lib/light.sh
. "$LAB_SCRIPTS/lib/light.sh"
# shellcheck source=lib/wan.sh
. "$LAB_SCRIPTS/lib/wan.sh"
# shellcheck source=lib/registry.sh
. "$LAB_SCRIPTS/lib/registry.sh"
# shellcheck source=lib/docker.sh
. "$LAB_SCRIPTS/lib/docker.sh"
# shellcheck source=lib/nginx.sh
. "$LAB_SCRIPTS/lib/nginx.sh"
# shellcheck source=lib/images.sh
. "$LAB_SCRIPTS/lib/images.sh"
# shellcheck source=lib/registry-auth.sh
. "$LAB_SCRIPTS/lib/registry-auth.sh"
# shellcheck source=lib/access.sh
. "$LAB_SCRIPTS/lib/access.sh"
# shellcheck source=lib/servers.sh
. "$LAB_SCRIPTS/lib/servers.sh"
# shellcheck source=lib/ipv6.sh
. "$LAB_SCRIPTS/lib/ipv6.sh"
# shellcheck source=lib/bastion.sh
. "$LAB_SCRIPTS/lib/bastion.sh"
# shellcheck source=lib/bastion-servers.sh
. "$LAB_SCRIPTS/lib/bastion-servers.sh"

usage() {
  cat <<'TXT'
usage: lab.sh up [--hosts N] [--servers]   start N lab hosts web1..webN (default 3); --servers adds
                                           a registry, and dockerd + nginx on every host
       lab.sh down                         stop everything the lab started, remove its network
       lab.sh status                       what is running
       lab.sh stop-sshd webI | start-sshd webI
       lab.sh exec webI -- CMD [ARG...]    run CMD inside webI's network namespace
       lab.sh ipv6-up                      every lab host also on fd77::(10+I) (an sshd there too);
                                           known_hosts.v6 names them by that address
       lab.sh images                       build (when their recipe changed) and push the demo images
                                           v1..v3 to the running lab's registry again (up does it too)
       lab.sh light-up N | light-down      N (<= 2000) light sshd hosts on 127.0.1.x, 127.0.2.x, ...
                                           (250 per /24); light-up keeps the ones already running
       lab.sh registry-auth-up             next to a running lab (--servers): a registry that requires a
                                           login, https://10.77.0.1:5001, holding the demo images
                                           (safe to run twice; `down` stops it)
       lab.sh bastion-up | bastion-down       a bastion (10.77.0.250) in front of private hosts priv1, priv2
                                           (10.78.0.11, .12) the controller cannot route to, and a light
                                           bastion on 127.0.9.1; bastion-up keeps what already runs
       lab.sh wan-up RTT_MS N | wan-down   light hosts 1..N behind a RTT_MS round trip (a delay proxy
                                           on port 2222 of each light host's address)
State lives in ${FLEET_LAB_DIR:-/tmp/fleet-lab}.
TXT
}

# The namespace hosts and their servers (light hosts are separate: `up` leaves them running).
lab_down_hosts() {
  local d i
  bastion_down
  servers_down
  ipv6_down
  for d in "$LAB"/hosts/web*; do
    [[ -d $d ]] || continue
    i=${d##*/web}
    ssh_stop_host "$i"
  done
  net_down
  rm -rf "$LAB/hosts" "$LAB/inventory/lab.yml" "$LAB/known_hosts" "$LAB/known_hosts.all" \
    "$LAB/known_hosts.hashed" "$LAB/lab.env"
}

lab_up() {
  local n=3 servers=0 i start
  while (($#)); do
    case $1 in
      --hosts)
        [[ $# -ge 2 ]] || die "up: --hosts needs a number"
        n=$2
        shift 2
        ;;
      --hosts=*) n=${1#--hosts=}; shift ;;
      --servers) servers=1; shift ;;
      *) die "up: unknown option '$1' (see lab.sh --help)" ;;
    esac
  done
  if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n > LAB_MAX_HOSTS)); then
    die "up: --hosts must be 1..$LAB_MAX_HOSTS, got '$n'"
  fi
  need_tools ip ssh-keygen useradd usermod
  [[ -x /usr/sbin/sshd ]] || die "missing /usr/sbin/sshd (apt-get install -y openssh-server)"
  start=$(date +%s%N)
  lab_down_hosts
  mkdir -p "$LAB/hosts" "$LAB/inventory" /run/sshd
  chmod 0755 "$LAB"
  ssh_client_keys
  ssh_lab_user
  net_up_bridge
  for ((i = 1; i <= n; i++)); do
    net_up_host "$i"
    ssh_prepare_host "$i"
    ssh_start_host "$i"
  done
  for ((i = 1; i <= n; i++)); do
    ssh_wait_host "$i"
  done
  ssh_known_hosts "$n"
  inventory_lab "$n"
  printf 'LAB_HOSTS=%d\nLAB_SERVERS=%d\n' "$n" "$servers" > "$LAB/lab.env"
  if ((servers)); then
    servers_up "$n"
  fi
  log "up: $n hosts in $((($(date +%s%N) - start) / 1000000))ms; inventory $LAB/inventory/lab.yml"
}

lab_status() {
  local d i pid state
  if ! ip link show "$LAB_BRIDGE" >/dev/null 2>&1; then
    echo "lab: down (no bridge $LAB_BRIDGE)"
  else
    echo "lab: bridge $LAB_BRIDGE $LAB_BRIDGE_ADDR/24, state in $LAB"
  fi
  for d in "$LAB"/hosts/web*; do
    [[ -d $d ]] || continue
    i=${d##*/web}
    state="sshd down"
    if pid=$(pid_alive "$d/sshd.pid" "$d/sshd_config"); then state="sshd pid $pid"; fi
    if [[ -d $d/nginx ]]; then
      if pid=$(pid_alive "$(docker_pidfile "$i")" dockerd); then
        state+=", dockerd pid $pid"
      else
        state+=", dockerd down"
      fi
      if pid=$(pid_alive "$d/nginx/nginx.pid" "$(nginx_conf "$i")"); then
        state+=", nginx pid $pid"
      else
        state+=", nginx down"
      fi
    fi
    printf 'web%s %s netns %s: %s\n' "$i" "$(host_addr "$i")" "$(host_ns "$i")" "$state"
  done
  if pid=$(pid_alive "$LAB/registry/registry.pid" "$LAB/registry/config.yml"); then
    echo "registry http://$LAB_REGISTRY pid $pid"
  fi
  if pid=$(pid_alive "$(registry_auth_dir)/registry.pid" "$(registry_auth_dir)/config.yml"); then
    echo "auth registry https://$LAB_REGISTRY_AUTH pid $pid (login: $(registry_auth_dir)/username, password)"
  fi
  light_status
  wan_status
}

main() {
  local cmd=${1:-}
  [[ -n $cmd ]] || { usage >&2; exit 2; }
  shift
  case $cmd in
    -h | --help | help) usage ;;
    up) need_root; lab_up "$@" ;;
    down) need_root; wan_down; light_down; lab_down_hosts; log "down" ;;
    status) lab_status ;;
    stop-sshd)
      need_root
      ssh_stop_host "$(host_index "${1:-}")"
      ;;
    start-sshd)
      need_root
      local i
      i=$(host_index "${1:-}")
      ssh_start_host "$i"
      ssh_wait_host "$i"
      ;;
    exec)
      need_root
      local i
      i=$(host_index "${1:-}")
      shift
      [[ ${1:-} == -- ]] && shift
      (($#)) || die "exec: no command (usage: lab.sh exec webI -- CMD [ARG...])"
      exec env "DOCKER_HOST=unix://$LAB_RUN/docker-web$i.sock" ip netns exec "$(host_ns "$i")" "$@"
      ;;
    ipv6-up) need_root; ipv6_up ;;
    images) need_root; images_push; log "images pushed: ${IMAGE_VERSIONS[*]} (recipe $IMAGE_RECIPE)" ;;
    light-up) need_root; light_up "${1:-}" ;;
    light-down) need_root; wan_down; light_down; log "light hosts down" ;;
    registry-auth-up) need_root; registry_auth_up ;;
    bastion-up) need_root; bastion_up ;;
    bastion-down) need_root; bastion_down; log "bastion down" ;;
    wan-up) need_root; wan_up "${1:-}" "${2:-}" ;;
    wan-down) need_root; wan_down; log "wan proxy down" ;;
    *) usage >&2; die "unknown command '$cmd'" ;;
  esac
}

main "$@"
