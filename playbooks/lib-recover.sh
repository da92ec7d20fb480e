# shellcheck shell=bash
# fleet host library: recovery, run under the host lock before every deploy and rollback: make nginx, the
# state files and the containers agree, whatever a killed or failed run left. Sourced by lib-swap.sh.

# recover: make nginx, the state files and the containers agree, whatever a killed run left; then the
# workers (workers_recover). A host without the web process has no nginx part: SERVING stays empty.
recover() {
  if [[ -n $CFG_WEB_PROCESS ]]; then
    recover_web
  else
    SERVING=""
    rm -f -- "$CFG_STATE_DIR"/releases/*/env.attempt.* 2>/dev/null || true
  fi
  workers_recover
}

# recover_web: the web process's part of recover.
# Sets SERVING to the slot that nginx serves with a healthy container (empty when none).
recover_web() {
  local fslot cur cslot other ver img f
  cur=$(state_path current)
  cslot=$(kv_get "$cur" SLOT)
  fslot=$(upstream_slot)
  SERVING=""
  if [[ -n $fslot ]] && slot_healthy "$fslot"; then
    SERVING=$fslot
  else
    for other in "$cslot" blue green; do
      [[ -n $other && $other != "$fslot" ]] || continue
      if slot_healthy "$other"; then SERVING=$other; break; fi
    done
  fi
  if [[ -z $SERVING ]]; then
    rm -f -- "$CFG_STATE_DIR"/releases/*/env.attempt.* 2>/dev/null || true
    log "no healthy release serves on this host yet"
    return 0
  fi
  ver=$(ctr_label "$(container_name "$SERVING")" fleet.version)
  img=$(ctr_label "$(container_name "$SERVING")" fleet.image)
  # A run killed right after its switch: the env copy it started the container with becomes the
  # release's env (matched by the container's fleet.env label). Other attempt copies are dropped.
  for f in "$CFG_STATE_DIR/releases/$ver"/env.attempt.*; do
    if [[ -f $f && $(env_digest "$f") == "$(ctr_label "$(container_name "$SERVING")" fleet.env)" ]]; then
      mv -f -- "$f" "$CFG_STATE_DIR/releases/$ver/env"
    fi
  done
  rm -f -- "$CFG_STATE_DIR"/releases/*/env.attempt.* 2>/dev/null || true
  if ! [[ $SERVING == "$fslot" && $SERVING == "$cslot" && $ver == "$(kv_get "$cur" VERSION)" ]]; then
    log "recovering an interrupted run: nginx file -> ${fslot:-none}, state -> ${cslot:-none}, healthy: $SERVING ($ver)"
    critical_begin
    switch_upstream "$(slot_port "$SERVING")" "$SERVING" "$ver"
    if [[ -n $ver && -n $img ]]; then
      write_current "$SERVING" "$ver" "$img" "$(whoami_str)" "${RUN_ID:-}" recovered
    fi
    critical_end
    history_add "$(json_obj at "$(now_iso)" action recovered version "$ver" slot "$SERVING" run_id "${RUN_ID:-}")"
  fi
  other=$(other_slot "$SERVING")
  if [[ $(ctr_state "$(container_name "$other")") == running ]]; then
    # Left running by a killed run (a half-started release, or the old one not yet stopped).
    log "stopping $(container_name "$other"), which nginx does not serve"
    wait_port_idle "$(slot_port "$other")" 10
    docker stop -t "$CFG_STOP_TIMEOUT" "$(container_name "$other")" >/dev/null 2>&1 || true
  fi
}

# is_current VERSION IMAGE ENVFILE: the release already serves, healthy, with this env.
is_current() {
  local name
  [[ -n $SERVING ]] || return 1
  name=$(container_name "$SERVING")
  [[ $(ctr_label "$name" fleet.version) == "$1" && $(ctr_label "$name" fleet.image) == "$2" ]] || return 1
  [[ -z $3 ]] || cmp -s -- "$3" "$CFG_STATE_DIR/releases/$1/env"
}

# workers_recover (the workers of lib-workers.sh): after a killed run, every worker has one running container:
# the recorded one, or the one on the release current names (a run killed after recording the release, before
# its workers were). Any other running one stops (SIGTERM first: a half-started new worker, or an old one not
# yet stopped); one of a version neither current nor previous names is removed.
workers_recover() {
  local ver prev p rec n st v
  ver=$(kv_get "$(state_path current)" VERSION)
  prev=$(kv_get "$(state_path previous)" VERSION)
  worker_list
  for p in "${WORKER_NAMES[@]}"; do
    rec=$(worker_current "$p")
    for n in "$CFG_APP-$p-a" "$CFG_APP-$p-b"; do
      [[ -n $ver && $n != "$rec" && $(ctr_state "$n") == running && $(ctr_label "$n" fleet.version) == "$ver" ]] || continue
      if [[ -z $rec || $(ctr_state "$rec") != running || $(ctr_label "$rec" fleet.version) != "$ver" ]]; then
        log "recovering worker $p: $n runs $ver, which current names; it becomes the recorded one"
        write_atomic "$(worker_state "$p")" 0600 < <(printf 'CONTAINER=%s\nVERSION=%s\n' "$n" "$ver")
        rec=$n
      fi
    done
    for n in "$CFG_APP-$p-a" "$CFG_APP-$p-b"; do
      [[ $n != "$rec" ]] || continue
      st=$(ctr_state "$n")
      [[ $st != missing ]] || continue
      if [[ $st == running || $st == restarting ]]; then
        worker_conf "$p"
        log "stopping worker $n, left by an interrupted run (SIGTERM, SIGKILL after ${WK_STOP}s)"
        docker stop -t "$WK_STOP" "$n" >/dev/null 2>&1 || true
      fi
      # A version the records do not name (a failed check's new worker, which its restart policy would
      # bring back with dockerd): removed, not only stopped.
      v=$(ctr_label "$n" fleet.version)
      if [[ $v != "$ver" && $v != "$prev" ]]; then
        log "removing worker $n (${v:-no version}), a release the records do not name"
        remove_container "$n"
      fi
    done
  done
}
