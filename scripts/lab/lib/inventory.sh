#!/usr/bin/env bash
# shellcheck shell=bash
# fleet inventories for the lab. Paths inside are relative to the inventory file.
# To extend the lab inventory (paths, nginx, rollout keys...), edit inventory_lab_body only.

# The part of the lab inventory above `hosts:`. One place to add keys for deploys. The paths match the
# folders `up --servers` makes ({host} is the host's name, web1 ...); without --servers they are unused.
inventory_lab_body() {
  cat <<YAML
app: $LAB_APP
image: $LAB_REGISTRY/$LAB_APP
ssh:
  user: root
  identity_files: [../client/id_ed25519]
  known_hosts: ../known_hosts
  connect_timeout: 5s
paths:
  root: $LAB/hosts/{host}/opt
  state: $LAB/hosts/{host}/state
nginx:
  upstream_file: $LAB/hosts/{host}/nginx/fleet-$LAB_APP.conf
  upstream_name: fleet_$LAB_APP
  conf: $LAB/hosts/{host}/nginx/nginx.conf
  url: http://127.0.0.1:80
YAML
}

# inventory_write FILE HEADER_FUNCTION NAME_PREFIX ADDR...: header, then `hosts:` NAME<i>: ADDR.
inventory_write() {
  local file=$1 header=$2 prefix=$3 i=0 addr
  shift 3
  mkdir -p "$(dirname "$file")"
  {
    echo "# fleet lab inventory; written by scripts/lab/lab.sh (rewritten on every run)"
    "$header"
    echo "hosts:"
    for addr in "$@"; do
      i=$((i + 1))
      printf '  %s%d: %s\n' "$prefix" "$i" "$addr"
    done
  } > "$file.tmp"
  mv -f "$file.tmp" "$file"
}

inventory_lab() {
  local n=$1 i addrs=()
  for ((i = 1; i <= n; i++)); do
    addrs+=("$(host_addr "$i")")
  done
  inventory_write "$LAB/inventory/lab.yml" inventory_lab_body web "${addrs[@]}"
}

inventory_light_body() {
  cat <<YAML
app: $LAB_APP
image: $LAB_REGISTRY/$LAB_APP
ssh:
  user: root
  identity_files: [../client/id_ed25519]
  known_hosts: ../light/known_hosts
  connect_timeout: 5s
YAML
}

inventory_light() {
  inventory_write "$LAB/inventory/light.yml" inventory_light_body light "$@"
}
