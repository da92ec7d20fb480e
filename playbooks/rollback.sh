#!/usr/bin/env bash
# fleet rollback: bring the previous release (or --to V) back on the idle slot with its own env.
# usage: rollback.sh --config FILE [--to V] [--run-id ID]
# See docs/host-scripts.md (steps) and docs/playbooks.md (state files, exit codes, interruption).
set -euo pipefail
SCRIPT_NAME=rollback
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=lib-swap.sh
. "$HERE/lib-swap.sh"
install_traps

CONFIG="" TO="" RUN_ID=""
parse_args "--config=CONFIG --to=TO --run-id=RUN_ID" "rollback.sh --config FILE [--to V] [--run-id ID]" "$@"
[[ -n $RUN_ID ]] || RUN_ID="local-$(date +%s)-$$"
res_str run_id "$RUN_ID"

ensure_state_dirs
fleet_lock_check "$RUN_ID"
host_lock rollback "$TO" "$RUN_ID"
BY=$(run_by)

recover
CUR=$(kv_get "$(state_path current)" VERSION)
TARGET=$TO
if [[ -z $TARGET ]]; then
  TARGET=$(kv_get "$(state_path previous)" VERSION)
  [[ -n $TARGET ]] || die 15 "no previous release is recorded on this host (current: ${CUR:-none}); name one with --to V"
fi
res_str version "$TARGET"
REL_DIR=$CFG_STATE_DIR/releases/$TARGET
if [[ ! -f $REL_DIR/release || ! -f $REL_DIR/env ]]; then
  kept=$(cd "$CFG_STATE_DIR/releases" 2>/dev/null && for d in *; do [[ -f $d/release ]] && printf "%s " "$d"; done; true) || kept=""
  die 15 "release $TARGET is not kept on this host (kept: ${kept:-none}); deploy it instead"
fi
IMAGE=$(kv_get "$REL_DIR/release" IMAGE)
[[ -n $IMAGE ]] || IMAGE=$CFG_IMAGE
if host_is_current "$TARGET" "$IMAGE" ""; then
  log "$TARGET already runs${SERVING:+ on slot $SERVING, healthy}: nothing to do"
  processes_settle "$TARGET" # only stops processes the inventory no longer gives this host
  res_str slot "$SERVING"
  res_raw changed false
  exit 0
fi
# An earlier release's image is normally still here (pre-flight does not pull for a rollback).
image_present "$IMAGE:$TARGET" || pull_and_record "$IMAGE" "$TARGET"
switch_to "$TARGET" "$IMAGE" "$REL_DIR/env" rollback "$BY"
res_raw changed true
log "rolled back to $TARGET"
