# shellcheck shell=bash
# fleet host library: docker, health checks, and who listens on or holds connections to a port. Sourced
# by lib.sh (nginx is in lib-nginx.sh).

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

# docker_answers: the docker daemon answers (at most 10 s).
docker_answers() { command timeout 10 docker version -f '{{.Server.Version}}' >/dev/null 2>&1 9>&-; }

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
  local slot=$1 version=$2 image=$3 envfile=$4 name port out cmd=()
  name=$(container_name "$slot")
  port=$(slot_port "$slot")
  container_args
  # With `processes:`, the web process's command (process-NAME.cmd; empty: the image's own).
  if ((CFG_DECLARED)); then
    read_words "$CFG_ROOT_DIR/process-$CFG_WEB_PROCESS.cmd"
    cmd=("${WORDS[@]}")
  fi
  if ! out=$(docker run -d --name "$name" --restart unless-stopped --network host \
    --label "fleet.app=$CFG_APP" --label "fleet.slot=$slot" --label "fleet.version=$version" \
    --label "fleet.image=$image" --label "fleet.env=$(env_digest "$envfile")" \
    --env-file "$envfile" -e "$CFG_PORT_ENV=$port" "${CONTAINER_ARGS[@]}" \
    "$image:$version" "${cmd[@]}" 2>&1); then
    remove_container "$name"
    res_str container "$name"
    die 18 "docker run $name ($image:$version) failed: $(last_lines 3 "$out")"
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
