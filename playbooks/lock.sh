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

lock_field() { json_field "$LOCK" "$1"; }
lock_record() { if [[ -f $LOCK ]]; then head -c 2000 -- "$LOCK"; else printf null; fi; }

case $ACTION in
  status)
    res_raw holder "$(lock_record)"
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
    # the name exists, so creation is atomic and no reader ever sees a half-written record.
    mk_tmp "$CFG_STATE_DIR" fleet.lock
    # (Built first: a signal handled while a function's output goes to the file would send the
    # result line there too.)
    rec=$(json_obj who "$WHO" pid "$PID" command "$COMMAND" version "$VERSION" run_id "$RUN_ID" \
      started_at "$(now_iso)")
    printf '%s' "$rec" >"$TMP"
    chmod 0644 "$TMP"
    if ln -- "$TMP" "$LOCK" 2>/dev/null; then
      res_raw holder "$(lock_record)"
      log "fleet lock taken for run $RUN_ID"
      exit 0
    fi
    if [[ $(lock_field run_id) == "$RUN_ID" ]]; then
      res_raw holder "$(lock_record)"
      log "fleet lock already held by this run ($RUN_ID)"
      exit 0
    fi
    res_raw holder "$(lock_record)"
    die 3 "the fleet lock is held by $(lock_field who) (pid $(lock_field pid), $(lock_field command) $(lock_field version), run $(lock_field run_id), since $(lock_field started_at)); wait for it, or release it with lock.sh release --force"
    ;;
  release)
    LOCK_METRIC=1
    if [[ ! -f $LOCK ]]; then
      res_raw holder null
      log "no fleet lock to release"
      exit 0
    fi
    rid=$(lock_field run_id)
    res_raw holder "$(lock_record)"
    if [[ $rid != "$RUN_ID" ]]; then
      ((FORCE)) || die 3 "the fleet lock belongs to run $rid of $(lock_field who), not to '${RUN_ID}'; add --force to remove it anyway"
      # Not stale while a deploy or rollback still runs on this host: removing it would let a second run in.
      busy=$(host_holder_json)
      if [[ $busy != null ]]; then
        holder=$(state_path host.holder)
        res_raw running "$busy"
        die 3 "a $(json_field "$holder" command) of $(json_field "$holder" version) (run $(json_field "$holder" run_id), pid $(json_field "$holder" pid)) is running on this host now, so the fleet lock of $(lock_field who) is not stale; wait for it to end, then release"
      fi
      log "forcibly releasing the fleet lock of $(lock_field who) (run $rid, since $(lock_field started_at))"
      res_str forced_from "$(lock_field who)"
    fi
    rm -f -- "$LOCK"
    exit 0
    ;;
esac
