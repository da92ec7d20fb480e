# shellcheck shell=bash
# fleet host library: every container of the app on this host (label fleet.app=APP), each judged against the
# host's records (current release, its slot, the slot nginx serves, the recorded container of each worker in
# fleet.conf's WORKERS) and fleet.conf's processes (WEB_PROCESS, WORKERS). Sourced by status.sh only.

# ctr_why KIND NAME PROCESS VERSION SLOT SERVING: why a running container is not one this host should run
# ("": expected). Reads CUR_VERSION and CUR_SLOT (the current release) and CFG_*.
ctr_why() {
  local kind=$1 name=$2 p=$3 v=$4 s=$5 serving=$6 rec
  case $kind in
    hook) return 0 ;; # a one-off command (fleet runs it with --rm; it ends with its command)
    web)
      if [[ -z $CFG_WEB_PROCESS ]]; then
        printf 'a web container (%s, slot %s) on a host without the web process (fleet.conf WEB_PROCESS is empty)' "${v:-no version}" "${s:-none}"
      elif [[ $name != "$(container_name "$s")" ]]; then
        printf 'a web container fleet did not start: named %s, fleet names the %s slot %s' "$name" "${s:-?}" "$(container_name "${s:-blue}")"
      elif [[ $s == "$serving" ]]; then
        return 0 # nginx serves it (when the records disagree, "inconsistency" says so)
      elif [[ -z $CUR_VERSION ]]; then
        printf 'no release is recorded on this host, and nginx does not serve it'
      elif [[ $s != "$CUR_SLOT" ]]; then
        printf 'the idle %s slot runs %s, but the records name %s on %s and nginx serves %s' "$s" "${v:-no version}" "$CUR_VERSION" "$CUR_SLOT" "${serving:-neither slot}"
      elif [[ $v != "$CUR_VERSION" ]]; then
        printf 'it runs %s, but the records name %s' "${v:-no version}" "$CUR_VERSION"
      fi ;;
    worker)
      rec=$(kv_get "$(state_path "worker-$p")" CONTAINER)
      if [[ ,$CFG_WORKERS, != *",$p,"* ]]; then
        printf 'worker %s is not a process of this host (fleet.conf WORKERS=%s)' "$p" "${CFG_WORKERS:-none}"
      elif [[ -z $rec ]]; then
        printf 'no container of worker %s is recorded on this host' "$p"
      elif [[ $name != "$rec" ]]; then
        printf 'a second container of worker %s (%s): the records name %s' "$p" "${v:-no version}" "$rec"
      elif [[ $v != "$CUR_VERSION" ]]; then
        printf 'worker %s runs %s, but the records name %s' "$p" "${v:-no version}" "${CUR_VERSION:-no release}"
      fi ;;
    *) printf 'it has the label fleet.app=%s but neither fleet.slot nor fleet.process: fleet did not start it' "$CFG_APP" ;;
  esac
}

# app_containers_json SERVING: sets APP_CONTAINERS (a JSON array, one object per container of the app:
# name, kind web|worker|hook|other, process, version, slot, state, expected, why) and UNEXPECTED (a JSON
# array of the names of the running ones this host should not run); both null when docker does not answer.
# Only a running (or restarting, paused) container can be unexpected: a stopped one is kept for a rollback.
app_containers_json() {
  local serving=$1 out="" bad="" line name st p v s hook kind why exp obj
  local -a rows=()
  CUR_VERSION=$(kv_get "$(state_path current)" VERSION)
  CUR_SLOT=$(kv_get "$(state_path current)" SLOT)
  if ! line=$(docker ps -a --filter "label=fleet.app=$CFG_APP" --format \
    '{{.Names}}|{{.State}}|{{.Label "fleet.process"}}|{{.Label "fleet.version"}}|{{.Label "fleet.slot"}}|{{.Label "fleet.hook"}}' 2>/dev/null); then
    APP_CONTAINERS=null UNEXPECTED=null
    return 0
  fi
  [[ -z $line ]] || mapfile -t rows <<<"$line"
  for line in "${rows[@]}"; do
    IFS='|' read -r name st p v s hook <<<"$line"
    if [[ -n $s ]]; then kind=web p=${CFG_WEB_PROCESS:-web}
    elif [[ -n $p ]]; then kind=worker
    elif [[ -n $hook ]]; then kind=hook v=${v:-$hook}
    else kind=other; fi
    why="" exp=true
    case $st in
      running | restarting | paused) why=$(ctr_why "$kind" "$name" "$p" "$v" "$s" "$serving") ;;
    esac
    if [[ -n $why ]]; then
      exp=false
      bad+="${bad:+,}$(json_str "$name")"
    fi
    obj=$(json_obj name "$name" kind "$kind" process "$p" version "$v" slot "$s" state "$st" why "$why")
    out+="${out:+,}${obj%\}},\"expected\":$exp}"
  done
  # shellcheck disable=SC2034 # read by status.sh
  APP_CONTAINERS="[$out]" UNEXPECTED="[$bad]"
}
