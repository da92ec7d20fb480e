# shellcheck shell=bash
# "Never leave a host worse than it was": the host-script cases of a full state disk after the switch, a
# dockerd that dies mid-swap, a dead nginx at pre-flight, nginx and current disagreeing in status, the
# busy field of lock.sh status, the uploads left behind, and the lock messages. Sourced by run.sh after
# lib.sh and Tests/faults/hosts.sh (the tmpfs and dockerd helpers); run over real SSH like suite.sh.

hnum() { printf '%s' "${HOST_NAME#web}"; }
other_version() { if [[ $(served_version) == v1 ]]; then printf v2; else printf v1; fi; }
# idle_port: the port of the slot nginx does not point at now.
idle_port() { if grep -q '127.0.0.1:8080' "$HOST_DIR/nginx/fleet-demo.conf"; then printf 8081; else printf 8080; fi; }
# after_switch PORT CMD...: in the background (WATCH_PID), CMD as soon as the upstream file names PORT.
after_switch() {
  local port=$1
  shift
  (for _ in $(seq 3000); do
    grep -q "127.0.0.1:$port" "$HOST_DIR/nginx/fleet-demo.conf" 2>/dev/null && { "$@"; exit 0; }
    sleep 0.02
  done; exit 1) &
  WATCH_PID=$!
}
# when_healthy PORT CMD...: in the background (WATCH_PID), CMD as soon as something answers the health
# check on PORT inside the host (the new container, before the switch; nothing is written between then
# and the records after the switch, so a disk filled then is full when they are written).
when_healthy() {
  local port=$1 ns
  shift
  ns=$(host_ns "$(hnum)")
  (for _ in $(seq 1500); do
    [[ $(ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/health") == 200 ]] &&
      { "$@"; exit 0; }
    sleep 0.04
  done; exit 1) &
  WATCH_PID=$!
}
# deploy_conf NAME VERSION CONF: upload the env file and deploy with another fleet.conf.
deploy_conf() {
  local env=$HOST_R/incoming/$2.env
  RC=0
  as_user "umask 077; cat > $env && $HOST_R/bin/deploy.sh --config $3 --version $2 --env-file $env" \
    <"$ENV_LOCAL" >"$HOST_OUT/$1.out" 2>"$HOST_OUT/$1.err" || RC=$?
  JSON=$(tail -n 1 "$HOST_OUT/$1.out")
  say "deploy.sh --config $3 --version $2 -> $RC $(printf '%s' "$JSON" | cut -c1-200)"
}

# The state folder on a 40 MiB tmpfs (in the host's mount namespace), full when the records are written
# after the switch.
t_full_disk() {
  local i st=$HOST_R/fullstate conf=$HOST_R/fullstate.conf cur next
  i=$(hnum)
  if ! tmpfs_up "$i" "$st" 40 || ! in_host_ns "$i" chown "$HOST_USER:" "$st"; then
    fail "full disk: a tmpfs state folder" "could not mount it"
    return 0
  fi
  as_user "cp -a $HOST_DIR/state/. $st/ && sed 's|^STATE_DIR=.*|STATE_DIR=$st|' $HOST_R/fleet.conf > $conf"
  RUN_CONF=$conf run_script full-pre preflight.sh --version v1
  check "full disk: pre-flight reports the state folder's free space" eq "$RC/$(jget '.state_free_mib >= 32')" 0/true
  tmpfs_fill "$i" "$st"
  RUN_CONF=$conf run_script full-pre2 preflight.sh --version v1
  tmpfs_unfill "$i" "$st"
  check "full disk: pre-flight refuses a full state folder (17, naming it)" \
    eq "$RC/$(jget .error | grep -c "fleet's state folder")" 17/1
  cur=$(served_version)
  next=$(other_version)
  load_start full-disk
  when_healthy "$(idle_port)" tmpfs_fill "$i" "$st"
  deploy_conf full-deploy "$next" "$conf"
  wait "$WATCH_PID" || say "the new container never answered: the disk was not filled"
  load_stop full-disk
  tmpfs_unfill "$i" "$st"
  check "full disk after the switch: exit 21, switched back" eq "$RC/$(jget .switched_back)" 21/true
  check "full disk after the switch: the error names the cause" eq "$(jget .error | grep -c 'No space left on device')" 1
  check "full disk after the switch: $cur keeps serving, healthy" eq "$(served_version)/$(served_health)" "$cur/200"
  check "full disk after the switch: zero failed requests" eq "$(lget .failed)" 0
  RUN_CONF=$conf run_script full-status status.sh
  check "full disk after the switch: nginx and current agree" eq "$(jget '[.consistent, .current.version] | join(",")')" "true,$cur"
  deploy_conf full-again "$next" "$conf"
  check "full disk: once there is room, the deploy succeeds" eq "$RC/$(served_version)" "0/$next"
  as_user "rm -rf $HOST_DIR/state/* && cp -a $st/. $HOST_DIR/state/ && rm -f $conf"
  tmpfs_down "$i" "$st"
}

# dockerd (and the app's containers with it) killed right after the switch; started again after the run.
t_dockerd_dies() {
  local i cur next fired=0
  i=$(hnum)
  cur=$(served_version)
  next=$(other_version)
  # shellcheck disable=SC2034 # where dockerd_kill keeps dockerd's command line (Tests/faults/hosts.sh)
  FD=$HOST_OUT
  load_start dockerd
  after_switch "$(idle_port)" dockerd_kill "$i" demo
  deploy dockerd-deploy "$next"
  wait "$WATCH_PID" || fired=1
  check "dockerd dies after the switch: killed in time" eq "$fired" 0
  check "dockerd dies after the switch: exit 20, a switch back it could not check" \
    eq "$RC/$(jget .switched_back)/$(jget .error | grep -c 'docker does not answer')" 20/true/1
  check "dockerd dies after the switch: dockerd starts again" dockerd_start "$i"
  for _ in $(seq 120); do [[ $(served_health) == 200 ]] && break; sleep 0.5; done
  load_stop dockerd
  run_script dockerd-status status.sh
  check "dockerd back: nginx serves $cur, which current names (consistent)" \
    eq "$(served_version)/$(jget '[.consistent, .current.version, .serving_slot == .slot] | join(",")')" "$cur/true,$cur,true"
  deploy dockerd-again "$next"
  check "dockerd back: the next deploy succeeds" eq "$RC/$(served_version)" "0/$next"
}

# nginx -t passes when nginx does not run: pre-flight must see that it does not answer.
t_nginx_dead() {
  local pid w conf=$HOST_DIR/nginx/nginx.conf
  pid=$(cat "$HOST_DIR/nginx/nginx.pid" 2>/dev/null)
  if cmdline_has "$pid" "nginx: master"; then
    kill -STOP "$pid" 2>/dev/null
    for w in $(ps -o pid= --ppid "$pid"); do kill -KILL "$w" 2>/dev/null; done
    kill -KILL "$pid" 2>/dev/null
  fi
  run_script nginx-dead preflight.sh --version v1
  only_std ip netns exec "$(host_ns "$(hnum)")" nginx -q -c "$conf" 2>>"$HOST_LOG"
  for _ in $(seq 50); do [[ $(served_health) == 200 ]] && break; sleep 0.1; done
  check "a dead nginx: pre-flight exits 16 saying it does not answer" \
    eq "$RC/$(jget '.missing | map(select(test("nginx does not answer"))) | length')" 16/1
  run_script nginx-alive preflight.sh --version v1
  check "nginx started again: pre-flight passes" eq "$RC" 0
}

# status compares what nginx points at with current; the next deploy, or a rollback, repairs a disagreement.
t_consistency() {
  local other
  run_script cons-before status.sh
  check "status: consistent, serving_slot is current's slot" \
    eq "$(jget '[.consistent, .serving_slot == .slot, .inconsistency] | map(tostring) | join(",")')" "true,true,null"
  other=$(idle_port)
  as_user "sed -i 's/127.0.0.1:[0-9]*/127.0.0.1:$other/' $HOST_DIR/nginx/fleet-demo.conf"
  run_script cons-broken status.sh
  check "status: nginx pointing elsewhere than current is reported" \
    eq "$(jget '[.consistent, .serving_slot != .slot, (.inconsistency | test("next deploy or rollback repairs"))] | map(tostring) | join(",")')" "false,true,true"
  deploy cons-repair "$(served_version)"
  run_script cons-after status.sh
  check "status: the next deploy repaired it" eq "$RC/$(jget .consistent)" 0/true
  as_user "sed -i 's/127.0.0.1:[0-9]*/127.0.0.1:$other/' $HOST_DIR/nginx/fleet-demo.conf"
  run_script cons-rollback rollback.sh --run-id run-cons-rb
  check "a rollback over a disagreement succeeds" eq "$RC" 0
  run_script cons-after-rollback status.sh
  check "status: the rollback repaired it: consistent, and nginx serves what current names" \
    eq "$RC/$(jget .consistent)/$(served_version)" "0/true/$(jget .current.version)"
}

# lock.sh status says which deploy or rollback runs on the host now (busy), null otherwise.
t_lock_busy() {
  local v
  v=$(other_version)
  upload_env "$v"
  as_user "$HOST_R/bin/deploy.sh --config $HOST_R/fleet.conf --version $v --env-file $HOST_R/incoming/$v.env --run-id run-busy >$HOST_R/busy.out 2>&1 &
    for _ in \$(seq 100); do [ -s $HOST_DIR/state/host.holder ] && break; sleep 0.1; done"
  run_script busy-status lock.sh status
  check "lock status: busy names the live deploy" eq "$(jget '[.busy.command, .busy.run_id, (.busy.pid > 0)] | map(tostring) | join(",")')" "deploy,run-busy,true"
  as_user "for _ in \$(seq 300); do [ -e $HOST_DIR/state/host.holder ] || break; sleep 0.1; done; rm -f $HOST_R/busy.out"
  run_script busy-idle lock.sh status
  check "lock status: busy is null once it ended" eq "$(jget '.busy | tostring')" null
}

# Uploads no run needs any more go when a fleet lock is released; a refused acquire keeps them.
t_incoming_sweep() {
  local inc=$HOST_R/incoming
  run_script sweep-acq lock.sh acquire --run-id run-s --who s@ci --pid 1 --command deploy --version v1
  as_user "umask 077; : > $inc/v7.env; : > $inc/.v8.env.fleet-tmp"
  upload_env v1
  run_script sweep-refused lock.sh acquire --run-id run-t --who t@ci --pid 2 --command deploy --version v1
  check "uploads: a refused acquire leaves the uploads alone" eq "$RC/$(as_user "ls -A $inc" | tr '\n' ' ')" "3/.v8.env.fleet-tmp v1.env v7.env "
  run_script sweep-pre preflight.sh --version v404 --pull
  run_script sweep-rel lock.sh release --run-id run-s
  check "uploads: the run's release removes what no deploy took (a failed pre-flight, a killed run, a cut upload)" \
    eq "$RC/$(as_user "ls -A $inc")" 0/
  upload_env v2
  run_script sweep-rel-none lock.sh release --run-id run-s
  check "uploads: a release with no lock held removes them too (after a killed run: fleet lock release)" \
    eq "$RC/$(as_user "ls -A $inc")" 0/
}

# Lock messages name 'fleet lock release', and a rollback without a version reads as such.
t_lock_messages() {
  run_script msg-acq lock.sh acquire --run-id run-r --who r@ci --pid 3 --command rollback
  upload_env v1
  run_script msg-deploy deploy.sh --version v1 --env-file "$HOST_R/incoming/v1.env" --run-id run-other
  check "lock held: the message says 'fleet lock release', not a host script" \
    eq "$RC/$(jget .error | grep -c "release it with 'fleet lock release'")/$(jget .error | grep -c 'lock.sh release')" 3/1/0
  check "lock held: a rollback to the previous release reads so (not 'rollback ,')" \
    eq "$(jget .error | grep -c 'rollback to the previous release')/$(jget .error | grep -c 'rollback ,')" 1/0
  run_script msg-rel lock.sh release --run-id run-r
  as_user "rm -f $HOST_R/incoming/v1.env"
}
