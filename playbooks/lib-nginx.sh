# shellcheck shell=bash
# fleet host library: nginx (found, run through sudo -n when not root), the upstream file fleet owns and
# the switch (rewrite, nginx -t, reload, the old file restored on failure). Sourced by lib.sh.

# --- nginx -----------------------------------------------------------------------------------------
NGINX_BIN=""
NGINX_OUT=""
find_nginx() {
  local c
  for c in "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx /usr/local/sbin/nginx /usr/local/nginx/sbin/nginx; do
    [[ -n $c && -x $c ]] && { NGINX_BIN=$c; return 0; }
  done
  NGINX_BIN=""
  return 1
}

# nginx_run ARGS...: nginx (via sudo -n when not root) with -c NGINX_CONF; output in NGINX_OUT.
nginx_run() {
  local cmd
  [[ -n $NGINX_BIN ]] || find_nginx || { NGINX_OUT="nginx not found"; return 1; }
  cmd=("$NGINX_BIN" "$@")
  [[ -z $CFG_NGINX_CONF ]] || cmd+=(-c "$CFG_NGINX_CONF")
  ((EUID == 0)) || cmd=(sudo -n "${cmd[@]}")
  NGINX_OUT=$("${cmd[@]}" 2>&1 9>&-)
}
nginx_cmdline() { # for messages: the exact command the sudoers rule must allow
  local c="${NGINX_BIN:-/usr/sbin/nginx} $*"
  [[ -z $CFG_NGINX_CONF ]] || c+=" -c $CFG_NGINX_CONF"
  printf '%s' "$c"
}

upstream_port() { # the port the upstream file points at (empty when none)
  local line
  [[ -f $CFG_UPSTREAM_FILE ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ server[[:space:]]+127\.0\.0\.1:([0-9]+) ]]; then
      printf '%s' "${BASH_REMATCH[1]}"
      return 0
    fi
  done <"$CFG_UPSTREAM_FILE"
}
upstream_slot() { port_slot "$(upstream_port)"; }

upstream_text() { # upstream_text PORT SLOT VERSION
  printf '# managed by fleet (%s, slot %s, version %s); fleet rewrites this file on every deploy\n' "$CFG_APP" "$2" "$3"
  printf 'upstream %s {\n    server 127.0.0.1:%s max_fails=3 fail_timeout=30s;\n    keepalive 16;\n}\n' \
    "$CFG_UPSTREAM_NAME" "$1"
}

# put_upstream < content: atomic (temp + mv -f) when the folder is writable; otherwise the file
# is rewritten in place (nginx reads it only on -t/reload, which fleet runs under the host lock).
# Status 1 with WRITE_ERR when it cannot be written (the old file is then left whole, or rewritten
# in place only once the new text is safely in a temp file).
put_upstream() {
  local f=$CFG_UPSTREAM_FILE tmp
  if [[ -w $(dirname -- "$f") ]]; then
    try_write_atomic "$f" 0644
    return
  fi
  tmp=$(mktemp "$CFG_STATE_DIR/.upstream.XXXXXX" 2>/dev/null) || { cat >/dev/null; WRITE_ERR="cannot create a temp file in $CFG_STATE_DIR"; return 1; }
  TMP_FILES+=("$tmp")
  put_file "$tmp" "$f" || { rm -f -- "$tmp"; return 1; }
  put_file "$f" <"$tmp" || { rm -f -- "$tmp"; return 1; }
  rm -f -- "$tmp"
}

# switch_upstream_try PORT SLOT VERSION: rewrite, nginx -t, reload; the old file is restored on failure.
# Status 0 when nginx was reloaded with the new file; otherwise SWITCH_CODE (12: nginx -t failed, 13:
# the reload failed, 21: the file could not be written) and SWITCH_ERR say why. Never exits.
SWITCH_OLD=""
SWITCH_PENDING=0
SWITCH_CODE=0
SWITCH_ERR=""
switch_upstream_try() {
  local old=""
  [[ -f $CFG_UPSTREAM_FILE ]] && old=$(cat -- "$CFG_UPSTREAM_FILE")
  SWITCH_OLD=$old SWITCH_CODE=0 SWITCH_ERR=""
  SWITCH_PENDING=1
  if ! put_upstream < <(upstream_text "$1" "$2" "$3"); then
    SWITCH_PENDING=0 SWITCH_CODE=21
    SWITCH_ERR="the upstream file could not be written ($WRITE_ERR); nginx is unchanged"
    return 1
  fi
  if ! nginx_run -t; then
    SWITCH_PENDING=0 SWITCH_CODE=12
    put_upstream < <(printf '%s\n' "$old") || log "warning: the old upstream file could not be restored: $WRITE_ERR"
    res_str nginx "$NGINX_OUT"
    SWITCH_ERR="nginx -t failed with the new upstream (old file restored): $(last_lines 2 "$NGINX_OUT")"
    return 1
  fi
  if ! nginx_run -s reload; then
    SWITCH_PENDING=0 SWITCH_CODE=13
    SWITCH_ERR="nginx reload failed (old upstream file restored): $(last_lines 2 "$NGINX_OUT"); check that nginx runs and that '$(nginx_cmdline -s reload)' works"
    put_upstream < <(printf '%s\n' "$old") || log "warning: the old upstream file could not be restored: $WRITE_ERR"
    nginx_run -s reload || true
    return 1
  fi
  SWITCH_PENDING=0
}

# switch_upstream PORT SLOT VERSION: switch_upstream_try, exiting with its code on failure.
switch_upstream() {
  switch_upstream_try "$@" || die "$SWITCH_CODE" "$SWITCH_ERR"
}

# switch_abort: an unexpected exit between writing the upstream file and the reload: put the old
# file back (nginx still runs with it).
switch_abort() {
  ((SWITCH_PENDING)) || return 0
  SWITCH_PENDING=0
  put_upstream < <(printf '%s\n' "$SWITCH_OLD") || true
}

# nginx_answers: some HTTP answer (any status: 502 before a first deploy is fine) at NGINX_URL; sets
# PROBE. nginx -t passes when nginx is not running at all: this is what shows that it runs.
nginx_answers() {
  local code
  code=$(curl -s -k -o /dev/null -w '%{http_code}' --connect-timeout 2 --max-time 5 "$CFG_NGINX_URL/" 2>/dev/null) || true
  PROBE=${code:-000}
  [[ $PROBE =~ ^[1-5][0-9][0-9]$ ]]
}
