#!/usr/bin/env bash
# shellcheck shell=bash
# `registry-auth-up`: a second lab registry that requires a login (htpasswd, bcrypt) on 10.77.0.1:5001, served
# over TLS with a certificate of its own, next to the running lab (additive, safe to run twice). The lab's
# dockerds trust it through /etc/docker/certs.d/10.77.0.1:5001/ca.crt, which dockerd reads on every
# connection: no daemon restarts (a plain-HTTP registry would need --insecure-registry, fixed at start).
# The login is in $LAB/registry-auth/username and .../password (0600, a password with spaces, quotes and $).
# It holds the demo images 10.77.0.1:5001/demo:v1, v2, v3. Stopped and wiped by `down`.

LAB_REGISTRY_AUTH="${LAB_BRIDGE_ADDR}:5001"
LAB_REGISTRY_AUTH_USER=fleet-lab

registry_auth_dir() { printf '%s/registry-auth' "$LAB"; }
registry_auth_certs() { printf '/etc/docker/certs.d/%s' "$LAB_REGISTRY_AUTH"; }

registry_auth_up() {
  local dir pass
  dir=$(registry_auth_dir)
  need_tools docker-registry htpasswd openssl curl
  grep -qs '^LAB_SERVERS=1' "$LAB/lab.env" ||
    die "registry-auth-up needs the lab's servers (lab.sh up --hosts N --servers)"
  mkdir -p "$dir/data"
  chmod 0700 "$dir"
  if [[ ! -s $dir/password ]]; then
    # Spaces, quotes and $ on purpose: the login must carry it exactly (bcrypt reads 72 bytes at most).
    pass="lab pa\$\$ 'w\"rd' $(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    (umask 077 && printf '%s' "$pass" > "$dir/password.tmp" && mv -f "$dir/password.tmp" "$dir/password")
    printf '%s' "$LAB_REGISTRY_AUTH_USER" > "$dir/username"
  fi
  if [[ ! -s $dir/cert.pem || ! -s $dir/key.pem ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$LAB_BRIDGE_ADDR" \
      -addext "subjectAltName=IP:$LAB_BRIDGE_ADDR" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null ||
      die "openssl could not make the auth registry's certificate"
  fi
  mkdir -p "$(registry_auth_certs)"
  cp -f "$dir/cert.pem" "$(registry_auth_certs)/ca.crt"
  if ! pid_alive "$dir/registry.pid" "$dir/config.yml" >/dev/null; then
    htpasswd -Bbn "$LAB_REGISTRY_AUTH_USER" "$(cat "$dir/password")" > "$dir/htpasswd" ||
      die "htpasswd could not hash the auth registry's password"
    {
      registry_config "$dir" "$LAB_REGISTRY_AUTH"
      cat <<YAML
  tls:
    certificate: $dir/cert.pem
    key: $dir/key.pem
auth:
  htpasswd:
    realm: fleet-lab
    path: $dir/htpasswd
YAML
    } > "$dir/config.yml"
    setsid docker-registry serve "$dir/config.yml" >> "$dir/registry.log" 2>&1 < /dev/null &
    echo "$!" > "$dir/registry.pid"
  fi
  wait_for 15 registry_auth_answers ||
    die "the auth registry did not answer on https://$LAB_REGISTRY_AUTH/v2/ within 15 s; see $dir/registry.log"
  registry_auth_push
  log "auth registry on https://$LAB_REGISTRY_AUTH (login in $dir/username, $dir/password)"
}

# The registry answers, and refuses a request without a login (401).
registry_auth_answers() {
  [[ $(curl -sS --max-time 2 --cacert "$(registry_auth_dir)/cert.pem" -o /dev/null -w '%{http_code}' \
    "https://$LAB_REGISTRY_AUTH/v2/" 2>/dev/null) == 401 ]]
}

# registry_auth_push: the demo images it does not hold yet, imported into web1's daemon under the auth registry's name, pushed
# with a login in a docker config folder of its own (removed after), and untagged again.
registry_auth_push() {
  local dir cfg v tar ref
  dir=$(registry_auth_dir)
  cfg=$(mktemp -d "$dir/.push-config.XXXXXX")
  docker_cli 1 --config "$cfg" login --username "$LAB_REGISTRY_AUTH_USER" --password-stdin "$LAB_REGISTRY_AUTH" \
    < "$dir/password" >/dev/null 2>&1 || { rm -rf "$cfg"; die "web1: docker login to $LAB_REGISTRY_AUTH failed"; }
  for v in "${IMAGE_VERSIONS[@]}"; do
    [[ ! -d $dir/data/docker/registry/v2/repositories/$LAB_APP/_manifests/tags/$v ]] || continue
    tar=$(image_tarball "$v")
    ref="$LAB_REGISTRY_AUTH/$LAB_APP:$v"
    docker_cli 1 import -c "$IMAGE_CMD" -c 'USER 1001' -c "ENV APP_VERSION=$v" - "$ref" < "$tar" >/dev/null ||
      { rm -rf "$cfg"; die "web1: docker import of $ref failed"; }
    docker_cli 1 --config "$cfg" push "$ref" >/dev/null ||
      { rm -rf "$cfg"; die "web1: docker push $ref failed; see $dir/registry.log"; }
    docker_cli 1 rmi "$ref" >/dev/null 2>&1 || true
  done
  rm -rf "$cfg"
}

registry_auth_down() {
  kill_pidfile "$(registry_auth_dir)/registry.pid" "$(registry_auth_dir)/config.yml"
  rm -rf "$(registry_auth_dir)" "$(registry_auth_certs)"
}
