# shellcheck shell=bash
# Helpers of the fault suite: results, SSH to the lab hosts, the real fleet binary, the load, and what
# each host looks like (status.sh, the locks, the uploads). Sourced by run.sh.

KEY=$LAB/client/id_ed25519
KH=$LAB/known_hosts
SSH_OPTS=(-i "$KEY" -o UserKnownHostsFile="$KH" -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=5
  -o LogLevel=ERROR -o ControlMaster=auto -o ControlPersist=120)

# --- results -----------------------------------------------------------------------------------------
say() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$FD/out/log" >&2; }
pass() { printf 'PASS %s\n' "$1" >>"$FD/out/results"; say "ok   $1"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2" >>"$FD/out/results"; say "FAIL $1: $2"; }
check() { # check NAME TEST...
  local name=$1
  shift
  if "$@"; then pass "$name"; else fail "$name" "$(printf '%q ' "$@")"; fi
}
eq() { [[ $1 == "$2" ]] || { say "  expected '$2', got '$1'"; return 1; }; }

# --- hosts -------------------------------------------------------------------------------------------
hssh() { # hssh I CMD: as root on host I (one master connection per host)
  local i=$1
  shift
  timeout 60 ssh "${SSH_OPTS[@]}" -o ControlPath="$FD/cm-%h" "root@$(host_addr "$i")" "$@"
}
ssh_masters_exit() {
  local s
  for s in "$FD"/cm-*; do [[ -S $s ]] && ssh -o ControlPath="$s" -O exit dummy >/dev/null 2>&1; done
  return 0
}
hdir() { printf '%s/hosts/web%s' "$FD" "$1"; }
conf() { printf '%s/opt/fleet.conf' "$(hdir "$1")"; }
# hstatus I: status.sh of the installed scripts on host I (its JSON line; {} when it cannot be read).
hstatus() {
  local out
  out=$(hssh "$1" "$(hdir "$1")/opt/bin/status.sh --config $(conf "$1") 2>/dev/null | tail -n 1") || out=""
  [[ $out == '{'* ]] || out='{}'
  printf '%s' "$out"
}
hlock() { # hlock I: lock.sh status (holder and busy)
  local out
  out=$(hssh "$1" "$(hdir "$1")/opt/bin/lock.sh --config $(conf "$1") status 2>/dev/null | tail -n 1") || out=""
  [[ $out == '{'* ]] || out='{}'
  printf '%s' "$out"
}
served() { curl -s --max-time 3 "http://$(host_addr "$1"):$NGINX_PORT/version" 2>/dev/null || true; }
served_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://$(host_addr "$1"):$NGINX_PORT/health" 2>/dev/null || true; }
# wait_scripts_gone I SECONDS: until no deploy or rollback of this suite runs on host I.
wait_scripts_gone() {
  local i=$1 end=$((SECONDS + $2))
  while ((SECONDS < end)); do
    pgrep -f "$(hdir "$i")/opt/bin/(deploy|rollback)\.sh" >/dev/null || return 0
    sleep 0.3
  done
  return 1
}

# host_sound I: the host as every scenario must leave it: healthy through its nginx, nginx and current
# agree (status.sh's consistent), no fleet lock, no host lock, no live run, no upload left behind.
# Counts into INCONSISTENT and LEAKED; says what is wrong.
INCONSISTENT=0
LEAKED=0
host_sound() {
  local i=$1 st lk bad="" left
  st=$(hstatus "$i")
  lk=$(hlock "$i")
  if [[ $(jq -r '.consistent' <<<"$st") != true ]]; then
    INCONSISTENT=$((INCONSISTENT + 1))
    bad+=" inconsistent: $(jq -r '.inconsistency // "no status"' <<<"$st");"
  fi
  [[ $(jq -r '.health' <<<"$st") == healthy ]] || bad+=" health $(jq -r '.health' <<<"$st");"
  [[ $(served_code "$i") == 200 ]] || bad+=" nginx answers $(served_code "$i");"
  [[ $(served "$i") == "$(jq -r '.current.version' <<<"$st")" ]] || bad+=" nginx serves $(served "$i"), current $(jq -r '.current.version' <<<"$st");"
  if [[ $(jq -c '[.holder, .busy]' <<<"$lk") != '[null,null]' || $(jq -r '.lock.host' <<<"$st") != null ]]; then
    LEAKED=$((LEAKED + 1))
    bad+=" lock left: $(jq -c '{holder, busy}' <<<"$lk");"
  fi
  left=$(hssh "$i" "ls -A $(hdir "$i")/opt/incoming 2>/dev/null" | tr '\n' ' ')
  [[ -z $left ]] || bad+=" uploads left: $left;"
  [[ -z $bad ]] || { say "  web$i:$bad"; return 1; }
}
all_sound() { # all_sound NAME: host_sound on every host, one check per host
  local i
  for ((i = 1; i <= N; i++)); do check "$1: web$i sound (healthy, consistent, unlocked)" host_sound "$i"; done
}
serving_all() { # serving_all VERSION: every host serves VERSION
  local i
  for ((i = 1; i <= N; i++)); do [[ $(served "$i") == "$1" ]] || { say "  web$i serves '$(served "$i")'"; return 1; }; done
}
next_version() { if [[ $(served 1) == v1 ]]; then printf v2; else printf v1; fi; }

# --- fleet -------------------------------------------------------------------------------------------
# fleet_bg NAME ARGS...: start the real binary in the background (FLEET_PID), output in out/NAME.log;
# bounded by timeout (TERM after FLEET_TIMEOUT s, KILL 10 s later).
fleet_bg() {
  local name=$1
  shift
  FLEET_PLAYBOOKS=${PLAYBOOKS:-$REPO/playbooks} USER=faults timeout -k 10 "${FLEET_TIMEOUT:-240}" \
    "$FLEET" "$@" >"$FD/out/$name.log" 2>&1 &
  FLEET_PID=$!
  printf '%s\n' "$FLEET_PID" >>"$FD/pids"
}
fleet_wait() { RC=0; wait "$1" || RC=$?; }
fleet_run() { # fleet_run NAME ARGS...: run it to the end; RC is its exit status
  fleet_bg "$@"
  fleet_wait "$FLEET_PID"
  say "fleet ${*:2} -> $RC"
}
# fleet_release: fleet lock release until it succeeds (it refuses while a host's run is alive), 90 s at most.
fleet_release() {
  local end=$((SECONDS + 90))
  while ((SECONDS < end)); do
    PLAYBOOKS="" fleet_run release lock release -i "$INV"
    ((RC == 0)) && return 0
    sleep 2
  done
  return 1
}
log_has() { grep -qF -- "$2" "$FD/out/$1.log" 2>/dev/null; }
wait_log() { # wait_log NAME TEXT SECONDS
  local end=$((SECONDS + $3))
  while ((SECONDS < end)); do log_has "$1" "$2" && return 0; sleep 0.1; done
  return 1
}

# --- load: new connection per request on every host's nginx -------------------------------------------
load_start() { # load_start NAME
  local i addrs=()
  for ((i = 1; i <= N; i++)); do addrs+=("$(host_addr "$i"):$NGINX_PORT"); done
  python3 "$REPO/scripts/lab/load.py" "${addrs[@]}" --seconds 300 --interval 0.02 --timeout 2 >"$FD/out/load-$1.json" 2>&1 &
  LOAD_PID=$!
  printf '%s\n' "$LOAD_PID" >>"$FD/pids"
  sleep 1
}
# load_stop NAME [HOST...]: stop it; failed requests on every host but those named (broken on purpose)
# are added to FAILED_REQUESTS and checked to be 0.
FAILED_REQUESTS=0
TOTAL_REQUESTS=0
load_stop() {
  local name=$1 f=0 t=0 i key
  shift
  sleep 0.5
  kill -TERM "$LOAD_PID" 2>/dev/null || true
  wait "$LOAD_PID" 2>/dev/null || true
  for ((i = 1; i <= N; i++)); do
    key="$(host_addr "$i"):$NGINX_PORT"
    t=$((t + $(jq -r --arg k "$key" '.hosts[$k].total // 0' "$FD/out/load-$name.json" 2>/dev/null || echo 0)))
    [[ " $* " == *" $i "* ]] && continue
    f=$((f + $(jq -r --arg k "$key" '.hosts[$k].failed // 0' "$FD/out/load-$name.json" 2>/dev/null || echo 0)))
  done
  FAILED_REQUESTS=$((FAILED_REQUESTS + f))
  TOTAL_REQUESTS=$((TOTAL_REQUESTS + t))
  check "$name: 0 failed requests of $t${*:+ (hosts broken on purpose left out: $*)}" eq "$f/$((t > 0))" 0/1
}
