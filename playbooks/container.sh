#!/usr/bin/env bash
# fleet container: the app's current container on this host (the slot `current` names, or with --process a
# worker's recorded container): its logs, or one command run inside it with docker exec (not interactive).
# usage: container.sh --config FILE [--process P] logs [--lines N] [--since DURATION] [--follow]
#        container.sh --config FILE [--process P] exec -- CMD [ARG...]
# Without --process: the web process, or the host's one worker when it runs no web process.
# On success the output is docker's own (the app's stdout and stderr, or the command's, and its exit status);
# a refusal prints the usual JSON result line (exit 2 usage, 15 no release on this host, 16 its container
# is not running).
set -euo pipefail
SCRIPT_NAME=container
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
install_traps

CONFIG="" LINES="" SINCE="" FOLLOW=0 PROCESS=""
parse_args "--config=CONFIG --process=PROCESS --lines=LINES --since=SINCE --follow:FOLLOW -- @" \
  "container.sh --config FILE [--process P] logs [--lines N] [--since DURATION] [--follow] | exec -- CMD [ARG...]" "$@"
((${#ARGS[@]} >= 1)) || die 2 "missing action: logs or exec"
ACTION=${ARGS[0]}
[[ -z $LINES || $LINES =~ ^[0-9]{1,7}$ ]] || die 2 "--lines '$LINES': expected a whole number"
[[ -z $SINCE || $SINCE =~ ^[0-9]{1,6}[smhd]$ ]] || die 2 "--since '$SINCE': expected a duration like 10m, 2h or 1d"
# docker logs reads Go durations, which have no days: 1d becomes 24h.
if [[ $SINCE =~ ^([0-9]+)d$ ]]; then SINCE="$((10#${BASH_REMATCH[1]} * 24))h"; fi

worker_list
if [[ -z $PROCESS ]]; then
  PROCESS=$CFG_WEB_PROCESS
  if [[ -z $PROCESS ]]; then
    ((${#WORKER_NAMES[@]} == 1)) || die 2 "this host runs several processes (${CFG_WORKERS//,/, }): name one with --process"
    PROCESS=${WORKER_NAMES[0]}
  fi
fi
if [[ $PROCESS == "$CFG_WEB_PROCESS" ]]; then
  slot=$(kv_get "$(state_path current)" SLOT)
  [[ -n $slot ]] || die 15 "no release of $CFG_APP is deployed on this host (fleet deploy first)"
  name=$(container_name "$slot")
else
  [[ ,$CFG_WORKERS, == *",$PROCESS,"* ]] ||
    die 2 "process '$PROCESS' does not run on this host (web: ${CFG_WEB_PROCESS:-none}; workers: ${CFG_WORKERS:-none})"
  name=$(worker_current "$PROCESS")
  [[ -n $name ]] || die 15 "no release of $CFG_APP's $PROCESS is deployed on this host (fleet deploy first)"
fi
state=$(ctr_state "$name")
[[ $state == running ]] || die 16 "$name (the current release's $PROCESS container) is $state, not running; fleet status says more"

case $ACTION in
  logs)
    ((${#ARGS[@]} == 1)) || die 2 "logs takes no words, only --lines, --since and --follow"
    opts=(--tail "${LINES:-100}")
    [[ -z $SINCE ]] || opts+=(--since "$SINCE")
    ((FOLLOW == 0)) || opts+=(--follow)
    trap - EXIT
    exec docker logs "${opts[@]}" "$name"
    ;;
  exec)
    ((${#ARGS[@]} >= 2)) || die 2 "exec needs a command after --"
    trap - EXIT
    exec docker exec "$name" "${ARGS[@]:1}"
    ;;
  *) die 2 "unknown action '$ACTION' (logs or exec)" ;;
esac
