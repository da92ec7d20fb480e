# shellcheck shell=bash
# fleet host library, part 5: recovery, the blue/green swap, recording and pruning.
# Sourced by deploy.sh and rollback.sh after lib.sh, with the host lock held.

STARTED_CONTAINER=""   # a container this run started and has not handed to nginx yet
SERVING=""             # the slot nginx serves (after recover)

# on_cleanup CODE: remove a half-started container (never one that nginx serves).
on_cleanup() {
  local code=$1
  switch_abort
  if [[ -n $STARTED_CONTAINER ]]; then
    log "removing the half-started container $STARTED_CONTAINER"
    remove_container "$STARTED_CONTAINER"
  fi
  if [[ -n ${ATTEMPT_ENV:-} ]]; then rm -f -- "$ATTEMPT_ENV"; fi
  if [[ -n ${REL_DIR:-} && -d $REL_DIR ]]; then rmdir -- "$REL_DIR" 2>/dev/null || true; fi
  if ((${HOST_LOCKED:-0} && code != 0)); then
    history_add "$(json_obj at "$(now_iso)" action "$SCRIPT_NAME" version "${VERSION:-${TARGET:-}}" \
      result failed code "$code" run_id "${RUN_ID:-}")" 2>/dev/null || true
  fi
  host_unlock
}

ensure_state_dirs() {
  local d
  for d in "$CFG_STATE_DIR" "$CFG_STATE_DIR/releases"; do
    [[ -d $d ]] || mkdir -p -- "$d" 2>/dev/null ||
      die 16 "cannot create $d: run setup.sh on this host, or create it owned by $(id -un)"
    [[ -w $d ]] || die 16 "$d is not writable by $(id -un): run setup.sh, or chown it to $(id -un)"
  done
}

# write_current SLOT VERSION IMAGE BY RUN_ID ACTION: the old current becomes previous when it
# holds another release. Both files are replaced atomically (previous first).
write_current() {
  local cur prev
  cur=$(state_path current)
  prev=$(state_path previous)
  if [[ -f $cur && $(kv_get "$cur" VERSION) != "$2" ]]; then write_atomic "$prev" 0600 <"$cur"; fi
  release_kv "$1" "$2" "$3" "$(slot_port "$1")" "$4" "$5" "$6" | write_atomic "$cur" 0600
  mkdir -p -- "$CFG_STATE_DIR/releases/$2"
  printf 'VERSION=%s\nIMAGE=%s\nDEPLOYED_EPOCH=%s\nDEPLOYED_AT=%s\nDEPLOYED_BY=%s\n' "$2" "$3" \
    "$(date +%s)" "$(now_iso)" "$4" | write_atomic "$CFG_STATE_DIR/releases/$2/release" 0600
}

# promote_env VERSION: the attempt's env copy becomes the release's env (before it is recorded, so a
# signal or a kill after the switch never leaves the current release without its env).
promote_env() {
  [[ -n ${ATTEMPT_ENV:-} && -f $ATTEMPT_ENV ]] || return 0
  mv -f -- "$ATTEMPT_ENV" "$CFG_STATE_DIR/releases/$1/env"
  ATTEMPT_ENV=""
}

# recover: make nginx, the state files and the containers agree, whatever a killed run left.
# Sets SERVING to the slot that nginx serves with a healthy container (empty when none).
recover() {
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

# swap_release VERSION IMAGE ENVFILE ACTION BY: start on the idle slot, health, switch, drain, stop.
swap_release() {
  local version=$1 image=$2 envfile=$3 action=$4 by=$5
  local old=$SERVING new new_port name old_name="" old_ver="" logs t_run t_started t_healthy t_switched t_stopped
  if [[ -n $old ]]; then
    new=$(other_slot "$old")
    old_name=$(container_name "$old")
    old_ver=$(ctr_label "$old_name" fleet.version)
  else
    new=blue
    [[ $(upstream_slot) == blue ]] && new=green
  fi
  new_port=$(slot_port "$new")
  name=$(container_name "$new")
  res_str slot "$new"
  res_str previous "$old_ver"
  if [[ $(ctr_state "$name") != missing ]]; then
    # The idle slot holds the stopped previous release (or a leftover): replace it. Nginx
    # workers of an earlier switch may still finish requests there, so let them end first.
    wait_port_idle "$new_port" 10
    remove_container "$name"
  fi
  # A health check must never be answered by something else on the idle port (nginx would switch to it).
  wait_port_free "$new_port" 10 ||
    die 18 "port $new_port of the $new slot is taken by another process ($LISTENER), so $name could not listen there; ${old_ver:-nothing} keeps serving - stop that process, or give the slots other ports (container.ports in the inventory)"
  t_run=$(now_ms)
  log "starting $name ($image:$version) on port $new_port"
  STARTED_CONTAINER=$name
  start_container "$new" "$version" "$image" "$envfile"
  t_started=$(now_ms)
  if ! wait_healthy "$(health_url "$new_port")" "$name" "$CFG_HEALTH_TIMEOUT"; then
    logs=$(docker logs --tail 20 "$name" 2>&1 | head -c 4000) || true
    log "$name never became healthy within ${CFG_HEALTH_TIMEOUT}s; last health responses:"
    local l
    for l in "${HEALTH_LOG[@]}"; do log "  $l"; done
    log "last log lines of $name:"
    while IFS= read -r l; do log "  | $l"; done <<<"$logs"
    res_raw health "$(health_log_json)"
    res_str logs "$logs"
    die 11 "$name ($image:$version) never answered $CFG_HEALTH_PATH with $CFG_HEALTH_STATUS on port $new_port within ${CFG_HEALTH_TIMEOUT}s (removed; ${old_ver:-nothing} keeps serving) - see the responses and logs above"
  fi
  t_healthy=$(now_ms)
  critical_begin
  log "switching nginx to $new (port $new_port)"
  switch_upstream "$new_port" "$new" "$version"
  t_switched=$(now_ms)
  # Healthy through nginx, then 3 times more in a row: an old nginx worker may accept a connection or two
  # with the old upstream for a moment after the reload.
  if ! wait_healthy "$CFG_NGINX_URL$CFG_HEALTH_PATH" "" "$CFG_HEALTH_TIMEOUT" ||
    ! wait_steady "$CFG_NGINX_URL$CFG_HEALTH_PATH" 3 "$CFG_HEALTH_TIMEOUT"; then
    res_raw health "$(health_log_json)"
    if [[ -n $old ]] && [[ $(ctr_state "$old_name") == running ]]; then
      switch_upstream "$(slot_port "$old")" "$old" "$old_ver"
      wait_port_idle "$new_port" $((CFG_DRAIN_SECONDS + 10))
    fi
    remove_container "$name"
    STARTED_CONTAINER=""
    die 14 "health through nginx ($CFG_NGINX_URL$CFG_HEALTH_PATH) failed after the switch to $version; switched back to ${old_ver:-nothing} - check the nginx server block that proxies to $CFG_UPSTREAM_NAME"
  fi
  promote_env "$version"
  write_current "$new" "$version" "$image" "$by" "${RUN_ID:-}" "$action"
  STARTED_CONTAINER=""
  if [[ -n $old ]]; then
    log "draining $old_name (${CFG_DRAIN_SECONDS}s, then until nginx holds no connection to it)"
    sleep "$CFG_DRAIN_SECONDS"
    wait_port_idle "$(slot_port "$old")" 30
    docker stop -t "$CFG_STOP_TIMEOUT" "$old_name" >/dev/null 2>&1 || log "docker stop $old_name failed; it is not served any more"
  fi
  t_stopped=$(now_ms)
  critical_end
  history_add "$(json_obj at "$(now_iso)" action "$action" version "$version" previous "$old_ver" slot "$new" \
    by "$by" run_id "${RUN_ID:-}" swap_ms "$((t_stopped - t_started))")"
  res_raw timings "$(json_obj run_ms "$t_run" started_ms "$t_started" healthy_ms "$t_healthy" \
    switched_ms "$t_switched" stopped_ms "$t_stopped" swap_ms "$((t_stopped - t_started))")"
  write_metrics "$version" "$new" "$((t_stopped - t_started))"
  prune_releases
}

# prune_releases: keep the KEEP_RELEASES most recently deployed; never current or previous.
prune_releases() {
  local cur prev d v n=0 img id
  cur=$(kv_get "$(state_path current)" VERSION)
  prev=$(kv_get "$(state_path previous)" VERSION)
  while read -r _ d; do
    v=$(basename -- "$d")
    n=$((n + 1))
    ((n > CFG_KEEP_RELEASES)) || continue
    [[ $v == "$cur" || $v == "$prev" ]] && continue
    valid_version "$v" || continue
    img=$(kv_get "$d/release" IMAGE)
    while read -r id; do
      [[ -n $id ]] && { docker rm -f "$id" >/dev/null 2>&1 || true; }
    done < <(docker ps -aq --filter "label=fleet.app=$CFG_APP" --filter "label=fleet.version=$v" 2>/dev/null || true)
    [[ -n $img ]] && { docker rmi "$img:$v" >/dev/null 2>&1 || true; }
    rm -f -- "$(pulled_record "$v")"
    rm -rf -- "${CFG_STATE_DIR:?}/releases/$v"
    log "pruned release $v"
  done < <(for d in "$CFG_STATE_DIR"/releases/*; do
    [[ -f $d/release ]] && printf '%s %s\n' "$(kv_get "$d/release" DEPLOYED_EPOCH)" "$d"
  done | sort -rn)
  # Pull records of versions never deployed here (a failed deploy's), once a day old.
  for d in "$CFG_STATE_DIR"/pulled/*; do
    v=$(basename -- "$d")
    if [[ -f $d && ! -d $CFG_STATE_DIR/releases/$v && -n $(find "$d" -maxdepth 0 -mmin +1440 2>/dev/null) ]]; then
      rm -f -- "$d"
    fi
  done
}

# write_metrics VERSION SLOT SWAP_MS: a node_exporter textfile when TEXTFILE_DIR is set.
write_metrics() {
  [[ -n $CFG_TEXTFILE_DIR && -d $CFG_TEXTFILE_DIR && -w $CFG_TEXTFILE_DIR ]] || return 0
  printf 'fleet_release_info{app="%s",version="%s",slot="%s"} 1\nfleet_last_deploy_timestamp_seconds{app="%s"} %s\nfleet_swap_seconds{app="%s"} %s\n' \
    "$CFG_APP" "$1" "$2" "$CFG_APP" "$(date +%s)" "$CFG_APP" "$(awk -v m="$3" 'BEGIN{printf "%.3f", m/1000}')" |
    write_atomic "$CFG_TEXTFILE_DIR/fleet_$CFG_APP.prom" 0644
}
