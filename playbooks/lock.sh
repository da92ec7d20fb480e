#!/usr/bin/env bash
# fleet lock: the fleet-wide lock record STATE_DIR/fleet.lock that the controller takes on every
# host before a rollout (deploy.sh and rollback.sh refuse to run for another run id while it exists).
# With TEXTFILE_DIR set, acquire and release also keep TEXTFILE_DIR/fleet_<app>_lock.prom in step
# with the record (fleet_lock_acquired_timestamp_seconds), on every exit path.
# usage: lock.sh --config FILE acquire --run-id ID --who USER@MACHINE --pid N --command deploy|rollback --version V
#        lock.sh --config FILE release --run-id ID [--force]
#        lock.sh --config FILE status
set -euo pipefail
SCRIPT_NAME=lock
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
install_traps

CONFIG="" RUN_ID="" WHO="" PID="" COMMAND="" VERSION="" FORCE=0 LOCK_METRIC=0
# on_cleanup: once acquire or release may have changed the record, the metric follows it (also
# after an error or a signal; a run killed outright is put right by the next acquire or release).
on_cleanup() { if ((LOCK_METRIC)); then fleet_lock_metric; fi; }
parse_args "--config=CONFIG --run-id=RUN_ID --who=WHO --pid=PID --command=COMMAND --version=VERSION --force:FORCE @" \
  "lock.sh --config FILE acquire|release|status ..." "$@"
((${#ARGS[@]} <= 1)) || die 2 "two actions given ('${ARGS[0]}' and '${ARGS[1]}')"
ACTION=${ARGS[0]:-}
case $ACTION in
  acquire | release | status) ;;
  "") die 2 "missing action: acquire, release or status" ;;
  *) die 2 "unknown argument '$ACTION' (usage: lock.sh --config FILE acquire|release|status ...)" ;;
esac
res_str action "$ACTION"
LOCK=$(state_path fleet.lock)
# The record, loaded into FL (read again after a change); null when there is none.
lock_record() { if lock_read "$LOCK" FL; then lock_json FL; else printf null; fi; }
HELD=0
if lock_read "$LOCK" FL; then HELD=1; lock_note_format FL "$LOCK"; fi

case $ACTION in
  status)
    if ((HELD)); then res_raw holder "$(lock_json FL)"; else res_raw holder null; fi
    # A deploy or rollback running on this host now (the live holder of the host lock), or null: while
    # one runs, the fleet lock is not stale whoever holds it.
    res_raw busy "$(host_holder_json)"
    exit 0
    ;;
  acquire)
    [[ -n $RUN_ID ]] || die 2 "acquire needs --run-id ID (letters, digits, @ . _ : + -)"
    valid_token "$WHO" || die 2 "acquire needs --who USER@MACHINE (letters, digits, @ . _ : + -)"
    [[ $PID =~ ^[0-9]{1,10}$ ]] || die 2 "acquire needs --pid N (a number)"
    [[ $COMMAND == deploy || $COMMAND == rollback ]] || die 2 "acquire needs --command deploy|rollback"
    [[ -d $CFG_STATE_DIR && -w $CFG_STATE_DIR ]] ||
      die 16 "$CFG_STATE_DIR is missing or not writable by $(id -un): run setup.sh on this host"
    LOCK_METRIC=1
    # The record is written whole to a temp file, then hard-linked to its name: link(2) fails when
    # the name exists, so creation is atomic and exclusive (a rename would replace another run's
    # lock), and no reader ever sees a half-written record.
    lock_new_record "$LOCK" "$WHO" "$PID" "$COMMAND" "$VERSION" "$RUN_ID" "$(now_iso)"
    chmod 0644 "$TMP"
    for _ in 1 2; do # (twice: the holder may release it between our link and our read)
      if ln -- "$TMP" "$LOCK" 2>/dev/null; then
        res_raw holder "$(lock_record)"
        log "fleet lock taken for run $RUN_ID"
        exit 0
      fi
      lock_read "$LOCK" FL && break
    done
    if [[ ${FL[run_id]} == "$RUN_ID" ]]; then
      res_raw holder "$(lock_json FL)"
      log "fleet lock already held by this run ($RUN_ID)"
      exit 0
    fi
    res_raw holder "$(lock_json FL)"
    die 3 "the fleet lock is held by $(lock_summary FL); wait for it, or if that run is gone (killed, a vanished CI runner), release it with 'fleet lock release' (docs/runbooks/stale-lock.md)"
    ;;
  release)
    LOCK_METRIC=1
    if ((!HELD)); then
      res_raw holder null
      log "no fleet lock to release"
      sweep_incoming
      exit 0
    fi
    res_raw holder "$(lock_json FL)"
    if [[ -z ${FL[run_id]} || ${FL[run_id]} != "$RUN_ID" ]]; then
      ((FORCE)) || die 3 "the fleet lock belongs to run ${FL[run_id]} of ${FL[who]}, not to '${RUN_ID}'; if that run is gone (killed, a vanished CI runner), release it with 'fleet lock release' (docs/runbooks/stale-lock.md)"
      # Not stale while a deploy or rollback still runs on this host: removing it would let a second run in.
      busy=$(host_holder_json)
      if [[ $busy != null ]]; then
        lock_read "$(state_path host.holder)" HH || true
        res_raw running "$busy"
        die 3 "$(lock_summary HH) is running on this host now, so the fleet lock of ${FL[who]} is not stale; wait for it to end, then release"
      fi
      log "forcibly releasing the fleet lock of $(lock_summary FL)"
      res_str forced_from "${FL[who]}"
    fi
    rm -f -- "$LOCK"
    # The run is over on this host: the env files it (or a killed run before it) uploaded and no deploy
    # took (a refused or failed pre-flight, a rollout halted before this host) go.
    sweep_incoming
    exit 0
    ;;
esac
