# shellcheck shell=bash
# fleet host library, part 6: the host lock (flock) and the fleet lock check. Sourced by lib.sh.

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
