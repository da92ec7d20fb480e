#!/usr/bin/env bash
# shellcheck shell=bash
# `up --servers`: the registry, then dockerd (in parallel) and nginx on every host, fleetlab's rights,
# and the test images. `servers_down` stops all of it by pid and removes the data roots.

servers_up() {
  local n=$1 i
  need_tools docker dockerd docker-registry nginx nsenter setsid curl visudo tar
  access_group
  registry_up
  for ((i = 1; i <= n; i++)); do
    docker_start "$i"
  done
  for ((i = 1; i <= n; i++)); do
    nginx_start "$i"
  done
  access_up "$n"
  for ((i = 1; i <= n; i++)); do
    docker_wait "$i"
  done
  images_push
}

servers_down() {
  local d i
  for d in "$LAB"/hosts/web*; do
    [[ -d $d ]] || continue
    i=${d##*/web}
    docker_remove_containers "$i"
    nginx_stop "$i"
  done
  docker_down_all
  registry_down
  registry_auth_down
  access_down
}
