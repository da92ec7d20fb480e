# shellcheck shell=bash
# fleet host library, part 4: docker, health checks and nginx. Sourced by lib.sh.

# Children never inherit the host lock's fd 9: when the script is killed, the lock must go with it
# (not linger until a `sleep` or `docker stop` it started has finished).
docker() { command docker "$@" 9>&-; }
curl() { command curl "$@" 9>&-; }
sleep() { command sleep "$@" 9>&-; }

# --- docker ----------------------------------------------------------------------------------------
# Every docker/nginx/curl call captures its output: a dropped SSH connection then never kills a
# child halfway through a write, and nothing lands on stdout but the result line.
ctr_state() { # ctr_state NAME -> running|exited|created|...|missing
  local s
  s=$(docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null) || s=missing
  printf '%s' "${s:-missing}"
}
ctr_label() { docker inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }

# env_digest FILE: a short digest of an env file, kept as the container's fleet.env label so that
# state can be matched to what runs (docker users can read the values themselves anyway).
env_digest() { sha256sum <"$1" | cut -c1-16; }

remove_container() { # remove_container NAME (quietly; fine when missing)
  docker rm -f "$1" >/dev/null 2>&1 || true
}

# container_args: the inventory's container options (ROOT_DIR/container.args, one docker run argument per
# NUL-terminated entry, validated by fleet) into the array CONTAINER_ARGS; none when the file is missing.
container_args() {
  CONTAINER_ARGS=()
  local f=$CFG_ROOT_DIR/container.args
  [[ -f $f ]] || return 0
  mapfile -d '' -t CONTAINER_ARGS <"$f"
}

# start_container SLOT VERSION IMAGE ENVFILE: values reach docker only through --env-file; the container
# options as an argument array, never through a shell.
start_container() {
  local slot=$1 version=$2 image=$3 envfile=$4 name port out
  name=$(container_name "$slot")
  port=$(slot_port "$slot")
  container_args
  if ! out=$(docker run -d --name "$name" --restart unless-stopped --network host \
    --label "fleet.app=$CFG_APP" --label "fleet.slot=$slot" --label "fleet.version=$version" \
    --label "fleet.image=$image" --label "fleet.env=$(env_digest "$envfile")" \
    --env-file "$envfile" -e "$CFG_PORT_ENV=$port" "${CONTAINER_ARGS[@]}" \
    "$image:$version" 2>&1); then
    remove_container "$name"
    res_str container "$name"
    die 18 "docker run $name ($image:$version) failed: $(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
  fi
}

# --- health ----------------------------------------------------------------------------------------
HEALTH_LOG=()
# probe URL: sets PROBE (status code, 000 when no answer) and PROBE_BODY (first 120 bytes).
probe() {
  local out
  out=$(curl -s --connect-timeout 1 --max-time "$CFG_HEALTH_REQUEST_TIMEOUT" -w '\n%{http_code}' "$1" 2>/dev/null) || true
  PROBE=${out##*$'\n'}
  [[ $PROBE =~ ^[0-9]{3}$ ]] || PROBE=000
  PROBE_BODY=""
  [[ $out == *$'\n'* ]] && PROBE_BODY=${out%$'\n'*}
  PROBE_BODY=${PROBE_BODY//$'\n'/ }
  PROBE_BODY=${PROBE_BODY:0:120}
}
health_url() { printf 'http://127.0.0.1:%s%s' "$1" "$CFG_HEALTH_PATH"; }
port_healthy() { probe "$(health_url "$1")"; [[ $PROBE == "$CFG_HEALTH_STATUS" ]]; }

# slot_healthy SLOT: its container runs and answers the health check.
slot_healthy() {
  [[ $(ctr_state "$(container_name "$1")") == running ]] && port_healthy "$(slot_port "$1")"
}

# wait_healthy URL CONTAINER TIMEOUT: 0 when healthy; keeps the last responses in HEALTH_LOG.
wait_healthy() {
  local url=$1 name=$2 deadline=$((SECONDS + $3)) st
  HEALTH_LOG=()
  while :; do
    probe "$url"
    HEALTH_LOG+=("$(date -u +%H:%M:%S) $PROBE ${PROBE_BODY:0:80}")
    ((${#HEALTH_LOG[@]} > 5)) && HEALTH_LOG=("${HEALTH_LOG[@]:1}")
    [[ $PROBE == "$CFG_HEALTH_STATUS" ]] && return 0
    if [[ -n $name ]]; then
      st=$(ctr_state "$name")
      if [[ $st != running && $st != restarting ]]; then
        HEALTH_LOG+=("container $name is $st")
        return 1
      fi
    fi
    ((SECONDS >= deadline)) && return 1
    sleep "$CFG_HEALTH_INTERVAL"
  done
}

# wait_steady URL N MAX: N health answers in a row (0.1 s apart), within MAX seconds.
wait_steady() {
  local url=$1 want=$2 deadline=$((SECONDS + $3)) streak=0
  while ((streak < want)); do
    sleep 0.1
    probe "$url"
    if [[ $PROBE == "$CFG_HEALTH_STATUS" ]]; then
      streak=$((streak + 1))
    else
      streak=0
      HEALTH_LOG+=("$(date -u +%H:%M:%S) $PROBE ${PROBE_BODY:0:80}")
      ((SECONDS >= deadline)) && return 1
    fi
  done
}

health_log_json() {
  local out="" sep="" l
  for l in "${HEALTH_LOG[@]}"; do out+="$sep$(json_str "$l")"; sep=","; done
  printf '[%s]' "$out"
}

# wait_port_idle PORT MAX: wait until no TCP connection to 127.0.0.1:PORT is open (nginx workers
# that still hold requests or keepalive connections to the old slot), at most MAX seconds.
wait_port_idle() {
  local port=$1 deadline=$((SECONDS + $2)) n
  command -v ss >/dev/null 2>&1 || return 0
  while ((SECONDS < deadline)); do
    n=$(ss -Htn state established "( dport = :$port )" 2>/dev/null | wc -l) || n=0
    ((n == 0)) && return 0
    sleep 0.2
  done
  log "connections to port $port still open after $2s; going on"
}

# wait_port_free PORT SECONDS: until nothing listens on 127.0.0.1:PORT (a container being removed may
# hold it a moment). Fails (status 1) if something still does; LISTENER then says what (ss -p, as root).
LISTENER=""
wait_port_free() {
  local port=$1 deadline=$((SECONDS + $2))
  command -v ss >/dev/null 2>&1 || return 0
  while ((SECONDS < deadline)); do
    LISTENER=$(ss -Hltnp "( sport = :$port )" 2>/dev/null | head -n 1) || LISTENER=""
    [[ -z $LISTENER ]] && return 0
    sleep 0.2
  done
  LISTENER=$(printf '%s' "$LISTENER" | tr -s ' ' | head -c 300)
  return 1
}

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
put_upstream() {
  local f=$CFG_UPSTREAM_FILE
  if [[ -w $(dirname -- "$f") ]]; then
    write_atomic "$f" 0644
  else
    mk_tmp "$CFG_STATE_DIR" upstream
    cat >"$TMP"
    cat -- "$TMP" >"$f"
    rm -f -- "$TMP"
  fi
}

# switch_upstream PORT SLOT VERSION: rewrite, nginx -t, reload; restore the old file on failure.
SWITCH_OLD=""
SWITCH_PENDING=0
switch_upstream() {
  local old=""
  [[ -f $CFG_UPSTREAM_FILE ]] && old=$(cat -- "$CFG_UPSTREAM_FILE")
  SWITCH_OLD=$old
  SWITCH_PENDING=1
  upstream_text "$1" "$2" "$3" | put_upstream
  if ! nginx_run -t; then
    SWITCH_PENDING=0
    printf '%s\n' "$old" | put_upstream
    res_str nginx "$NGINX_OUT"
    die 12 "nginx -t failed with the new upstream (old file restored): $(printf '%s' "$NGINX_OUT" | tail -n 2 | tr '\n' ' ')"
  fi
  if ! nginx_run -s reload; then
    SWITCH_PENDING=0
    printf '%s\n' "$old" | put_upstream
    nginx_run -s reload || true
    die 13 "nginx reload failed (old upstream file restored): $(printf '%s' "$NGINX_OUT" | tail -n 2 | tr '\n' ' ')- check that nginx runs and that '$(nginx_cmdline -s reload)' works"
  fi
  SWITCH_PENDING=0
}

# switch_abort: an unexpected exit between writing the upstream file and the reload: put the old
# file back (nginx still runs with it).
switch_abort() {
  ((SWITCH_PENDING)) || return 0
  SWITCH_PENDING=0
  printf '%s\n' "$SWITCH_OLD" | put_upstream || true
}
