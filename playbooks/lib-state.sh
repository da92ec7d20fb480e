# shellcheck shell=bash
# fleet host library, part 2: state files (KEY=VALUE, written atomically), history, slots and names.
# Sourced by lib.sh.

# --- state files (KEY=VALUE, written atomically: temp file in the same folder, then mv -f) ---------
state_path() { printf '%s/%s' "$CFG_STATE_DIR" "$1"; }

# put_file FILE [NAME] < content: write stdin to FILE; on failure (a full or read-only disk, a missing
# right) status 1, never an exit, with WRITE_ERR "cannot write NAME: <the system's reason>".
WRITE_ERR=""
put_file() {
  local err
  if ! err=$(cat 2>&1 >"$1"); then
    err=${err##*: }
    WRITE_ERR="cannot write ${2:-$1}: ${err:-write failed}"
    return 1
  fi
}

# stage_file PATH MODE < content: write the content to a temp file beside PATH, to be renamed into
# place by commit_staged (so several files are all written before any of them changes). Status 1 with
# WRITE_ERR when it cannot be written (then nothing staged so far is kept).
STAGED=()
stage_begin() { STAGED=(); }
stage_file() {
  local dest=$1 mode=$2 tmp
  WRITE_ERR=""
  if ! tmp=$(mktemp "$(dirname -- "$dest")/.$(basename -- "$dest").tmp.XXXXXX" 2>&1); then
    cat >/dev/null
    WRITE_ERR="cannot create a file in $(dirname -- "$dest"): ${tmp##*: }"
    drop_staged
    return 1
  fi
  TMP_FILES+=("$tmp")
  put_file "$tmp" "$dest" || { rm -f -- "$tmp"; drop_staged; return 1; }
  chmod "$mode" "$tmp"
  # root keeps the owner of a file it replaces (the deploy user must still be able to rewrite it).
  if ((EUID == 0)) && [[ -e $dest ]]; then chown --reference="$dest" -- "$tmp" 2>/dev/null || true; fi
  STAGED+=("$tmp" "$dest")
}
drop_staged() {
  local i
  for ((i = 0; i < ${#STAGED[@]}; i += 2)); do rm -f -- "${STAGED[i]}"; done
  STAGED=()
}
# commit_staged: rename the staged files into place, in the order they were staged (a rename needs no
# free space). Status 1 with WRITE_ERR if one cannot be renamed.
commit_staged() {
  local i err
  for ((i = 0; i < ${#STAGED[@]}; i += 2)); do
    if ! err=$(mv -f -- "${STAGED[i]}" "${STAGED[i + 1]}" 2>&1); then
      WRITE_ERR="cannot replace ${STAGED[i + 1]}: ${err##*: }"
      drop_staged
      return 1
    fi
  done
  STAGED=()
}

# try_write_atomic PATH MODE < content: the whole file or nothing (temp file in the same folder, then
# mv -f). Status 1 with WRITE_ERR set when it cannot be written; PATH is then untouched.
try_write_atomic() {
  stage_begin
  stage_file "$1" "$2" && commit_staged
}

# write_atomic PATH MODE < content: as try_write_atomic; a failure exits 21 naming the file and reason.
write_atomic() {
  try_write_atomic "$@" || die 21 "$WRITE_ERR - free space there (df -h $(dirname -- "$1")), or fix its rights; then run again"
}

# kv_get FILE KEY: the value of KEY in a KEY=VALUE file (empty when missing).
kv_get() {
  local line
  [[ -f $1 ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line == "$2="* ]]; then
      printf '%s' "${line#*=}"
      return 0
    fi
  done <"$1"
}

# A release record: SLOT VERSION IMAGE CONTAINER PORT DEPLOYED_AT DEPLOYED_BY RUN_ID ACTION
# (SLOT empty: a host without the web process; no container, no port).
release_kv() { # release_kv SLOT VERSION IMAGE PORT BY RUN_ID ACTION
  printf 'SLOT=%s\nVERSION=%s\nIMAGE=%s\nCONTAINER=%s\nPORT=%s\nDEPLOYED_AT=%s\nDEPLOYED_BY=%s\nRUN_ID=%s\nACTION=%s\n' \
    "$1" "$2" "$3" "$(if [[ -n $1 ]]; then container_name "$1"; fi)" "$4" "$(now_iso)" "$5" "$6" "$7"
}

# release_json FILE: a state file as a JSON object (null when missing).
release_json() {
  [[ -f $1 ]] || { printf 'null'; return 0; }
  json_obj version "$(kv_get "$1" VERSION)" image "$(kv_get "$1" IMAGE)" slot "$(kv_get "$1" SLOT)" \
    container "$(kv_get "$1" CONTAINER)" deployed_at "$(kv_get "$1" DEPLOYED_AT)" \
    deployed_by "$(kv_get "$1" DEPLOYED_BY)" action "$(kv_get "$1" ACTION)"
}

# history_add JSON: append one line to STATE_DIR/history (atomically; the last 1000 lines are kept).
# Never fatal: a history line that cannot be written is a warning (the release itself is recorded).
history_add() {
  local h
  h=$(state_path history)
  if ! try_write_atomic "$h" 0600 < <(if [[ -f $h ]]; then tail -n 999 -- "$h"; fi; printf '%s\n' "$1"); then
    log "warning: history not written: ${WRITE_ERR:-write failed}"
  fi
  return 0
}

slot_port() { if [[ $1 == blue ]]; then printf '%s' "$CFG_PORT_BLUE"; else printf '%s' "$CFG_PORT_GREEN"; fi; }
other_slot() { if [[ $1 == blue ]]; then printf green; else printf blue; fi; }
container_name() { printf '%s-%s' "$CFG_APP" "$1"; }
port_slot() { # port_slot PORT -> blue|green|"" 
  if [[ $1 == "$CFG_PORT_BLUE" ]]; then printf blue; elif [[ $1 == "$CFG_PORT_GREEN" ]]; then printf green; fi
}
# whoami_str: USER@HOST, cut to the token grammar of the lock records ([A-Za-z0-9@._:+-], 128 at most).
whoami_str() {
  local s
  s="${SUDO_USER:-$(id -un)}@$(hostname 2>/dev/null || echo host)"
  s=${s//[^A-Za-z0-9@._:+-]/_}
  printf '%s' "${s:0:128}"
}
