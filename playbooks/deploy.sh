#!/usr/bin/env bash
# fleet deploy: start VERSION on the idle slot, health-check it, switch nginx, drain, stop the old.
# With workers (WORKERS in fleet.conf): their new containers start and pass their checks first, and the old
# ones stop last; a failed check leaves every process on the previous release (exit 23).
# usage: deploy.sh --config FILE --version V --env-file PATH [--run-id ID]
# See docs/host-scripts.md (steps) and docs/playbooks.md (state files, exit codes, interruption).
set -euo pipefail
SCRIPT_NAME=deploy
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=lib-swap.sh
. "$HERE/lib-swap.sh"
install_traps

CONFIG="" VERSION="" ENV_FILE="" RUN_ID=""
parse_args "--config=CONFIG --version=VERSION! --env-file=ENV_FILE --run-id=RUN_ID" \
  "deploy.sh --config FILE --version V --env-file PATH [--run-id ID]" "$@"
res_str version "$VERSION"
[[ -n $ENV_FILE ]] || die 2 "missing --env-file (fleet uploads it to $CFG_ROOT_DIR/incoming/$VERSION.env)"
[[ -f $ENV_FILE && -r $ENV_FILE ]] || die 2 "env file $ENV_FILE: not a readable file (fleet uploads it to $CFG_ROOT_DIR/incoming/$VERSION.env)"
[[ -n $RUN_ID ]] || RUN_ID="local-$(date +%s)-$$"
res_str run_id "$RUN_ID"

ensure_state_dirs
fleet_lock_check "$RUN_ID"
host_lock deploy "$VERSION" "$RUN_ID"

BY=$(run_by)

recover
REL_DIR=$CFG_STATE_DIR/releases/$VERSION
if host_is_current "$VERSION" "$CFG_IMAGE" "$ENV_FILE"; then
  log "$VERSION already runs${SERVING:+ on slot $SERVING, healthy,} with the same env: nothing to do"
  rm -f -- "$ENV_FILE"
  processes_settle "$VERSION" # only stops processes the inventory no longer gives this host
  res_str slot "$SERVING"
  res_str previous "$(kv_get "$(state_path previous)" VERSION)"
  res_raw changed false
  exit 0
fi

# Pre-flight pulled the image and recorded its ID: deploy never pulls it again (exit 19 if it changed).
use_pulled_image "$CFG_IMAGE" "$VERSION" pull

# The uploaded env file moves into the release folder; it becomes the release's env on success.
ATTEMPT_ENV=$REL_DIR/env.attempt.$$
if ! err=$({ mkdir -p -- "$REL_DIR" && mv -f -- "$ENV_FILE" "$ATTEMPT_ENV"; } 2>&1); then
  rm -f -- "$ATTEMPT_ENV"
  die 21 "cannot move the env file into $REL_DIR: ${err##*: } - free space in $CFG_STATE_DIR (df -h $CFG_STATE_DIR), then deploy again; nothing changed"
fi
chmod 0600 "$ATTEMPT_ENV"

switch_to "$VERSION" "$CFG_IMAGE" "$ATTEMPT_ENV" deploy "$BY"
res_raw changed true
log "deployed $VERSION"
