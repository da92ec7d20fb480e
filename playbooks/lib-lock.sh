# shellcheck shell=bash
# fleet host library, part 6: the host lock (flock), the fleet lock check and the fleet lock's
# node_exporter textfile. Sourced by lib.sh.

# --- locks -----------------------------------------------------------------------------------------
# The host lock: flock on STATE_DIR/host.lock (fd 9), released by the kernel when we die; the
# holder file says who has it.
host_lock() { # host_lock COMMAND VERSION RUN_ID
  local lock holder
  lock=$(state_path host.lock)
  holder=$(state_path host.holder)
  exec 9>>"$lock" || die 16 "cannot open $lock (check the owner of $CFG_STATE_DIR)"
  if ! flock -n 9; then
    local h="{}" pid
    [[ -f $holder ]] && h=$(head -c 2000 -- "$holder")
    pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' <<<"$h")
    if [[ -n $pid ]] && ! pid_alive "$pid"; then
      # The holder was killed; a child it had started (docker, curl) still has the lock open
      # for a moment. Wait for it rather than refuse.
      log "the host lock's holder (pid $pid) is gone; waiting for its last child to exit"
      flock -w 20 9 || { res_raw holder "$h"; die 3 "the host lock is still held 20s after its holder (pid $pid) died: $h"; }
    else
      res_raw holder "$h"
      die 3 "another deploy holds this host's lock: $h - wait for it to finish"
    fi
  fi
  json_obj who "$(whoami_str)" pid "$$" command "$1" version "$2" run_id "$3" started_at "$(now_iso)" |
    write_atomic "$holder" 0600
  HOST_LOCKED=1
}
pid_alive() { kill -0 "$1" 2>/dev/null || [[ -d /proc/$1 ]]; }
host_unlock() {
  ((${HOST_LOCKED:-0})) || return 0
  rm -f -- "$(state_path host.holder)"
  flock -u 9 2>/dev/null || true
  HOST_LOCKED=0
}

# host_holder_json: the live holder of the host lock, or null.
host_holder_json() {
  local holder pid
  holder=$(state_path host.holder)
  [[ -f $holder ]] || { printf null; return 0; }
  pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$holder")
  if [[ -n $pid ]] && pid_alive "$pid"; then
    head -c 2000 -- "$holder"
  else
    printf null
  fi
}

# fleet_lock_check RUN_ID: a fleet lock held by another run blocks deploy and rollback (exit 3).
fleet_lock_check() {
  local f rid
  f=$(state_path fleet.lock)
  [[ -f $f ]] || return 0
  rid=$(sed -n 's/.*"run_id":"\([^"]*\)".*/\1/p' "$f")
  [[ -n $1 && $rid == "$1" ]] && return 0
  res_raw holder "$(head -c 2000 -- "$f")"
  die 3 "the fleet lock is held by another run ($(head -c 500 -- "$f")); wait, or release it with lock.sh release --force"
}

# --- the fleet lock as a node_exporter textfile ----------------------------------------------------
# json_field FILE KEY: the value of KEY in a flat JSON record (string or number; empty when missing).
json_field() { sed -En "s/.*\"$2\":\"?([^\",}]*).*/\\1/p" "$1" 2>/dev/null | head -n 1 || true; }

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
  local dir=$CFG_TEXTFILE_DIR lock prom at ts tmp labels
  [[ -n $dir ]] || return 0
  lock=$(state_path fleet.lock)
  prom=$dir/fleet_${CFG_APP}_lock.prom
  if ! { exec 8>>"$(state_path fleet-metric.lock)"; } 2>/dev/null || ! flock -w 10 8; then
    log "warning: cannot lock $(state_path fleet-metric.lock); $prom not updated"
    return 0
  fi
  if [[ ! -f $lock ]]; then
    rm -f -- "$prom" 2>/dev/null || log "warning: cannot remove $prom (check the owner of $dir)"
    return 0
  fi
  [[ -d $dir && -w $dir ]] || { log "warning: $dir is not a folder $(id -un) can write to; no lock metric"; return 0; }
  at=$(json_field "$lock" started_at)
  ts=""
  if [[ $at =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]; then
    ts=$(date -u -d "$at" +%s 2>/dev/null) || ts=""
  fi
  # Without a readable started_at: the record is written once, so its mtime is when it was taken.
  [[ $ts =~ ^[0-9]+$ ]] || ts=$(stat -c %Y -- "$lock" 2>/dev/null) || return 0
  tmp=$(mktemp "$dir/.fleet_${CFG_APP}_lock.prom.XXXXXX" 2>/dev/null) ||
    { log "warning: cannot create a temporary file in $dir; no lock metric"; return 0; }
  TMP_FILES+=("$tmp")
  # root keeps the owner of a file it replaces (the deploy user must still be able to remove it).
  if ((EUID == 0)) && [[ -e $prom ]]; then chown --reference="$prom" -- "$tmp" 2>/dev/null || true; fi
  labels="app=\"$(prom_label "$CFG_APP")\",command=\"$(prom_label "$(json_field "$lock" command)")\""
  labels+=",who=\"$(prom_label "$(json_field "$lock" who)")\""
  if ! printf '%s\n' "# HELP fleet_lock_acquired_timestamp_seconds When the fleet lock held on this host was taken." \
    "# TYPE fleet_lock_acquired_timestamp_seconds gauge" "fleet_lock_acquired_timestamp_seconds{$labels} $ts" >"$tmp" ||
    ! chmod 0644 -- "$tmp" || ! mv -f -- "$tmp" "$prom"; then
    log "warning: cannot write $prom"
  fi
}
