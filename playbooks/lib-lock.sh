# shellcheck shell=bash
# fleet host library: the lock records, the host lock (flock), the fleet lock check and the fleet lock's
# node_exporter textfile. Sourced by lib.sh.

# --- lock records ----------------------------------------------------------------------------------
# A lock record (STATE_DIR/fleet.lock, STATE_DIR/host.holder) is KEY=VALUE lines, one per field below,
# each value a token ([A-Za-z0-9@._:+-], or empty). It is read line by line, never sourced. Scripts
# print it as the flat JSON object {"who","pid","command","version","run_id","started_at"} (pid a
# number), the shape the records themselves had up to now: a record an earlier fleet left in that
# JSON (one line starting with "{") is still read, and goes away on release as any other.
LOCK_FIELDS=(who pid command version run_id started_at)

# lock_new_record DEST WHO PID COMMAND VERSION RUN_ID STARTED_AT: a new temp file next to DEST (TMP)
# holding the record; every value is checked first (exit 2 naming the field).
lock_new_record() {
  local dest=$1 i text=""
  shift
  local -a vals=("$@")
  for i in "${!LOCK_FIELDS[@]}"; do
    [[ -z ${vals[i]:-} ]] || valid_token "${vals[i]}" ||
      die 2 "lock record: ${LOCK_FIELDS[i]} '${vals[i]}': expected letters, digits, @ . _ : + -"
    text+="${LOCK_FIELDS[i]}=${vals[i]:-}"$'\n'
  done
  mk_tmp "$(dirname -- "$dest")" "$(basename -- "$dest")"
  # Built first, then one write by cat alone: a signal handled during a function whose output went to
  # the file would send the result line there too. A full disk: exit 21 naming it.
  put_file "$TMP" "$dest" < <(printf '%s' "$text") ||
    die 21 "$WRITE_ERR - free space in $(dirname -- "$dest") (df -h $(dirname -- "$dest")), then run again"
}

# The records loaded by lock_read: the fleet lock (FL; FB for run_by, ML for the metric) and the host
# lock's holder (HH). Each maps the fields above, and "format", to their values.
declare -A FL=() FB=() ML=() HH=()

# lock_read FILE NAME: load a record into the array NAME (a field missing, or not a token, is empty;
# NAME[format] is kv, or json for a record of an earlier fleet). Status 1 when there is no record.
# The file is read once (it may be replaced or removed meanwhile).
# shellcheck disable=SC2034 # rec is a nameref: the caller's array is filled
lock_read() {
  local file=$1 text key value f re
  local -n rec=$2
  rec=([format]="")
  for f in "${LOCK_FIELDS[@]}"; do rec["$f"]=""; done
  [[ -f $file ]] || return 1
  text=$(head -c 4096 -- "$file" 2>/dev/null) || return 1
  if [[ $text == '{'* ]]; then
    rec[format]=json
    for f in "${LOCK_FIELDS[@]}"; do
      re="\"$f\":(\"([^\"]*)\"|([0-9]+))"
      [[ $text =~ $re ]] && lock_set "$2" "$f" "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
    done
    return 0
  fi
  rec[format]=kv
  while IFS='=' read -r key value; do
    lock_set "$2" "$key" "$value"
  done <<<"$text"
}
# lock_set NAME KEY VALUE: a known field with a token value; anything else is left out.
# shellcheck disable=SC2034 # into is a nameref: the caller's array is filled
lock_set() {
  local -n into=$1
  [[ " ${LOCK_FIELDS[*]} " == *" $2 "* ]] || return 0
  if [[ -n $3 ]] && ! valid_token "$3"; then
    log "warning: a lock record has a $2 that is not a token; left out"
    return 0
  fi
  into["$2"]=$3
}
# lock_json NAME: the loaded record as JSON (the shape status and lock print).
lock_json() {
  local -n from=$1
  local -a kv=()
  local f
  for f in "${LOCK_FIELDS[@]}"; do kv+=("$f" "${from[$f]:-}"); done
  json_obj "${kv[@]}"
}
# lock_summary NAME: "who (pid N, command version, run R, since T)" for messages; a rollback to the
# previous release names no version ("rollback to the previous release").
lock_summary() {
  local -n of=$1
  local what=${of[command]:-?}
  if [[ -n ${of[version]:-} ]]; then
    what+=" ${of[version]}"
  elif [[ $what == rollback ]]; then
    what+=" to the previous release"
  fi
  printf '%s (pid %s, %s, run %s, since %s)' "${of[who]:-?}" "${of[pid]:-?}" "$what" "${of[run_id]:-?}" \
    "${of[started_at]:-?}"
}
# lock_note_format NAME FILE: say on stderr when a record is in an earlier fleet's JSON.
lock_note_format() {
  local -n of=$1
  [[ ${of[format]:-} != json ]] || log "note: $2 is in the JSON format of an earlier fleet; read as it is (it goes on release)"
}

# --- locks -----------------------------------------------------------------------------------------
# The host lock: flock on STATE_DIR/host.lock (fd 9), released by the kernel when we die; the
# holder file says who has it.
host_lock() { # host_lock COMMAND VERSION RUN_ID
  local lock holder h
  lock=$(state_path host.lock)
  holder=$(state_path host.holder)
  exec 9>>"$lock" || die 16 "cannot open $lock (check the owner of $CFG_STATE_DIR)"
  if ! flock -n 9; then
    h="{}"
    if lock_read "$holder" HH; then h=$(lock_json HH); fi
    if [[ -n ${HH[pid]} ]] && ! pid_alive "${HH[pid]}"; then
      # The holder was killed; a child it had started (docker, curl) still has the lock open
      # for a moment. Wait for it rather than refuse.
      log "the host lock's holder (pid ${HH[pid]}) is gone; waiting for its last child to exit"
      flock -w 20 9 || { res_raw holder "$h"; die 3 "the host lock is still held 20s after its holder (pid ${HH[pid]}) died: $h"; }
    else
      res_raw holder "$h"
      die 3 "another deploy holds this host's lock: $h - wait for it to finish"
    fi
  fi
  lock_new_record "$holder" "$(whoami_str)" "$$" "$1" "$2" "$3" "$(now_iso)"
  chmod 0600 -- "$TMP"
  mv -f -- "$TMP" "$holder"
  HOST_LOCKED=1
}
pid_alive() { kill -0 "$1" 2>/dev/null || [[ -d /proc/$1 ]]; }
host_unlock() {
  ((${HOST_LOCKED:-0})) || return 0
  rm -f -- "$(state_path host.holder)"
  flock -u 9 2>/dev/null || true
  HOST_LOCKED=0
}

# host_lock_held: someone holds the host lock (flock) now, read from /proc/locks without taking it (a probe
# that took it, even for a moment, could refuse a deploy starting then). Held when that cannot be read.
host_lock_held() {
  local ino
  ino=$(stat -c %i -- "$(state_path host.lock)" 2>/dev/null) || return 1
  [[ -r /proc/locks ]] || return 0
  grep -q "FLOCK .*:$ino " /proc/locks
}

# host_holder_json: the live holder of the host lock (a deploy or rollback running on this host), or null:
# its record names a live pid and the lock is held (a record a killed run left, whose pid was reused since,
# is not a run).
host_holder_json() {
  if lock_read "$(state_path host.holder)" HH && [[ -n ${HH[pid]} ]] && pid_alive "${HH[pid]}" && host_lock_held; then
    lock_json HH
  else
    printf null
  fi
}

# sweep_incoming: remove the uploaded env files (ROOT_DIR/incoming/*.env, and the temp files of an
# upload cut short) that no run needs any more. An upload is needed only from the pre-flight that
# brings it to the deploy of the same run, which moves it into releases/<v>/ (a kept release's env lives
# there, never here): so they go when a fleet lock is released (the run is over here), unless a deploy
# or rollback runs on this host right now (one started by hand may be using one). Never fatal.
sweep_incoming() {
  local dir=$CFG_ROOT_DIR/incoming f n=0
  [[ -d $dir ]] || return 0
  [[ $(host_holder_json) == null ]] || return 0
  for f in "$dir"/*.env "$dir"/.*.fleet-tmp; do
    [[ -f $f ]] || continue
    rm -f -- "$f" 2>/dev/null && n=$((n + 1))
  done
  ((n == 0)) || log "removed $n env file(s) left in $dir by runs that ended"
  return 0
}

# fleet_lock_check RUN_ID: a fleet lock held by another run blocks deploy and rollback (exit 3).
fleet_lock_check() {
  local f
  f=$(state_path fleet.lock)
  lock_read "$f" FL || return 0
  lock_note_format FL "$f"
  [[ -n $1 && ${FL[run_id]} == "$1" ]] && return 0
  res_raw holder "$(lock_json FL)"
  die 3 "the fleet lock is held by another run: $(lock_summary FL); wait for it, or if that run is gone (killed, a vanished CI runner), release it with 'fleet lock release' (docs/runbooks/stale-lock.md)"
}

# run_by: who runs this deploy or rollback: the fleet lock's "who", else this user.
run_by() {
  if lock_read "$(state_path fleet.lock)" FB && [[ -n ${FB[who]} ]]; then printf '%s' "${FB[who]}"; else whoami_str; fi
}

# --- the fleet lock as a node_exporter textfile ----------------------------------------------------
# prom_label VALUE: a label value escaped for the Prometheus text format (backslash, quote, newline).
prom_label() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  printf '%s' "$s"
}

# fleet_lock_metric: when TEXTFILE_DIR is set, make TEXTFILE_DIR/fleet_<app>_lock.prom match
# STATE_DIR/fleet.lock: fleet_lock_acquired_timestamp_seconds{app,command,who} while the record
# exists, no file when it does not. Idempotent and serialised (flock on fd 8), so concurrent runs
# and a rerun after an interruption converge. Never fatal: the lock matters more than its metric.
fleet_lock_metric() {
  local dir=$CFG_TEXTFILE_DIR lock prom ts="" tmp labels
  [[ -n $dir ]] || return 0
  lock=$(state_path fleet.lock)
  prom=$dir/fleet_${CFG_APP}_lock.prom
  if ! { exec 8>>"$(state_path fleet-metric.lock)"; } 2>/dev/null || ! flock -w 10 8; then
    log "warning: cannot lock $(state_path fleet-metric.lock); $prom not updated"
    return 0
  fi
  if ! lock_read "$lock" ML; then
    rm -f -- "$prom" 2>/dev/null || log "warning: cannot remove $prom (check the owner of $dir)"
    return 0
  fi
  [[ -d $dir && -w $dir ]] || { log "warning: $dir is not a folder $(id -un) can write to; no lock metric"; return 0; }
  if [[ ${ML[started_at]} =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]; then
    ts=$(date -u -d "${ML[started_at]}" +%s 2>/dev/null) || ts=""
  fi
  # Without a readable started_at: the record is written once, so its mtime is when it was taken.
  [[ $ts =~ ^[0-9]+$ ]] || ts=$(stat -c %Y -- "$lock" 2>/dev/null) || return 0
  tmp=$(mktemp "$dir/.fleet_${CFG_APP}_lock.prom.XXXXXX" 2>/dev/null) ||
    { log "warning: cannot create a temporary file in $dir; no lock metric"; return 0; }
  TMP_FILES+=("$tmp")
  # root keeps the owner of a file it replaces (the deploy user must still be able to remove it).
  if ((EUID == 0)) && [[ -e $prom ]]; then chown --reference="$prom" -- "$tmp" 2>/dev/null || true; fi
  labels="app=\"$(prom_label "$CFG_APP")\",command=\"$(prom_label "${ML[command]}")\",who=\"$(prom_label "${ML[who]}")\""
  if ! printf '%s\n' "# HELP fleet_lock_acquired_timestamp_seconds When the fleet lock held on this host was taken." \
    "# TYPE fleet_lock_acquired_timestamp_seconds gauge" "fleet_lock_acquired_timestamp_seconds{$labels} $ts" >"$tmp" ||
    ! chmod 0644 -- "$tmp" || ! mv -f -- "$tmp" "$prom"; then
    log "warning: cannot write $prom"
  fi
}
