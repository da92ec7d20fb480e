#!/usr/bin/env bash
# fleet status: one JSON line with the app, current and previous release, slot, container health,
# the nginx upstream target, the lock holders, the last deploy and the fleet version of the installed
# scripts (FLEET_VERSION of ROOT_DIR/fleet.conf, not of the copy this runs from); with `processes:`, the web
# process's name and a line per worker (its current container, state and version); every container of the app
# (app_containers), and the names of the running ones this host should not run (unexpected). Changes nothing.
# usage: status.sh --config FILE
set -euo pipefail
SCRIPT_NAME=status
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=lib-status.sh
. "$HERE/lib-status.sh"
install_traps

CONFIG=""
parse_args "--config=CONFIG" "status.sh --config FILE" "$@"

cur=$(state_path current)
slot=$(kv_get "$cur" SLOT)
res_raw current "$(release_json "$cur")"
res_raw previous "$(release_json "$(state_path previous)")"
res_str slot "$slot"

# Containers: state, version and health of both slots.
health=missing
ctrs=""
for s in blue green; do
  name=$(container_name "$s")
  st=$(ctr_state "$name")
  h=missing
  if [[ $st == running ]]; then
    if port_healthy "$(slot_port "$s")"; then h=healthy; else h=unhealthy; fi
  elif [[ $st != missing ]]; then
    h=stopped
  fi
  [[ $s == "$slot" ]] && health=$h
  ctrs+="${ctrs:+,}\"$s\":$(json_obj name "$name" state "$st" version "$(ctr_label "$name" fleet.version)" health "$h")"
done
res_str health "$health"
res_raw containers "{$ctrs}"

uport=$(upstream_port)
res_raw upstream "$(json_obj file "$CFG_UPSTREAM_FILE" port "$uport" slot "$(port_slot "$uport")")"

# What nginx points at against what current names: serving_slot (the slot of the upstream file's port,
# "" when it names neither), serving_version (the version label of that slot's container, "" when none
# or docker does not answer), consistent, and inconsistency (why not, or null).
sslot=$(port_slot "$uport")
sver=""
[[ -z $sslot ]] || sver=$(ctr_label "$(container_name "$sslot")" fleet.version)
cver=$(kv_get "$cur" VERSION)
why=""
if [[ -z $CFG_WEB_PROCESS ]]; then
  : # a host without the web process: nginx is not its business
elif [[ -f $cur ]]; then
  if [[ -z $sslot ]]; then
    why="nginx's upstream file names port ${uport:-none}, neither slot of $CFG_APP, but current is $cver on $slot"
  elif [[ $sslot != "$slot" ]]; then
    why="nginx points at $sslot${sver:+ ($sver)}, but current is $cver on $slot"
  elif [[ -n $sver && $sver != "$cver" ]]; then
    why="nginx points at $sslot, whose container runs $sver, but current is $cver"
  fi
elif [[ -n $sver ]]; then
  why="nginx points at $sslot ($sver), but no current release is recorded"
fi
res_str serving_slot "$sslot"
# Every container of the app, each marked expected or not (app_containers, unexpected: lib-status.sh).
app_containers_json "$sslot"
res_raw app_containers "$APP_CONTAINERS"
res_raw unexpected "$UNEXPECTED"
res_str serving_version "$sver"
if [[ -z $why ]]; then
  res_raw consistent true
  res_raw inconsistency null
else
  res_raw consistent false
  res_str inconsistency "$why: a run was cut short after its switch (or its records could not be written); the next deploy or rollback repairs it"
fi

# Through nginx: the HTTP status as a number, 0 when nothing answered (curl's 000).
probe "$CFG_NGINX_URL$CFG_HEALTH_PATH"
res_raw nginx "$(json_obj url "$CFG_NGINX_URL$CFG_HEALTH_PATH" status "$((10#$PROBE))")"

fl=null
if lock_read "$(state_path fleet.lock)" FL; then fl=$(lock_json FL); fi
res_raw lock "{\"host\":$(host_holder_json),\"fleet\":$fl}"

last=null
[[ -f $(state_path history) ]] && last=$(tail -n 1 -- "$(state_path history)")
res_raw last "${last:-null}"
res_str deployed_at "$(kv_get "$cur" DEPLOYED_AT)"
res_str deployed_by "$(kv_get "$cur" DEPLOYED_BY)"
res_str fleet_version "$(kv_get "$CFG_ROOT_DIR/fleet.conf" FLEET_VERSION)"
# With `processes:`: the web process of this host ("" for none) and each worker's current container.
if ((CFG_DECLARED)); then
  res_str web_process "$CFG_WEB_PROCESS"
  res_raw workers "$(workers_json)"
fi
exit 0
