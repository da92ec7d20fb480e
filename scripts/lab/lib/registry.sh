#!/usr/bin/env bash
# shellcheck shell=bash
# The lab registry: Debian's docker-registry on 10.77.0.1:5000 (root namespace, bridge address),
# storage under $LAB/registry (wiped by down).

# registry_config DIR ADDR: the start of a lab registry's config.yml (storage in DIR/data, listening on ADDR);
# the caller appends what else it serves (TLS, a login).
registry_config() {
  cat <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $1/data
  delete:
    enabled: true
http:
  addr: $2
YAML
}

registry_up() {
  local dir="$LAB/registry"
  mkdir -p "$dir/data"
  registry_config "$dir" "$LAB_REGISTRY" > "$dir/config.yml"
  setsid docker-registry serve "$dir/config.yml" >> "$dir/registry.log" 2>&1 < /dev/null &
  echo "$!" > "$dir/registry.pid"
  wait_for 15 curl -fsS --max-time 1 "http://$LAB_REGISTRY/v2/" ||
    die "registry did not answer on http://$LAB_REGISTRY/v2/ within 15 s; see $dir/registry.log"
}

registry_down() {
  kill_pidfile "$LAB/registry/registry.pid" "$LAB/registry/config.yml"
  rm -rf "$LAB/registry"
}
