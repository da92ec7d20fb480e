# shellcheck shell=bash
# fleet host library: fleet.conf, parsed line by line (never sourced) and validated. Sourced by lib.sh.

# --- fleet.conf ------------------------------------------------------------------------------------
CFG_KEYS=" APP IMAGE ROOT_DIR STATE_DIR PORT_BLUE PORT_GREEN PORT_ENV UPSTREAM_FILE UPSTREAM_NAME \
NGINX_CONF NGINX_URL HEALTH_PATH HEALTH_STATUS HEALTH_TIMEOUT HEALTH_INTERVAL DRAIN_SECONDS \
KEEP_RELEASES TEXTFILE_DIR HEALTH_REQUEST_TIMEOUT STOP_TIMEOUT FLEET_VERSION REGISTRY WEB_PROCESS WORKERS "

# shellcheck disable=SC2034 # the CFG_ variables are read by the scripts that source this file
cfg_defaults() {
  CFG_PORT_ENV=PORT CFG_NGINX_CONF="" CFG_NGINX_URL=http://127.0.0.1:80 CFG_HEALTH_PATH=/health
  CFG_HEALTH_STATUS=200 CFG_HEALTH_TIMEOUT=30 CFG_HEALTH_INTERVAL=1 CFG_DRAIN_SECONDS=2
  CFG_HEALTH_REQUEST_TIMEOUT=3 CFG_STOP_TIMEOUT=30
  CFG_KEEP_RELEASES=5 CFG_TEXTFILE_DIR="" CFG_UPSTREAM_NAME=""
  CFG_APP="" CFG_IMAGE="" CFG_ROOT_DIR="" CFG_STATE_DIR="" CFG_PORT_BLUE="" CFG_PORT_GREEN=""
  CFG_UPSTREAM_FILE="" CFG_FLEET_VERSION="" CFG_REGISTRY=""
  # Without WEB_PROCESS and WORKERS (an inventory without `processes:`): the web process alone.
  CFG_WEB_PROCESS=web CFG_WORKERS="" CFG_DECLARED=0
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
    # shellcheck disable=SC2034 # read by lib-host.sh and lib-workers.sh
    [[ $key != WEB_PROCESS ]] || CFG_DECLARED=1
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
  for v in CFG_HEALTH_TIMEOUT CFG_HEALTH_INTERVAL CFG_KEEP_RELEASES CFG_HEALTH_REQUEST_TIMEOUT; do
    cfg_match "$v" '^[1-9][0-9]{0,4}$' "expected a positive whole number"
  done
  cfg_match CFG_DRAIN_SECONDS '^[0-9]{1,4}$' "expected a whole number of seconds"
  cfg_match CFG_STOP_TIMEOUT '^[0-9]{1,4}$' "expected a whole number of seconds"
  cfg_match CFG_WEB_PROCESS '^([a-z0-9][a-z0-9-]{0,62})?$' "expected a process name or nothing"
  cfg_match CFG_WORKERS '^([a-z0-9][a-z0-9-]{0,62}(,[a-z0-9][a-z0-9-]{0,62})*)?$' "expected process names separated by commas"
  ((CFG_KEEP_RELEASES >= 2)) || die 2 "$CONFIG_FILE: KEEP_RELEASES must be at least 2"
  [[ -z $CFG_REGISTRY ]] || cfg_match CFG_REGISTRY '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$' "expected a registry host[:port]"
  cfg_match CFG_FLEET_VERSION '^[A-Za-z0-9._+-]{0,64}$' "expected a version like 1.2.3 or 1.2.3+custom"
  res_str app "$CFG_APP"
}
