# shellcheck shell=bash
# fleet host library: the release records (current, previous, releases/<v>/), the env copies, pruning and
# the metrics textfile. Sourced by lib-swap.sh.

# record_release SLOT VERSION IMAGE BY RUN_ID ACTION: current := the release (the old current becomes
# previous when it holds another release) and releases/VERSION/release. All files are written to temp
# files first and renamed only once every one of them is written: a full or read-only disk leaves the
# old records whole. Status 1 with WRITE_ERR when they cannot be written (never exits).
record_release() {
  local cur prev rel err
  cur=$(state_path current)
  prev=$(state_path previous)
  rel=$CFG_STATE_DIR/releases/$2
  if ! err=$(mkdir -p -- "$rel" 2>&1); then
    WRITE_ERR="cannot create $rel: ${err##*: }"
    return 1
  fi
  stage_begin
  if [[ -f $cur && $(kv_get "$cur" VERSION) != "$2" ]]; then
    stage_file "$prev" 0600 <"$cur" || return 1
  fi
  stage_file "$cur" 0600 < <(release_kv "$1" "$2" "$3" "$(if [[ -n $1 ]]; then slot_port "$1"; fi)" "$4" "$5" "$6") || return 1
  stage_file "$rel/release" 0600 < <(printf 'VERSION=%s\nIMAGE=%s\nDEPLOYED_EPOCH=%s\nDEPLOYED_AT=%s\nDEPLOYED_BY=%s\n' \
    "$2" "$3" "$(date +%s)" "$(now_iso)" "$4") || return 1
  commit_staged
}

# write_current SLOT VERSION IMAGE BY RUN_ID ACTION: record_release, exiting 21 when it cannot.
write_current() {
  record_release "$@" ||
    die 21 "$WRITE_ERR - free space in $CFG_STATE_DIR (df -h $CFG_STATE_DIR), or fix its rights; then run again"
}

# promote_env VERSION: the attempt's env copy becomes the release's env (before it is recorded, so a
# signal or a kill after the switch never leaves the current release without its env). A rename in the
# same folder: it needs no free space.
promote_env() {
  [[ -n ${ATTEMPT_ENV:-} && -f $ATTEMPT_ENV ]] || return 0
  mv -f -- "$ATTEMPT_ENV" "$CFG_STATE_DIR/releases/$1/env"
  ATTEMPT_ENV=""
}

# drop_unrecorded_env VERSION: after a switch that was undone, the env copy of a release that was never
# recorded here goes (a kept release keeps its own).
drop_unrecorded_env() {
  local rel=$CFG_STATE_DIR/releases/$1
  [[ -f $rel/release ]] && return 0
  rm -f -- "$rel/env"
  rmdir -- "$rel" 2>/dev/null || true
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

# write_metrics VERSION SLOT SWAP_MS: a node_exporter textfile when TEXTFILE_DIR is set (never fatal).
write_metrics() {
  [[ -n $CFG_TEXTFILE_DIR && -d $CFG_TEXTFILE_DIR && -w $CFG_TEXTFILE_DIR ]] || return 0
  try_write_atomic "$CFG_TEXTFILE_DIR/fleet_$CFG_APP.prom" 0644 < <(printf 'fleet_release_info{app="%s",version="%s",slot="%s"} 1\nfleet_last_deploy_timestamp_seconds{app="%s"} %s\nfleet_swap_seconds{app="%s"} %s\n' \
    "$CFG_APP" "$1" "$2" "$CFG_APP" "$(date +%s)" "$CFG_APP" "$(awk -v m="$3" 'BEGIN{printf "%.3f", m/1000}')") ||
    log "warning: $CFG_TEXTFILE_DIR/fleet_$CFG_APP.prom not written: $WRITE_ERR"
}
