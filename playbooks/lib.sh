# shellcheck shell=bash
# fleet host library: logging, the JSON result line, signals, temp files, the command line.
# Sourced by the playbooks (never executed). It sources its siblings: lib-config.sh (fleet.conf, parsed
# line by line, never sourced), lib-state.sh (state files), lib-host.sh (docker, health),
# lib-nginx.sh (nginx, the upstream file, the switch), lib-image.sh (the pull and its record),
# lib-lock.sh (locks) and lib-workers.sh (the worker processes); deploy.sh and rollback.sh also source lib-swap.sh (the swap), which sources
# lib-release.sh (the release records, pruning, metrics) and lib-recover.sh (recovery).

umask 077
export LC_ALL=C

SCRIPT_NAME=${SCRIPT_NAME:-fleet}
RESULT_DONE=0
RESULT_FIELDS=()
TMP_FILES=()
OUT_BROKEN=0
CRITICAL=0
NO_RETURN=0 # past the point of no return (the release is recorded): the switch finishes whatever comes
PENDING_SIGNAL=
CONFIG_FILE=

# --- messages (stderr; a dropped SSH connection must never kill us through a write) ---------------
log() {
  ((OUT_BROKEN)) && return 0
  printf 'fleet %s: %s\n' "$SCRIPT_NAME" "$*" >&2 2>/dev/null || true
}

# last_lines N TEXT: the last N non-blank lines of a command's output on one line, joined by "; " (for a
# message: no trailing space, no line breaks).
last_lines() {
  local -a ll_all=() ll_keep=()
  local i l
  mapfile -t ll_all <<<"$2"
  for ((i = ${#ll_all[@]} - 1; i >= 0 && ${#ll_keep[@]} < $1; i--)); do
    l=${ll_all[i]%$'\r'}
    [[ -z ${l//[[:space:]]/} ]] || ll_keep=("$l" "${ll_keep[@]}")
  done
  ((${#ll_keep[@]})) || return 0
  printf '%s' "${ll_keep[0]}"
  ((${#ll_keep[@]} < 2)) || printf '; %s' "${ll_keep[@]:1}"
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
  if ((CRITICAL || NO_RETURN)); then
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
# critical_end: leave the critical section; a signal that came meanwhile ends the script now (unless
# past the point of no return: then at no_return_end, once the old generation is stopped).
critical_end() {
  CRITICAL=0
  if [[ -n $PENDING_SIGNAL ]] && ((NO_RETURN == 0)); then
    local sig=$PENDING_SIGNAL
    PENDING_SIGNAL=
    on_signal "$sig"
  fi
}

# no_return_begin / no_return_end: once the release is recorded, the rest of the switch (stopping the old
# generation) must finish even when the controller goes away (HUP, or PIPE on a write to the closed
# channel): signals wait until no_return_end, and messages stop once the output is gone.
no_return_begin() { NO_RETURN=1; }
no_return_end() {
  NO_RETURN=0
  ((CRITICAL)) || critical_end
}

# test_pause NAME: a numbered kill point for the tests (never in production): only when the environment
# names it in FLEET_TEST_PAUSE_AT and STATE_DIR/.test-pause exists, write STATE_DIR/.paused-NAME and wait
# until the test removes it (the test kills fleet, the connection or dockerd meanwhile).
test_pause() {
  [[ -n ${FLEET_TEST_PAUSE_AT:-} && $FLEET_TEST_PAUSE_AT == "$1" && -f $CFG_STATE_DIR/.test-pause ]] || return 0
  : >"$CFG_STATE_DIR/.paused-$1"
  log "test pause at $1"
  while [[ -f $CFG_STATE_DIR/.paused-$1 ]]; do sleep 0.2; done
}

# mk_tmp DIR PREFIX: sets TMP to a new temp file in DIR (removed on exit unless moved).
mk_tmp() {
  TMP=$(mktemp "$1/.$2.XXXXXX") || die 16 "cannot create a temporary file in $1 (check its owner and mode)"
  TMP_FILES+=("$TMP")
}

# --- arguments -------------------------------------------------------------------------------------
valid_version() { [[ $1 =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; }
valid_token() { [[ $1 =~ ^[A-Za-z0-9@._:+-]{1,128}$ ]]; }

# check_arg OPTION VALUE: the one place each kind of argument value is checked (exit 2): the version
# (--version, --to) is a docker tag, --run-id a token of the lock records' grammar, --login a registry username.
check_arg() {
  case $1 in
    --version | --to)
      valid_version "$2" || die 2 "version '$2': expected letters, digits, . _ - (a docker tag)" ;;
    --run-id)
      valid_token "$2" || die 2 "--run-id '$2': expected letters, digits, @ . _ : + -" ;;
    --login)
      [[ $2 =~ ^[A-Za-z0-9._@+][A-Za-z0-9._@+-]{0,127}$ ]] ||
        die 2 "--login '$2': expected a registry username of letters, digits, . _ @ + -" ;;
  esac
}

# parse_args SPEC USAGE ARGS...: the command line of every host script, then fleet.conf (load_config).
# SPEC lists the options the script takes: --NAME=VAR takes a value (--NAME=VAR! must be given),
# --NAME:VAR is a flag (VAR=1); "--" lets "--" end the options and "@" lets other words through; both
# land in ARGS. -h prints the script's header. Every value is checked once, after fleet.conf, by check_arg.
ARGS=()
parse_args() {
  local -a spec
  local usage=$2 s opt var word found
  read -r -a spec <<<"$1"
  shift 2
  for s in "${spec[@]}"; do
    case $s in
      --*=*) var=${s#*=}; printf -v "${var%!}" '%s' "" ;;
      --*:*) printf -v "${s#*:}" '%s' 0 ;;
    esac
  done
  while (($#)); do
    word=$1 found=""
    case $word in
      -h | --help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" >&2; exit 2 ;;
      --) if [[ " ${spec[*]} " == *" -- "* ]]; then shift; ARGS+=("$@"); break; fi ;;
      --*) for s in "${spec[@]}"; do [[ $s == "$word="* || $s == "$word:"* ]] && { found=$s; break; }; done ;;
      *) if [[ " ${spec[*]} " == *" @ "* ]]; then ARGS+=("$word"); shift; continue; fi ;;
    esac
    [[ -n $found ]] || die 2 "unknown argument '$word' (usage: $usage)"
    if [[ $found == *=* ]]; then
      (($# >= 2)) || die 2 "$word needs a value"
      var=${found#*=}
      printf -v "${var%!}" '%s' "$2"
      shift 2
    else
      printf -v "${found#*:}" '%s' 1
      shift
    fi
  done
  load_config "${CONFIG:-}"
  for s in "${spec[@]}"; do
    [[ $s == --*=* ]] || continue
    opt=${s%%=*} var=${s#*=} found=""
    [[ $var == *! ]] && found=required
    var=${var%!}
    if [[ -n ${!var} ]]; then
      check_arg "$opt" "${!var}"
    elif [[ -n $found ]]; then
      die 2 "missing $opt"
    fi
  done
}

# Sibling libraries.
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib-config.sh
. "$LIB_DIR/lib-config.sh"
# shellcheck source=lib-state.sh
. "$LIB_DIR/lib-state.sh"
# shellcheck source=lib-host.sh
. "$LIB_DIR/lib-host.sh"
# shellcheck source=lib-nginx.sh
. "$LIB_DIR/lib-nginx.sh"
# shellcheck source=lib-image.sh
. "$LIB_DIR/lib-image.sh"
# shellcheck source=lib-lock.sh
. "$LIB_DIR/lib-lock.sh"
# shellcheck source=lib-workers.sh
. "$LIB_DIR/lib-workers.sh"
