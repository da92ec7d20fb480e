# shellcheck shell=bash
# fleet host library, part 2: state files (KEY=VALUE, written atomically), history, slots and names.
# Sourced by lib.sh.

# --- state files (KEY=VALUE, written atomically: temp file in the same folder, then mv -f) ---------
state_path() { printf '%s/%s' "$CFG_STATE_DIR" "$1"; }

# write_atomic PATH MODE < content
write_atomic() {
  local dest=$1 mode=$2
  mk_tmp "$(dirname -- "$dest")" "$(basename -- "$dest").tmp"
  cat >"$TMP"
  chmod "$mode" "$TMP"
  # root keeps the owner of a file it replaces (the deploy user must still be able to rewrite it).
  if ((EUID == 0)) && [[ -e $dest ]]; then chown --reference="$dest" -- "$TMP" 2>/dev/null || true; fi
  mv -f -- "$TMP" "$dest"
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
release_kv() { # release_kv SLOT VERSION IMAGE PORT BY RUN_ID ACTION
  printf 'SLOT=%s\nVERSION=%s\nIMAGE=%s\nCONTAINER=%s\nPORT=%s\nDEPLOYED_AT=%s\nDEPLOYED_BY=%s\nRUN_ID=%s\nACTION=%s\n' \
    "$1" "$2" "$3" "$(container_name "$1")" "$4" "$(now_iso)" "$5" "$6" "$7"
}

# release_json FILE: a state file as a JSON object (null when missing).
release_json() {
  [[ -f $1 ]] || { printf 'null'; return 0; }
  json_obj version "$(kv_get "$1" VERSION)" image "$(kv_get "$1" IMAGE)" slot "$(kv_get "$1" SLOT)" \
    container "$(kv_get "$1" CONTAINER)" deployed_at "$(kv_get "$1" DEPLOYED_AT)" \
    deployed_by "$(kv_get "$1" DEPLOYED_BY)" action "$(kv_get "$1" ACTION)"
}

# history_add JSON: append one line to STATE_DIR/history (atomically; the last 1000 lines are kept).
history_add() {
  local h
  h=$(state_path history)
  { if [[ -f $h ]]; then tail -n 999 -- "$h"; fi; printf '%s\n' "$1"; } | write_atomic "$h" 0600
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
