# shellcheck shell=bash
# fleet host library: every process of this host onto a release (deploy and rollback), and a host's processes
# matched to its inventory: the web swap (lib-swap.sh) and the workers (lib-workers.sh) together; the old
# generation stops even when the controller goes away once the release is recorded; a host that no longer
# runs the web process loses its web containers. Sourced by lib-swap.sh.

# host_is_current VERSION IMAGE ENVFILE: every process of this host runs the release (ENVFILE "": any env).
host_is_current() {
  if [[ -n $CFG_WEB_PROCESS ]]; then
    is_current "$@" || return 1
  else
    [[ $(kv_get "$(state_path current)" VERSION) == "$1" && $(kv_get "$(state_path current)" IMAGE) == "$2" ]] || return 1
    [[ -z $3 ]] || cmp -s -- "$3" "$CFG_STATE_DIR/releases/$1/env" || return 1
  fi
  workers_current "$1" "$2"
}

# switch_to VERSION IMAGE ENVFILE ACTION BY: every process of this host onto VERSION (deploy and rollback): the
# new workers start and pass their checks, then the web swap (lib-swap.sh; without a web process, the release
# record), then the old workers stop. From the record on (the point of no return) a hang-up or a broken pipe
# waits until the old generation is stopped: a controller that goes away never leaves two generations.
switch_to() {
  test_pause workers-start
  workers_start "$1" "$2" "$3"
  test_pause workers-checked
  if [[ -n $CFG_WEB_PROCESS ]]; then
    swap_release "$@"
  else
    workers_release "$1" "$2" "$4" "$5"
  fi
  processes_settle "$1"
  no_return_end
}

# processes_settle VERSION: the old workers stop (and those the inventory no longer names on this host); a
# host without the web process loses its web containers (web_retire).
processes_settle() {
  workers_commit "$1"
  web_retire
}

# workers_release VERSION IMAGE ACTION BY: a host without the web process records the release its workers
# now run (no nginx, no slot), as swap_release does for the web.
workers_release() {
  local version=$1 image=$2 action=$3 by=$4 old_ver
  old_ver=$(kv_get "$(state_path current)" VERSION)
  [[ $old_ver != "$version" ]] || old_ver=$(kv_get "$(state_path previous)" VERSION)
  res_str previous "$old_ver"
  critical_begin
  promote_env "$version"
  write_current "" "$version" "$image" "$by" "${RUN_ID:-}" "$action"
  no_return_begin
  # shellcheck disable=SC2034 # read by workers_abort (lib-workers.sh)
  WORKERS_KEEP=1
  critical_end
  test_pause recorded
  history_add "$(json_obj at "$(now_iso)" action "$action" version "$version" previous "$old_ver" \
    workers "$CFG_WORKERS" by "$by" run_id "${RUN_ID:-}")"
}

# web_retire: on a host whose inventory no longer gives it the web process, fleet's upstream file for the
# app goes (nginx -t, reload; put back when nginx's own config still proxies to it), then the app's blue and
# green containers stop and are removed. The result says so: web_removed (containers), web_upstream.
web_retire() {
  local slot name saved cur note=absent gone=""
  [[ -z $CFG_WEB_PROCESS ]] || return 0
  if [[ -f $CFG_UPSTREAM_FILE ]]; then
    saved=$(cat -- "$CFG_UPSTREAM_FILE")
    note=removed
    if ! rm -f -- "$CFG_UPSTREAM_FILE" 2>/dev/null; then
      note="kept: it cannot be removed by $(id -un)"
    elif ! nginx_run -t; then
      put_upstream < <(printf '%s\n' "$saved") || log "warning: the upstream file could not be restored: $WRITE_ERR"
      note="kept: nginx -t fails without it ($(last_lines 2 "$NGINX_OUT")); remove what proxies to $CFG_UPSTREAM_NAME from nginx's config"
    elif ! nginx_run -s reload; then
      note="removed, but nginx did not reload ($(last_lines 1 "$NGINX_OUT"))"
    fi
    log "this host no longer runs the web process: fleet's upstream file $CFG_UPSTREAM_FILE $note"
  fi
  for slot in blue green; do
    name=$(container_name "$slot")
    [[ $(ctr_state "$name") != missing ]] || continue
    log "this host no longer runs the web process: stopping and removing $name"
    docker stop -t "$CFG_STOP_TIMEOUT" "$name" >/dev/null 2>&1 || true
    remove_container "$name"
    gone+="${gone:+,}$(json_str "$name")"
  done
  # The records name no web container on this host any more (current keeps the release, without a slot).
  cur=$(state_path current)
  if [[ -n $(kv_get "$cur" SLOT) ]]; then
    write_atomic "$cur" 0600 < <(sed -e 's/^SLOT=.*/SLOT=/' -e 's/^CONTAINER=.*/CONTAINER=/' -e 's/^PORT=.*/PORT=/' -- "$cur")
  fi
  [[ -n $gone || $note != absent ]] || return 0
  res_raw web_removed "[$gone]"
  res_str web_upstream "$note"
}
