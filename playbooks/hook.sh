#!/usr/bin/env bash
# fleet hook: run a one-off command in the release's image with its env file (migrations, checks).
# usage: hook.sh --config FILE --version V --env incoming|release -- CMD [ARG...]
# --env incoming: the env file fleet uploaded for V (ROOT_DIR/incoming/V.env), before deploy.sh moved it
# (before_rollout); --env release: the env V runs with (STATE_DIR/releases/V/env), after (after_rollout).
# Exit 0 when CMD succeeds, 1 when it fails (its exit code is in the JSON), 2 usage or no such env file,
# 10 pull failed, 19 the image changed since pre-flight pulled it.
set -euo pipefail
SCRIPT_NAME=hook
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
install_traps

CONFIG="" VERSION="" ENV_FROM=""
parse_args "--config=CONFIG --version=VERSION! --env=ENV_FROM! --" \
  "hook.sh --config FILE --version V --env incoming|release -- CMD [ARG...]" "$@"
set -- "${ARGS[@]}"
res_str version "$VERSION"
# The env file is found here, from the version: no step names a path that an earlier step moves.
case $ENV_FROM in
  incoming)
    ENV_FILE=$CFG_ROOT_DIR/incoming/$VERSION.env
    [[ -f $ENV_FILE && -r $ENV_FILE ]] ||
      die 2 "env file '$ENV_FILE': not a readable file (pre-flight uploads it for a deploy of $VERSION; deploy.sh then moves it into the release)" ;;
  release)
    ENV_FILE=$CFG_STATE_DIR/releases/$VERSION/env
    [[ -f $ENV_FILE && -r $ENV_FILE ]] ||
      die 2 "env file '$ENV_FILE': not a readable file ($VERSION has no release on this host: deploy.sh writes it when $VERSION goes live)" ;;
  *) die 2 "--env '$ENV_FROM': expected incoming or release" ;;
esac
res_str env "$ENV_FROM"
(($#)) || die 2 "missing the command after --"
res_str command "$1"

# The image pre-flight pulled, unchanged (exit 19 if not); pulled only when there is no record and no image.
use_pulled_image "$CFG_IMAGE" "$VERSION" if-missing
log "running '$1' in $CFG_IMAGE:$VERSION with the $ENV_FROM env of $VERSION"
# The command's own output goes to stderr: stdout carries only the result line.
rc=0
docker run --rm --network host --label "fleet.app=$CFG_APP" --label "fleet.hook=$VERSION" \
  --env-file "$ENV_FILE" "$CFG_IMAGE:$VERSION" "$@" >&2 || rc=$?
res_num hook_exit "$rc"
((rc == 0)) || die 1 "hook '$1' in $CFG_IMAGE:$VERSION exited with $rc (see its output above)"
exit 0
