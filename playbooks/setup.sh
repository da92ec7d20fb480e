#!/usr/bin/env bash
# fleet setup: prepare a fresh Debian/Ubuntu host for fleet (run as root; safe to run again):
# docker.io, nginx, curl, sudo; the deploy user with only the docker group; a sudoers rule for
# nginx -t and reload only; fleet's folders; the upstream file and the nginx site that uses it.
# usage: setup.sh --config FILE --user NAME
set -euo pipefail
SCRIPT_NAME=setup
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
install_traps

CONFIG="" USER_NAME=""
parse_args "--config=CONFIG --user=USER_NAME" "setup.sh --config FILE --user NAME" "$@"
[[ $USER_NAME =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] || die 2 "--user '$USER_NAME': expected a login name (lowercase letters, digits, _ -)"
[[ $USER_NAME != root ]] || die 2 "--user root: the deploy user must not be root"
((EUID == 0)) || die 16 "setup.sh must run as root (it installs packages, creates $USER_NAME and writes /etc/sudoers.d)"
res_str user "$USER_NAME"
CHANGED=()
changed() { CHANGED+=("$*"); log "$*"; }

# 1. Packages.
need=()
for t in docker:docker.io nginx:nginx curl:curl sudo:sudo flock:util-linux; do
  if ! command -v "${t%%:*}" >/dev/null 2>&1 && [[ ! -x /usr/sbin/${t%%:*} ]]; then need+=("${t#*:}"); fi
done
if ((${#need[@]})); then
  command -v apt-get >/dev/null 2>&1 || die 16 "missing ${need[*]} and no apt-get: install them by hand"
  log "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >&2 ||
    die 16 "apt-get install ${need[*]} failed (run apt-get update first?)"
  changed "installed ${need[*]}"
fi
find_nginx || die 16 "nginx is still missing after the install"

# 2. The deploy user: only the docker group.
getent group docker >/dev/null || { groupadd --system docker; changed "created group docker"; }
if ! id -u "$USER_NAME" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash --groups docker "$USER_NAME"
  changed "created user $USER_NAME"
fi
if [[ $(id -Gn "$USER_NAME") != "$(id -gn "$USER_NAME") docker" ]]; then
  usermod -G docker "$USER_NAME"
  changed "set $USER_NAME's groups to: docker"
fi

# 3. sudoers: nginx -t and reload, nothing else.
rule="$USER_NAME ALL=(root) NOPASSWD: $(nginx_cmdline -t), $(nginx_cmdline -s reload)"
sudoers=/etc/sudoers.d/fleet-${CFG_APP//./_}
if [[ ! -f $sudoers || $(cat -- "$sudoers") != "$rule" ]]; then
  mk_tmp /etc/sudoers.d .fleet
  printf '%s\n' "$rule" >"$TMP"
  visudo -cqf "$TMP" >/dev/null || die 16 "visudo rejected the rule '$rule'"
  chmod 0440 "$TMP"
  mv -f -- "$TMP" "$sudoers"
  changed "wrote $sudoers"
fi

# 4. Folders.
mkdirs() { # mkdirs MODE OWNER DIR...
  local mode=$1 owner=$2 d
  shift 2
  for d in "$@"; do
    if [[ ! -d $d ]]; then mkdir -p -- "$d"; changed "created $d"; fi
    chown "$owner" "$d"
    chmod "$mode" "$d"
  done
}
mkdirs 0755 "$USER_NAME:$USER_NAME" "$CFG_ROOT_DIR" "$CFG_ROOT_DIR/bin"
mkdirs 0700 "$USER_NAME:$USER_NAME" "$CFG_ROOT_DIR/incoming" "$CFG_STATE_DIR" "$CFG_STATE_DIR/releases"
# node_exporter's textfile folder: a new one is group-writable by the deploy user (sticky: each writer replaces
# only its own files); an existing one keeps its owner and mode, and the deploy user gets write access by ACL.
if [[ -n $CFG_TEXTFILE_DIR ]]; then
  if [[ ! -d $CFG_TEXTFILE_DIR ]]; then
    mkdirs 1775 "root:$USER_NAME" "$CFG_TEXTFILE_DIR"
  elif ! runuser -u "$USER_NAME" -- test -w "$CFG_TEXTFILE_DIR" 2>/dev/null; then
    if command -v setfacl >/dev/null 2>&1 && setfacl -m "u:$USER_NAME:rwx" -- "$CFG_TEXTFILE_DIR"; then
      changed "granted $USER_NAME write access to $CFG_TEXTFILE_DIR (ACL)"
    else
      log "warning: $USER_NAME cannot write to $CFG_TEXTFILE_DIR, so no fleet metrics will be written there;" \
        "grant it: setfacl -m u:$USER_NAME:rwx $CFG_TEXTFILE_DIR (package acl)"
    fi
  fi
fi
if [[ $(dirname -- "$CONFIG") == "$CFG_ROOT_DIR" ]]; then chown root:root "$CONFIG"; chmod 0644 "$CONFIG"; fi

# 5. The upstream file (owned by the deploy user; nginx only reads it).
if [[ ! -f $CFG_UPSTREAM_FILE ]]; then
  mkdir -p -- "$(dirname -- "$CFG_UPSTREAM_FILE")"
  write_atomic "$CFG_UPSTREAM_FILE" 0644 < <(upstream_text "$CFG_PORT_BLUE" blue none)
  changed "wrote $CFG_UPSTREAM_FILE"
fi
chown "$USER_NAME:$USER_NAME" "$CFG_UPSTREAM_FILE"
chmod 0644 "$CFG_UPSTREAM_FILE"

# 6. The site that proxies to the upstream: only on a stock host (Debian's default site enabled);
#    a host with its own sites keeps them, and the message says what to add.
proxy="proxy_pass http://$CFG_UPSTREAM_NAME;"
if [[ -z $CFG_NGINX_CONF ]] && ! grep -rqsF -- "$proxy" /etc/nginx/; then
  site=/etc/nginx/sites-available/fleet-$CFG_APP
  if [[ -L /etc/nginx/sites-enabled/default && -d /etc/nginx/sites-available ]]; then
    port=${CFG_NGINX_URL##*:}
    [[ $port =~ ^[0-9]+$ ]] || port=80
    # shellcheck disable=SC2016 # $host and $proxy_add_x_forwarded_for are nginx variables
    write_atomic "$site" 0644 < <(printf 'server {\n    listen %s default_server;\n    location / {\n        %s\n        proxy_http_version 1.1;\n        proxy_set_header Connection "";\n        proxy_set_header Host $host;\n        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n    }\n}\n' \
      "$port" "$proxy")
    ln -sfn "$site" "/etc/nginx/sites-enabled/fleet-$CFG_APP"
    rm -f /etc/nginx/sites-enabled/default
    changed "enabled the nginx site $site (instead of Debian's default site)"
  else
    log "add to your nginx server block: location / { $proxy proxy_http_version 1.1; proxy_set_header Connection \"\"; }"
  fi
fi

# 7. Check that nginx loads the upstream file, then reload (or start) nginx.
nginx_run -t || die 16 "nginx -t fails: $(last_lines 2 "$NGINX_OUT")"
if nginx_run -T && [[ $NGINX_OUT != *"# configuration file $CFG_UPSTREAM_FILE:"* ]]; then
  die 16 "nginx does not include $CFG_UPSTREAM_FILE: add 'include $CFG_UPSTREAM_FILE;' to the http block of ${CFG_NGINX_CONF:-/etc/nginx/nginx.conf}"
fi
if ! nginx_run -s reload; then
  (umask 022; nginx_run) || die 16 "nginx does not run and does not start: $(last_lines 2 "$NGINX_OUT")"
  changed "started nginx"
fi
out=""
for c in "${CHANGED[@]}"; do out+="${out:+,}$(json_str "$c")"; done
res_raw changed "[$out]"
log "host ready: deploy as $USER_NAME (preflight.sh checks the rights)"
exit 0
