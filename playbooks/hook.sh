#!/usr/bin/env bash
# fleet hook: run a one-off command in the release's image with its env file (migrations, checks).
# usage: hook.sh --config FILE --version V --env-file PATH -- CMD [ARG...]
# Exit 0 when CMD succeeds, 1 when it fails (its exit code is in the JSON), 2 usage, 10 pull failed.
set -euo pipefail
SCRIPT_NAME=hook
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
install_traps

CONFIG="" VERSION="" ENV_FILE=""
while (($#)); do
  case $1 in
    --config) need_arg "$1" $#; CONFIG=$2; shift 2 ;;
    --version) need_arg "$1" $#; VERSION=$2; shift 2 ;;
    --env-file) need_arg "$1" $#; ENV_FILE=$2; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,4p' "$0" >&2; exit 2 ;;
    *) die 2 "unknown argument '$1' (usage: hook.sh --config FILE --version V --env-file PATH -- CMD [ARG...])" ;;
  esac
done
load_config "$CONFIG"
[[ -n $VERSION ]] || die 2 "missing --version"
need_version "$VERSION"
res_str version "$VERSION"
[[ -n $ENV_FILE && -f $ENV_FILE && -r $ENV_FILE ]] || die 2 "env file '${ENV_FILE}': not a readable file"
(($#)) || die 2 "missing the command after --"
res_str command "$1"

image_present "$CFG_IMAGE:$VERSION" || pull_image "$CFG_IMAGE:$VERSION"
log "running '$1' in $CFG_IMAGE:$VERSION"
# The command's own output goes to stderr: stdout carries only the result line.
rc=0
docker run --rm --network host --label "fleet.app=$CFG_APP" --label "fleet.hook=$VERSION" \
  --env-file "$ENV_FILE" "$CFG_IMAGE:$VERSION" "$@" >&2 || rc=$?
res_num hook_exit "$rc"
((rc == 0)) || die 1 "hook '$1' in $CFG_IMAGE:$VERSION exited with $rc (see its output above)"
exit 0
