# shellcheck shell=bash
# fleet host library: the blue/green swap, and what happens when something fails after the switch.
# Sourced by deploy.sh and rollback.sh after lib.sh, with the host lock held; it sources lib-release.sh
# (the release records, pruning, metrics), lib-recover.sh (what a killed run left) and lib-switch.sh (every
# process of the host onto a release).
# shellcheck source=lib-release.sh
. "$LIB_DIR/lib-release.sh"
# shellcheck source=lib-recover.sh
. "$LIB_DIR/lib-recover.sh"
# shellcheck source=lib-switch.sh
. "$LIB_DIR/lib-switch.sh"

SERVING=""   # the slot nginx serves (after recover)
# The swap in progress: its phase ("": none or done; started: the new container runs, not served;
# switched: nginx serves it, not recorded yet; kept: left as it is after a failure that could not be
# undone), the slots, names and versions.
SWAP_PHASE="" SWAP_VERSION="" SWAP_NEW="" SWAP_NAME="" SWAP_OLD="" SWAP_OLD_NAME="" SWAP_OLD_VER=""

# on_cleanup CODE: remove a half-started container, never one that nginx serves.
on_cleanup() {
  local code=$1
  switch_abort
  # New workers go unless the release is recorded or nginx serves its web container (recovery keeps them).
  [[ $SWAP_PHASE == switched || $SWAP_PHASE == kept ]] || workers_abort
  case $SWAP_PHASE in
    started)
      log "removing the half-started container $SWAP_NAME"
      remove_container "$SWAP_NAME" ;;
    switched)
      # An exit nobody planned for, after the switch: nginx serves the new container, so it stays; the
      # next deploy or rollback records it (recovery), or switches to the healthy slot.
      res_str phase switched
      promote_env "$SWAP_VERSION" 2>/dev/null || true
      log "stopped after the switch: nginx serves $SWAP_NAME ($SWAP_VERSION), which is not recorded as current; it keeps serving; the next deploy or rollback repairs the records" ;;
  esac
  if [[ -n ${ATTEMPT_ENV:-} ]]; then rm -f -- "$ATTEMPT_ENV"; fi
  if [[ -n ${REL_DIR:-} && -d $REL_DIR ]]; then rmdir -- "$REL_DIR" 2>/dev/null || true; fi
  if ((${HOST_LOCKED:-0} && code != 0)); then
    history_add "$(json_obj at "$(now_iso)" action "$SCRIPT_NAME" version "${VERSION:-${TARGET:-}}" \
      result failed code "$code" run_id "${RUN_ID:-}")"
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

# swap_release VERSION IMAGE ENVFILE ACTION BY: start on the idle slot, health, switch, record, drain, stop.
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
  SWAP_VERSION=$version SWAP_NEW=$new SWAP_NAME=$name SWAP_OLD=$old SWAP_OLD_NAME=$old_name SWAP_OLD_VER=$old_ver
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
  SWAP_PHASE=started
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
  test_pause web-started
  critical_begin
  log "switching nginx to $new (port $new_port)"
  # A failed nginx -t or reload restores the old file: nginx still serves the old release (12, 13).
  switch_upstream "$new_port" "$new" "$version"
  SWAP_PHASE=switched
  t_switched=$(now_ms)
  test_pause web-switched
  # Healthy through nginx, then 3 times more in a row: an old nginx worker may accept a connection or two
  # with the old upstream for a moment after the reload.
  if ! wait_healthy "$CFG_NGINX_URL$CFG_HEALTH_PATH" "" "$CFG_HEALTH_TIMEOUT" ||
    ! wait_steady "$CFG_NGINX_URL$CFG_HEALTH_PATH" 3 "$CFG_HEALTH_TIMEOUT"; then
    res_raw health "$(health_log_json)"
    after_switch_failed 14 "health through nginx ($CFG_NGINX_URL$CFG_HEALTH_PATH) failed after the switch to $version" \
      "check the nginx server block that proxies to $CFG_UPSTREAM_NAME"
  fi
  promote_env "$version"
  if ! record_release "$new" "$version" "$image" "$by" "${RUN_ID:-}" "$action"; then
    after_switch_failed 21 "$version served healthy after the switch, but could not be recorded as current: $WRITE_ERR" \
      "free space in $CFG_STATE_DIR (df -h $CFG_STATE_DIR; pre-flight wants 32 MiB there), then deploy again"
  fi
  SWAP_PHASE=""
  no_return_begin # the old generation (web and workers) stops now whatever comes (no_return_end)
  # shellcheck disable=SC2034 # read by workers_abort (lib-workers.sh)
  WORKERS_KEEP=1
  test_pause recorded
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

# after_switch_failed CODE WHY HINT: something failed once nginx served the new container. Switch back
# to the old release and check it through nginx: then the new container goes and the exit is CODE
# (14: health through nginx, 21: the records could not be written). When the switch back cannot
# happen (no old release, its container is gone, docker or nginx does not answer, or it is not healthy
# either): exit 20, saying so and what nginx points at now; the container nginx serves is never removed.
# The next deploy or rollback repairs the host (recovery).
after_switch_failed() {
  local code=$1 why=$2 hint=$3
  if undo_switch; then
    # As after any switch: nginx workers of the generation before the reload may still take a request
    # for the new container for a moment; drain before it goes.
    sleep "$CFG_DRAIN_SECONDS"
    wait_port_idle "$(slot_port "$SWAP_NEW")" $((CFG_DRAIN_SECONDS + 10))
    remove_container "$SWAP_NAME"
    drop_unrecorded_env "$SWAP_VERSION"
    SWAP_PHASE=""
    res_raw switched_back true
    die "$code" "$why; switched back to $SWAP_OLD_VER, which serves healthy through nginx - $hint"
  fi
  SWAP_PHASE=kept
  # nginx still serves the new container: its env copy stays with it (recovery records it).
  [[ $UNDO_SWITCHED == true ]] || promote_env "$SWAP_VERSION"
  res_raw switched_back "$UNDO_SWITCHED"
  res_str serving_slot "$(upstream_slot)"
  die 20 "$why; the switch back could not happen: $UNDO_NOTE - see 'fleet status' for this host; the next deploy or rollback repairs it (its recovery step), once the cause is fixed ($hint)"
}

# undo_switch: nginx back to the old slot, checked through nginx. Status 1 with UNDO_NOTE saying why
# not (UNDO_SWITCHED=true when nginx was switched back all the same). When docker does not answer,
# nginx is switched back without a check: neither container runs then, and when docker is back it
# restarts both (restart policy), so nginx must name the release that current names.
UNDO_NOTE="" UNDO_SWITCHED=false
undo_switch() {
  local st
  UNDO_SWITCHED=false
  if [[ -z $SWAP_OLD ]]; then
    UNDO_NOTE="no release served on this host before; nginx points at $SWAP_NAME ($SWAP_VERSION), kept"
    return 1
  fi
  st=$(ctr_state "$SWAP_OLD_NAME")
  if [[ $st != running ]]; then
    if docker_answers; then
      UNDO_NOTE="$SWAP_OLD_NAME ($SWAP_OLD_VER) is $st, not running; nginx points at $SWAP_NAME ($SWAP_VERSION), kept"
      return 1
    fi
    st=down
  fi
  log "switching nginx back to $SWAP_OLD ($SWAP_OLD_NAME, $SWAP_OLD_VER)"
  if ! switch_upstream_try "$(slot_port "$SWAP_OLD")" "$SWAP_OLD" "$SWAP_OLD_VER"; then
    if [[ $SWITCH_CODE == 13 ]] && ! nginx_answers &&
      put_upstream < <(upstream_text "$(slot_port "$SWAP_OLD")" "$SWAP_OLD" "$SWAP_OLD_VER"); then
      # nginx does not run: nothing to reload, but its file names the old slot again, which current
      # names, so nginx serves the old release when it starts.
      UNDO_SWITCHED=true
      UNDO_NOTE="nginx does not answer at $CFG_NGINX_URL (its reload failed); its upstream file names $SWAP_OLD_NAME ($SWAP_OLD_VER) again, which current names, so it serves $SWAP_OLD_VER once started"
      return 1
    fi
    UNDO_NOTE="$SWITCH_ERR; nginx points at $SWAP_NAME ($SWAP_VERSION), kept"
    return 1
  fi
  UNDO_SWITCHED=true
  if [[ $st == down ]]; then
    UNDO_NOTE="docker does not answer, so neither $SWAP_OLD_NAME nor $SWAP_NAME runs now; nginx points at $SWAP_OLD_NAME ($SWAP_OLD_VER) again, which current names: when docker is back it restarts both and nginx serves $SWAP_OLD_VER (the next deploy or rollback stops $SWAP_NAME)"
    return 1
  fi
  if ! wait_healthy "$CFG_NGINX_URL$CFG_HEALTH_PATH" "$SWAP_OLD_NAME" "$CFG_HEALTH_TIMEOUT"; then
    UNDO_NOTE="nginx points at $SWAP_OLD_NAME ($SWAP_OLD_VER) again, but it does not answer $CFG_HEALTH_PATH through nginx either"
    return 1
  fi
}
