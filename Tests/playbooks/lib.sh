# shellcheck shell=bash
# Helpers of the host-script tests: SSH to lab hosts, remote runs, assertions, load, secrets.
# Sourced by run.sh; every suite runs in its own subshell with its own HOST_* settings and result file.

LAB=${FLEET_LAB_DIR:-/tmp/fleet-lab}
KEY=$LAB/client/id_ed25519
KH=$LAB/known_hosts
LOAD_PY=$REPO/scripts/lab/load.py

SSH_OPTS=(-i "$KEY" -o UserKnownHostsFile="$KH" -o StrictHostKeyChecking=yes -o BatchMode=yes
  -o ConnectTimeout=5 -o LogLevel=ERROR)
# hssh USER ADDR CMD: an OpenSSH session to a lab host (strict host keys, no prompts), multiplexed
# over one master connection per user and host (ended by ssh_masters_exit).
hssh() {
  local user=$1 addr=$2
  shift 2
  ssh "${SSH_OPTS[@]}" -o ControlMaster=auto -o ControlPath="$OUT/cm-%r@%h" -o ControlPersist=600 \
    "$user@$addr" "$@"
}
# hssh_own USER ADDR CMD: a session on its own TCP connection (exec'd: run it as `(hssh_own ...) &`
# and $! is the ssh client itself, which the interruption tests kill to drop the connection).
hssh_own() {
  local user=$1 addr=$2
  shift 2
  exec ssh "${SSH_OPTS[@]}" -o ControlPath=none "$user@$addr" "$@"
}
ssh_masters_exit() {
  local s
  for s in "$OUT"/cm-*; do
    [[ -S $s ]] && ssh -o ControlPath="$s" -O exit dummy >/dev/null 2>&1
  done
  return 0
}
# as_user CMD / as_root CMD: on the suite's host, as its deploy user / as root.
as_user() { hssh "$HOST_USER" "$HOST_ADDR" "$@"; }
as_root() { hssh root "$HOST_ADDR" "$@"; }

# --- results ---------------------------------------------------------------------------------------
say() { printf '[%s %s] %s\n' "$HOST_NAME" "$HOST_USER" "$*" >>"$HOST_LOG"; }
pass() { printf 'PASS %s\n' "$1" >>"$HOST_RESULTS"; say "ok   $1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2" >>"$HOST_RESULTS"; say "FAIL $1: $2"; }
# check NAME TEST...: pass when the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name" "$(printf '%q ' "$@")"; fi
}
eq() { [[ $1 == "$2" ]] || { say "  expected '$2', got '$1'"; return 1; }; }

# --- remote runs of the host scripts ----------------------------------------------------------------
# run_script NAME SCRIPT ARGS...: run bin/SCRIPT as the deploy user; sets RC, JSON (last stdout line),
# and keeps stdout+stderr in $HOST_OUT/NAME.{out,err} (searched for secrets at the end).
# RUN_CONF=FILE run_script ...: with another fleet.conf on the host.
run_script() {
  local name=$1 script=$2
  shift 2
  RC=0
  as_user "$HOST_R/bin/$script --config ${RUN_CONF:-$HOST_R/fleet.conf} $*" >"$HOST_OUT/$name.out" 2>"$HOST_OUT/$name.err" || RC=$?
  JSON=$(tail -n 1 "$HOST_OUT/$name.out")
  say "$script $* -> $RC $(printf '%s' "$JSON" | cut -c1-160)"
}
jget() { printf '%s' "$JSON" | jq -r "$1" 2>/dev/null; }
json_valid() { printf '%s' "$JSON" | jq -e 'type == "object" and has("script") and has("ok") and has("code")' >/dev/null; }

# upload_env VERSION: the env file, written locally 0600, sent through ssh's stdin (never argv).
upload_env() {
  as_user "umask 077; mkdir -p $HOST_R/incoming; cat > $HOST_R/incoming/$1.env" <"$ENV_LOCAL"
}
deploy() { # deploy NAME VERSION [ARGS]: upload the env file and deploy, in one SSH session
  local name=$1 v=$2 env=$HOST_R/incoming/$2.env
  shift 2
  RC=0
  as_user "umask 077; mkdir -p $HOST_R/incoming; cat > $env && $HOST_R/bin/deploy.sh --config $HOST_R/fleet.conf --version $v --env-file $env $*" \
    <"$ENV_LOCAL" >"$HOST_OUT/$name.out" 2>"$HOST_OUT/$name.err" || RC=$?
  JSON=$(tail -n 1 "$HOST_OUT/$name.out")
  say "deploy.sh --version $v $* -> $RC $(printf '%s' "$JSON" | cut -c1-160)"
}

# served_version: what nginx serves on the host address.
served_version() { curl -s --max-time 3 "http://$HOST_ADDR/version" || true; }
served_health() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$HOST_ADDR/health" || true; }

# --- load ------------------------------------------------------------------------------------------
load_start() { # load_start NAME [SECONDS]: load.py against the host's nginx, bounded (120 s)
  python3 "$LOAD_PY" "$HOST_ADDR" --seconds "${2:-120}" --interval 0.01 --timeout 2 >"$HOST_OUT/load-$1.json" 2>&1 &
  LOAD_PID=$!
  sleep 1 # python's start; a SIGTERM before its handler is installed would lose the summary
}
load_stop() { # load_stop NAME: stop it and read its summary into LOAD
  sleep 0.5
  kill -TERM "$LOAD_PID" 2>/dev/null || true
  wait "$LOAD_PID" 2>/dev/null || true
  LOAD=$(jq -c --arg h "$HOST_ADDR" '.hosts[$h] // {}' "$HOST_OUT/load-$1.json" 2>/dev/null) || LOAD=""
  [[ -n $LOAD ]] || LOAD='{}'

  say "load $1: $(printf '%s' "$LOAD" | jq -c '{total, failed, versions_seen, switches, errors}')"
}
lget() { printf '%s' "$LOAD" | jq -r "$1" 2>/dev/null; }
# switch_window: seconds between the first answer of the last version and the last answer of any
# other (nginx's old workers may answer a few requests while a reload settles).
switch_window() {
  printf '%s' "$LOAD" | jq -r '.versions as $r | ($r[-1].version) as $new
    | ([$r[] | select(.version == $new)][0].first_at) as $f
    | ([$r[] | select(.version != $new) | .last_at] | max // $f) as $l
    | if $l > $f then $l - $f else 0 end'
}

# --- secrets ---------------------------------------------------------------------------------------
# ps_sampler_start: sample every process's argv on the host every 50 ms (bounded: 40 s).
ps_sampler_start() {
  # shellcheck disable=SC2016 # expanded by the host's shell
  as_user 'for i in $(seq 800); do ps -eo args=; sleep 0.05; done' >"$HOST_OUT/ps-$1.txt" 2>/dev/null &
  PS_PID=$!
}
ps_sampler_stop() { kill "$PS_PID" 2>/dev/null || true; wait "$PS_PID" 2>/dev/null || true; }
# no_secret FILE...: the secret value (read from a pattern file, never from argv) is in none of them.
no_secret() { ! grep -qF -f "$SECRET_PATTERN" -- "$@" 2>/dev/null; }

# --- host state --------------------------------------------------------------------------------------
# host_reset: a clean host for this suite (as root): no demo containers, empty state, scripts and
# fleet.conf uploaded as the deploy user, the upstream file back at the lab's first version.
host_reset() {
  local reset="docker rm -f demo-blue demo-green >/dev/null 2>&1;
    rm -rf $HOST_DIR/state/* $HOST_DIR/state/.[!.]* $HOST_R/bin $HOST_R/incoming $HOST_R/test $HOST_R/fleet.conf &&
    printf 'upstream fleet_demo {\n    server 127.0.0.1:8080;\n}\n' > $HOST_DIR/nginx/.fleet-demo.conf.pbtmp &&
    mv -f $HOST_DIR/nginx/.fleet-demo.conf.pbtmp $HOST_DIR/nginx/fleet-demo.conf"
  # As the deploy user (root logins can be slow here); root only for what an earlier root run left.
  if ! as_user "$reset"; then
    as_root "chown -R fleetlab:fleetlab $HOST_DIR/state $HOST_R $HOST_DIR/nginx/fleet-demo.conf" || return 1
    as_user "$reset" || return 1
  fi
  as_user "$(nginx_sudo) -s reload -c $HOST_DIR/nginx/nginx.conf" || return 1
  as_user "mkdir -p $HOST_R/bin $HOST_R/incoming $HOST_R/test && chmod 0700 $HOST_R/incoming"
  scp -q "${SSH_OPTS[@]}" "${PB_PLAYBOOKS:-$REPO/playbooks}"/*.sh "$HOST_OUT/fleet.conf" "$HOST_USER@$HOST_ADDR:$HOST_R/bin/"
  scp -q "${SSH_OPTS[@]}" "$HERE/host-check.sh" "$HOST_USER@$HOST_ADDR:$HOST_R/test/"
  as_user "mv $HOST_R/bin/fleet.conf $HOST_R/fleet.conf && chmod 0755 $HOST_R/bin/*.sh $HOST_R/test/*.sh"
}
nginx_sudo() { if [[ $HOST_USER == root ]]; then printf nginx; else printf 'sudo -n /usr/sbin/nginx'; fi; }

write_conf() { # the fleet.conf of this lab host, as the plan renders it
  cat >"$HOST_OUT/fleet.conf" <<CONF
APP=demo
IMAGE=10.77.0.1:5000/demo
ROOT_DIR=$HOST_R
STATE_DIR=$HOST_DIR/state
PORT_BLUE=8080
PORT_GREEN=8081
PORT_ENV=PORT
UPSTREAM_FILE=$HOST_DIR/nginx/fleet-demo.conf
UPSTREAM_NAME=fleet_demo
NGINX_CONF=$HOST_DIR/nginx/nginx.conf
NGINX_URL=http://127.0.0.1:80
HEALTH_PATH=/health
HEALTH_STATUS=200
HEALTH_TIMEOUT=${PB_HEALTH_TIMEOUT:-8}
HEALTH_INTERVAL=1
DRAIN_SECONDS=${PB_DRAIN_SECONDS:-1}
KEEP_RELEASES=3
TEXTFILE_DIR=
CONF
}

