# shellcheck shell=bash
# fleet host library: the app's workers (WORKERS in fleet.conf, the processes with `role: worker` on this
# host). Each worker P runs as APP-P-a or APP-P-b: a release starts the new container under the other name,
# checks it, and only once every process of the host is on the release stops the old one (SIGTERM, then
# SIGKILL after its stop timeout). STATE_DIR/worker-P records P's current container and version. Sourced by
# lib-swap.sh. Per worker, fleet installs beside fleet.conf (NUL-terminated words): process-P.args (docker run
# options), process-P.cmd (the command after the image), process-P.conf (stop timeout, check kind, seconds,
# check command).

WORKERS_NEW=()      # "P NAME" of the containers this run started, removed on failure until committed
WORKERS_OLD=()      # "P NAME" of the containers the committed ones replace
WORKERS_COMMITTED=0 # the new ones are recorded as current
WORKERS_KEEP=0      # the release is recorded: a new worker is never removed any more (recovery adopts it)

worker_list() { # worker_list -> WORKER_NAMES (from CFG_WORKERS)
  WORKER_NAMES=()
  [[ -z $CFG_WORKERS ]] || IFS=, read -r -a WORKER_NAMES <<<"$CFG_WORKERS"
}
worker_state() { state_path "worker-$1"; }
worker_current() { kv_get "$(worker_state "$1")" CONTAINER; }
worker_other() { # worker_other P CURRENT-NAME: the name the next container of P gets
  if [[ $2 == "$CFG_APP-$1-a" ]]; then printf '%s-%s-b' "$CFG_APP" "$1"; else printf '%s-%s-a' "$CFG_APP" "$1"; fi
}

# read_words FILE: the NUL-terminated words of FILE into WORDS (none when the file is missing).
read_words() {
  WORDS=()
  [[ -f $1 ]] || return 0
  mapfile -d '' -t WORDS <"$1"
}

# worker_conf P: WK_STOP, WK_CHECK (running_for|command), WK_SECONDS, WK_CHECK_CMD (array).
worker_conf() {
  read_words "$CFG_ROOT_DIR/process-$1.conf"
  ((${#WORDS[@]} >= 3)) || die 2 "$CFG_ROOT_DIR/process-$1.conf is missing or short: fleet installs it with fleet.conf (deploy through fleet)"
  WK_STOP=${WORDS[0]} WK_CHECK=${WORDS[1]} WK_SECONDS=${WORDS[2]} WK_CHECK_CMD=("${WORDS[@]:3}")
  [[ $WK_STOP =~ ^[0-9]{1,4}$ && $WK_SECONDS =~ ^[1-9][0-9]{0,3}$ ]] ||
    die 2 "$CFG_ROOT_DIR/process-$1.conf: expected whole seconds, found '$WK_STOP' and '$WK_SECONDS'"
  [[ $WK_CHECK == running_for || ($WK_CHECK == command && ${#WK_CHECK_CMD[@]} -gt 0) ]] ||
    die 2 "$CFG_ROOT_DIR/process-$1.conf: unknown check '$WK_CHECK'"
}

# worker_is_current P VERSION IMAGE: P's recorded container runs VERSION of IMAGE with the release's env.
worker_is_current() {
  local name
  name=$(worker_current "$1")
  [[ -n $name && $(ctr_state "$name") == running ]] || return 1
  [[ $(ctr_label "$name" fleet.version) == "$2" && $(ctr_label "$name" fleet.image) == "$3" ]] || return 1
  [[ ! -f $CFG_STATE_DIR/releases/$2/env || $(ctr_label "$name" fleet.env) == "$(env_digest "$CFG_STATE_DIR/releases/$2/env")" ]]
}

workers_current() { # workers_current VERSION IMAGE: every worker of this host is on it
  local p
  worker_list
  for p in "${WORKER_NAMES[@]}"; do worker_is_current "$p" "$1" "$2" || return 1; done
}

# start_worker P VERSION IMAGE ENVFILE NAME: values reach docker only through --env-file; options and
# command as argument arrays, never through a shell.
start_worker() {
  local p=$1 version=$2 image=$3 envfile=$4 name=$5 out args cmd
  read_words "$CFG_ROOT_DIR/process-$p.args"
  args=("${WORDS[@]}")
  read_words "$CFG_ROOT_DIR/process-$p.cmd"
  cmd=("${WORDS[@]}")
  if ! out=$(docker run -d --name "$name" --restart unless-stopped --network host \
    --label "fleet.app=$CFG_APP" --label "fleet.process=$p" --label "fleet.version=$version" \
    --label "fleet.image=$image" --label "fleet.env=$(env_digest "$envfile")" \
    --env-file "$envfile" "${args[@]}" "$image:$version" "${cmd[@]}" 2>&1); then
    res_str container "$name"
    die 18 "docker run $name ($image:$version) failed: $(last_lines 3 "$out")"
  fi
}

# worker_check NAME STARTED: the check of the worker whose conf worker_conf read; status 1 with WK_WHY (and
# WK_DOCKERD=0 when dockerd does not answer).
worker_check() {
  local name=$1 deadline=$(($2 + WK_SECONDS)) st left status restarts code
  WK_WHY="" WK_DOCKERD=1
  while :; do
    if ! st=$(docker inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' "$name" 2>/dev/null); then
      # Missing, or docker itself is gone (dockerd died): say which, the cause first.
      if docker_answers; then
        WK_WHY="its container is gone (removed while it was being checked)"
      else
        WK_DOCKERD=0
        WK_WHY="dockerd is not answering (docker version failed within 10s), so $name cannot be checked: start dockerd again (systemctl start docker; see journalctl -u docker), then deploy again"
      fi
      return 1
    fi
    read -r status restarts code <<<"$st"
    if [[ $status != running || $restarts != 0 ]]; then
      WK_WHY="it is $status after $restarts restart(s), last exit code $code"
      return 1
    fi
    left=$((deadline - SECONDS))
    if [[ $WK_CHECK == command ]]; then
      ((left > 0)) || left=1
      if command timeout "$left" docker exec "$name" "${WK_CHECK_CMD[@]}" >/dev/null 2>&1 9>&-; then return 0; fi
      if ((SECONDS >= deadline)); then
        WK_WHY="docker exec $name ${WK_CHECK_CMD[*]} did not exit 0 within ${WK_SECONDS}s"
        return 1
      fi
    elif ((left <= 0)); then
      return 0
    fi
    sleep 1
  done
}

# workers_start VERSION IMAGE ENVFILE: start the new container of every worker not on VERSION yet, then check
# them all; the old ones are untouched. A failed check: every new one is removed (on_cleanup), exit 23.
workers_start() {
  local version=$1 image=$2 envfile=$3 p cur name i logs l removed
  local -a started=()
  worker_list
  WORKERS_NEW=() WORKERS_OLD=() WORKERS_COMMITTED=0
  for p in "${WORKER_NAMES[@]}"; do
    worker_is_current "$p" "$version" "$image" && continue
    worker_conf "$p"
    cur=$(worker_current "$p")
    name=$(worker_other "$p" "$cur")
    remove_container "$name"
    log "starting worker $name ($image:$version)"
    WORKERS_NEW+=("$p $name")
    [[ -z $cur ]] || WORKERS_OLD+=("$p $cur")
    start_worker "$p" "$version" "$image" "$envfile" "$name"
    started+=("$SECONDS")
  done
  for i in "${!WORKERS_NEW[@]}"; do
    p=${WORKERS_NEW[i]%% *} name=${WORKERS_NEW[i]#* }
    worker_conf "$p"
    if ! worker_check "$name" "${started[i]}"; then
      logs=$(docker logs --tail 20 "$name" 2>&1 | head -c 4000) || true
      log "last log lines of $name:"
      while IFS= read -r l; do log "  | $l"; done <<<"$logs"
      res_str process "$p"
      res_str logs "$logs"
      removed="the new worker containers were removed"
      ((WK_DOCKERD)) || removed="the new worker containers (${WORKERS_NEW[*]#* }) could not be removed while docker does not answer: once dockerd is back, deploy again (it replaces them) or docker rm -f them,"
      die 23 "worker $p: $name ($image:$version) failed its check ($WK_CHECK ${WK_SECONDS}s): $WK_WHY; $removed and every process of this host stays on its previous release"
    fi
    log "worker $name passed its check"
  done
}

# workers_abort: on a failure before the commit, remove the containers this run started.
workers_abort() {
  local e
  ((WORKERS_COMMITTED == 0 && WORKERS_KEEP == 0)) || return 0
  for e in "${WORKERS_NEW[@]}"; do
    log "removing the new worker container ${e#* }"
    remove_container "${e#* }"
  done
  WORKERS_NEW=()
}

# workers_commit VERSION: the new containers become current; then the old ones stop (in parallel, each with
# SIGTERM and its stop timeout before SIGKILL); workers no longer on this host stop too.
workers_commit() {
  local version=$1 e p f pid
  local -a pids=()
  for e in "${WORKERS_NEW[@]}"; do
    p=${e%% *}
    write_atomic "$(worker_state "$p")" 0600 < <(printf 'CONTAINER=%s\nVERSION=%s\n' "${e#* }" "$version")
  done
  WORKERS_COMMITTED=1
  worker_list
  # Also when the inventory no longer declares `processes:` at all (CFG_WORKERS is then empty): every worker
  # recorded here is one this host should no longer run.
  for f in "$CFG_STATE_DIR"/worker-*; do
    [[ -f $f ]] || continue
    p=${f##*/worker-}
    [[ ,$CFG_WORKERS, == *",$p,"* ]] && continue
    WORKERS_OLD+=("$p $(kv_get "$f" CONTAINER)")
    rm -f -- "$f"
  done
  for e in "${WORKERS_OLD[@]}"; do
    p=${e%% *}
    [[ -n ${e#* } && $(ctr_state "${e#* }") == running ]] || continue
    WK_STOP=$CFG_STOP_TIMEOUT
    [[ ! -f $CFG_ROOT_DIR/process-$p.conf ]] || worker_conf "$p"
    log "stopping the old worker ${e#* } (SIGTERM, SIGKILL after ${WK_STOP}s)"
    docker stop -t "$WK_STOP" "${e#* }" >/dev/null 2>&1 &
    pids+=("$!")
  done
  ((${#pids[@]} == 0)) || test_pause workers-stopping
  # A signal interrupts wait (status > 128): wait again until each docker stop is done.
  for pid in "${pids[@]}"; do
    while :; do
      wait "$pid" && break
      (($? > 128)) && kill -0 "$pid" 2>/dev/null && continue
      log "docker stop of an old worker failed"
      break
    done
  done
  WORKERS_NEW=() WORKERS_OLD=()
}

# workers_json: the workers of this host for status: [{"process","container","state","version"}...].
workers_json() {
  local out="" p n
  worker_list
  for p in "${WORKER_NAMES[@]}"; do
    n=$(worker_current "$p")
    out+="${out:+,}$(json_obj process "$p" container "$n" state "$(if [[ -n $n ]]; then ctr_state "$n"; else printf missing; fi)" \
      version "$(if [[ -n $n ]]; then ctr_label "$n" fleet.version; fi)")"
  done
  printf '[%s]' "$out"
}
