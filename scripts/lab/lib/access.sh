#!/usr/bin/env bash
# shellcheck shell=bash
# What the non-root user fleetlab may do on the lab hosts: docker (group), nginx -t / reload (sudo, for
# the lab's nginx.conf files only), and write the folders fleet uses.

ACCESS_SUDOERS=/etc/sudoers.d/fleetlab

# The docker group must exist before the daemons start (their sockets belong to it).
access_group() {
  getent group docker >/dev/null || groupadd --system docker
  usermod -aG docker "$LAB_USER"
}

access_up() {
  local n=$1 i conf d tmp
  tmp=$(mktemp)
  {
    echo "# fleet lab: $LAB_USER may test and reload the lab's nginx instances only (scripts/lab/lab.sh)"
    for ((i = 1; i <= n; i++)); do
      conf=$(nginx_conf "$i")
      printf '%s ALL=(root) NOPASSWD: %s, %s, %s\n' "$LAB_USER" "/usr/sbin/nginx -t -c $conf" \
        "/usr/sbin/nginx -t -q -c $conf" "/usr/sbin/nginx -s reload -c $conf"
    done
  } > "$tmp"
  visudo -cq -f "$tmp" || { rm -f "$tmp"; die "the sudoers rule for $LAB_USER does not parse (visudo -c)"; }
  install -m 0440 -o root -g root "$tmp" "$ACCESS_SUDOERS"
  rm -f "$tmp"
  for ((i = 1; i <= n; i++)); do
    d=$(host_dir "$i")
    mkdir -p "$d/state" "$d/opt"
    chown "$LAB_USER:$LAB_USER" "$d/state" "$d/opt" "$(nginx_upstream_file "$i")"
    # Sticky and group-writable: fleetlab may add files (temp, backup) and replace the upstream file it
    # owns, never nginx.conf (root's).
    chgrp "$LAB_USER" "$(nginx_dir "$i")"
    chmod 1775 "$(nginx_dir "$i")"
  done
}

access_down() {
  rm -f "$ACCESS_SUDOERS"
}
