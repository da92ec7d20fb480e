# shellcheck shell=bash
# fleet host library: logging, the JSON result line, signals, fleet.conf parsing, state files.
# Sourced by the playbooks (never executed). fleet.conf is parsed line by line, never sourced.
# It sources its siblings: lib-state.sh (state files), lib-host.sh (docker, health, nginx) and
# lib-lock.sh (locks); deploy.sh and rollback.sh also source lib-swap.sh (recovery and the swap).

umask 077
export LC_ALL=C

SCRIPT_NAME=${SCRIPT_NAME:-fleet}
RESULT_DONE=0
RESULT_FIELDS=()
TMP_FILES=()
OUT_BROKEN=0
CRITICAL=0
PENDING_SIGNAL=
CONFIG_FILE=

# --- messages (stderr; a dropped SSH connection must never kill us through a write) ---------------
log() {
  ((OUT_BROKEN)) && return 0
  printf 'fleet %s: %s\n' "$SCRIPT_NAME" "$*" >&2 2>/dev/null || true
}

now_iso() { date -u +%Y-%m-%dT%H:%M:%SZ; }
now_ms() { date +%s%3N; }

# --- JSON ----------------------------------------------------------------------------------------
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  s=${s//[$'\001'-$'\037']/}
  printf '"%s"' "$s"
}

# res_str KEY VALUE / res_raw KEY JSON / res_num KEY NUMBER: add a field to the result line.
res_str() { RESULT_FIELDS+=("\"$1\":$(json_str "$2")"); }
res_raw() { RESULT_FIELDS+=("\"$1\":$2"); }
res_num() {
  if [[ $2 =~ ^-?(0|[1-9][0-9]*)$ ]]; then RESULT_FIELDS+=("\"$1\":$2"); else res_str "$1" "$2"; fi
}

# json_obj K1 V1 K2 V2 ...: a flat object of strings; a value that is a JSON whole number (0, or
# digits without a leading 0) is written as a number. "000" or "007" stay strings: JSON has no
# leading zeros.
json_obj() {
  local out="" sep=""
  while (($# >= 2)); do
    if [[ $2 =~ ^(0|[1-9][0-9]*)$ ]]; then out+="$sep\"$1\":$2"; else out+="$sep\"$1\":$(json_str "$2")"; fi
    sep=","
    shift 2
  done
  printf '{%s}' "$out"
}

emit_result() {
  local code=$1 ok=false line f
  ((RESULT_DONE)) && return 0
  RESULT_DONE=1
  ((code == 0)) && ok=true
  line="{\"script\":\"$SCRIPT_NAME\",\"ok\":$ok,\"code\":$code"
  for f in "${RESULT_FIELDS[@]}"; do line+=",$f"; done
  line+="}"
  ((OUT_BROKEN)) && return 0
  printf '%s\n' "$line" 2>/dev/null || true
}

# die CODE MESSAGE: the message goes to stderr and into the result line; the EXIT trap cleans up.
die() {
  local code=$1
  shift
  log "error: $*"
  res_str error "$*"
  exit "$code"
}

# --- exit, signals and cleanup ---------------------------------------------------------------------
# Scripts may define on_cleanup (called once, on every exit path).
# on_exit [CODE]: the EXIT trap (CODE: $?), also called by on_signal.
on_exit() {
  local code=${1:-$?}
  trap '' HUP INT TERM PIPE
  if declare -F on_cleanup >/dev/null; then on_cleanup "$code" || true; fi
  local f
  for f in "${TMP_FILES[@]}"; do rm -f -- "$f" 2>/dev/null || true; done
  emit_result "$code"
  exit "$code"
}

# HUP/INT/TERM/PIPE: outside the critical switch, stop now (exit 128+n; on_cleanup undoes the
# half-done step). Inside it, remember the signal; the switch finishes and honours it afterwards.
on_signal() {
  local sig=$1 n
  case $sig in HUP | PIPE) n=129 ;; INT) n=130 ;; *) n=143 ;; esac
  if [[ $sig == HUP || $sig == PIPE ]]; then
    # The SSH connection is gone: nobody reads our output any more.
    OUT_BROKEN=1
    exec >/dev/null 2>&1
  fi
  # It came as on_exit started, before that ignores signals: let it clean up and report.
  [[ " ${FUNCNAME[*]} " != *" on_exit "* ]] || return 0
  if ((CRITICAL)); then
    [[ -n $PENDING_SIGNAL ]] || PENDING_SIGNAL=$sig
    return 0
  fi
  res_str interrupted "$sig"
  log "interrupted by SIG$sig; cleaning up"
  # on_exit is run from here: a signal that lands just as `exit` runs would end the shell without
  # its EXIT trap (no cleanup, no result line).
  trap - EXIT
  on_exit "$n"
}

install_traps() {
  trap on_exit EXIT
  trap 'on_signal HUP' HUP
  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM
  trap 'on_signal PIPE' PIPE
}

critical_begin() { CRITICAL=1; }
# critical_end: leave the critical section; a signal that came meanwhile ends the script now.
critical_end() {
  CRITICAL=0
  if [[ -n $PENDING_SIGNAL ]]; then
    local sig=$PENDING_SIGNAL
    PENDING_SIGNAL=
    on_signal "$sig"
  fi
}

# mk_tmp DIR PREFIX: sets TMP to a new temp file in DIR (removed on exit unless moved).
mk_tmp() {
  TMP=$(mktemp "$1/.$2.XXXXXX") || die 16 "cannot create a temporary file in $1 (check its owner and mode)"
  TMP_FILES+=("$TMP")
}

# --- fleet.conf ------------------------------------------------------------------------------------
CFG_KEYS=" APP IMAGE ROOT_DIR STATE_DIR PORT_BLUE PORT_GREEN PORT_ENV UPSTREAM_FILE UPSTREAM_NAME \
NGINX_CONF NGINX_URL HEALTH_PATH HEALTH_STATUS HEALTH_TIMEOUT HEALTH_INTERVAL DRAIN_SECONDS \
KEEP_RELEASES TEXTFILE_DIR "

# shellcheck disable=SC2034 # the CFG_ variables are read by the scripts that source this file
cfg_defaults() {
  CFG_PORT_ENV=PORT CFG_NGINX_CONF="" CFG_NGINX_URL=http://127.0.0.1:80 CFG_HEALTH_PATH=/health
  CFG_HEALTH_STATUS=200 CFG_HEALTH_TIMEOUT=30 CFG_HEALTH_INTERVAL=1 CFG_DRAIN_SECONDS=2
  CFG_KEEP_RELEASES=5 CFG_TEXTFILE_DIR="" CFG_UPSTREAM_NAME=""
  CFG_APP="" CFG_IMAGE="" CFG_ROOT_DIR="" CFG_STATE_DIR="" CFG_PORT_BLUE="" CFG_PORT_GREEN=""
  CFG_UPSTREAM_FILE=""
}

# load_config FILE: parse and validate; any problem exits 2 naming the file, line and key.
load_config() {
  local file=$1 line key val n=0
  CONFIG_FILE=$file
  [[ -n $file ]] || die 2 "missing --config FILE"
  [[ -f $file && -r $file ]] || die 2 "config $file: not a readable file"
  cfg_defaults
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    [[ -z ${line//[[:space:]]/} || $line == \#* ]] && continue
    [[ $line =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]] || die 2 "$file:$n: expected KEY=VALUE"
    key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
    [[ $CFG_KEYS == *" $key "* ]] || die 2 "$file:$n: unknown key $key"
    if [[ $val =~ [[:space:]\"\'\$\`\\] ]]; then
      die 2 "$file:$n: $key: value has a space, quote, \$, backtick or backslash"
    fi
    printf -v "CFG_$key" '%s' "$val"
  done <"$file"
  cfg_validate
}

cfg_need() { [[ -n ${!1} ]] || die 2 "$CONFIG_FILE: ${1#CFG_} is required"; }
cfg_match() { # cfg_match VAR REGEX WHAT
  [[ ${!1} =~ $2 ]] || die 2 "$CONFIG_FILE: ${1#CFG_}=${!1}: $3"
}

cfg_validate() {
  local v
  for v in CFG_APP CFG_IMAGE CFG_ROOT_DIR CFG_STATE_DIR CFG_PORT_BLUE CFG_PORT_GREEN CFG_UPSTREAM_FILE; do
    cfg_need "$v"
  done
  cfg_match CFG_APP '^[a-z0-9][a-z0-9_.-]{0,62}$' "expected lowercase letters, digits, . _ -"
  cfg_match CFG_IMAGE '^[a-z0-9][A-Za-z0-9._/:-]*$' "not an image reference"
  [[ $CFG_IMAGE =~ :[^/]*$ ]] && die 2 "$CONFIG_FILE: IMAGE=$CFG_IMAGE: leave the tag out (it is the version)"
  for v in CFG_ROOT_DIR CFG_STATE_DIR CFG_UPSTREAM_FILE; do cfg_match "$v" '^/' "expected an absolute path"; done
  [[ -z $CFG_NGINX_CONF ]] || cfg_match CFG_NGINX_CONF '^/' "expected an absolute path"
  [[ -z $CFG_TEXTFILE_DIR ]] || cfg_match CFG_TEXTFILE_DIR '^/' "expected an absolute path"
  for v in CFG_PORT_BLUE CFG_PORT_GREEN; do
    cfg_match "$v" '^[1-9][0-9]{0,4}$' "expected a port number"
    ((${!v} <= 65535)) || die 2 "$CONFIG_FILE: ${v#CFG_}=${!v}: port out of range"
  done
  [[ $CFG_PORT_BLUE != "$CFG_PORT_GREEN" ]] || die 2 "$CONFIG_FILE: PORT_BLUE and PORT_GREEN must differ"
  cfg_match CFG_PORT_ENV '^[A-Za-z_][A-Za-z0-9_]*$' "expected a variable name"
  [[ -n $CFG_UPSTREAM_NAME ]] || CFG_UPSTREAM_NAME=fleet_${CFG_APP//[.-]/_}
  cfg_match CFG_UPSTREAM_NAME '^[A-Za-z0-9_]+$' "expected letters, digits and _"
  cfg_match CFG_NGINX_URL '^https?://[^/]+$' "expected http(s)://HOST[:PORT] without a path"
  cfg_match CFG_HEALTH_PATH '^/[A-Za-z0-9._~/%?=&-]*$' "expected a path starting with /"
  cfg_match CFG_HEALTH_STATUS '^[1-5][0-9][0-9]$' "expected an HTTP status"
  for v in CFG_HEALTH_TIMEOUT CFG_HEALTH_INTERVAL CFG_KEEP_RELEASES; do
    cfg_match "$v" '^[1-9][0-9]{0,4}$' "expected a positive whole number"
  done
  cfg_match CFG_DRAIN_SECONDS '^[0-9]{1,4}$' "expected a whole number of seconds"
  ((CFG_KEEP_RELEASES >= 2)) || die 2 "$CONFIG_FILE: KEEP_RELEASES must be at least 2"
  res_str app "$CFG_APP"
}

# --- arguments -------------------------------------------------------------------------------------
valid_version() { [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; }
need_version() { valid_version "$1" || die 2 "version '$1': expected letters, digits, . _ - (a docker tag)"; }
valid_token() { [[ $1 =~ ^[A-Za-z0-9@._:+-]{1,128}$ ]]; }
need_arg() { (($2 >= 2)) || die 2 "$1 needs a value"; }

# Sibling libraries.
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib-state.sh
. "$LIB_DIR/lib-state.sh"
# shellcheck source=lib-host.sh
. "$LIB_DIR/lib-host.sh"
# shellcheck source=lib-lock.sh
. "$LIB_DIR/lib-lock.sh"
