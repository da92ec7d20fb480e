# shellcheck shell=bash
# Workers and the web together (issue 21): the connection dropped at each numbered kill point of a swap
# (deploy.sh's test_pause hook, honoured only with STATE_DIR/.test-pause and FLEET_TEST_PAUSE_AT) leaves,
# within the worker's stop timeout plus a few seconds, exactly one generation of every process, the one the
# records name, with status.sh agreeing; a host whose processes change ends with exactly those its
# fleet.conf gives it. Sourced by run.sh after lib.sh.

WK_STOP_S=8 # the worker's stop timeout; its jobs take 3 s (WORKER_JOB_SECONDS)
KILL_POINTS="workers-start workers-checked web-started web-switched recorded workers-stopping"

# wk_conf WEB WORKERS: fleet.conf with `processes:` (WEB_PROCESS, WORKERS) and the job worker's files.
wk_conf() {
  write_conf
  printf 'STOP_TIMEOUT=5\nWEB_PROCESS=%s\nWORKERS=%s\n' "$1" "$2" >>"$HOST_OUT/fleet.conf"
  printf '%s\0' "$WK_STOP_S" running_for 2 >"$HOST_OUT/process-job.conf"
  printf '%s\0' /bin/worker >"$HOST_OUT/process-job.cmd"
  printf '%s\0' --env WORKER_JOB_SECONDS=3 >"$HOST_OUT/process-job.args"
  scp -q "${SSH_OPTS[@]}" "$HOST_OUT"/fleet.conf "$HOST_OUT"/process-job.* "$HOST_USER@$HOST_ADDR:$HOST_R/" &&
    as_user "chmod 0644 $HOST_R/fleet.conf $HOST_R/process-job.*"
}

# wk_running: "NAME VERSION" of the app's running containers (web and workers), sorted, on one line.
wk_running() {
  as_user "docker ps --filter label=fleet.app=demo --format '{{.Names}} {{.Label \"fleet.version\"}}'" | sort | tr '\n' ' ' | sed 's/ $//'
}
# wk_expected: what the records name: the web container of current's slot (when the host runs the web
# process) and the job worker's recorded container, all on current's version.
wk_expected() {
  local st=$HOST_DIR/state v slot w
  v=$(sed -n 's/^VERSION=//p' "$st/current")
  slot=$(sed -n 's/^SLOT=//p' "$st/current")
  w=$(sed -n 's/^CONTAINER=//p' "$st/worker-job" 2>/dev/null)
  { [[ -z $slot ]] || echo "demo-$slot $v"; [[ -z $w ]] || echo "$w $v"; } | sort | tr '\n' ' ' | sed 's/ $//'
}
# wk_settles SECONDS: the running containers become what the records name within SECONDS.
wk_settles() {
  local end=$((SECONDS + $1))
  while ((SECONDS < end)); do
    [[ $(wk_running) == "$(wk_expected)" ]] && return 0
    sleep 1
  done
  say "  running: $(wk_running); the records name: $(wk_expected)"
  return 1
}

# wk_drop_at POINT VERSION: deploy VERSION on its own connection, paused at POINT; drop the connection
# there (the local ssh client killed), let the script go on, and wait for it to end.
wk_drop_at() {
  local p=$1 v=$2 st=$HOST_DIR/state ssh_pid i env=$HOST_R/incoming/$2.env pidf=$HOST_R/pbtest.pid
  as_user "rm -f $st/.paused-*; touch $st/.test-pause; umask 077; cat > $env" <"$ENV_LOCAL"
  (hssh_own "$HOST_USER" "$HOST_ADDR" "echo \$\$ > $pidf; FLEET_TEST_PAUSE_AT=$p exec $HOST_R/bin/deploy.sh --config $HOST_R/fleet.conf --version $v --env-file $env") \
    >"$HOST_OUT/kp-$p.out" 2>"$HOST_OUT/kp-$p.err" &
  ssh_pid=$!
  for ((i = 0; i < 600; i++)); do
    [[ -f $st/.paused-$p ]] && break
    sleep 0.2
  done
  check "kill point $p: the deploy paused there" test -f "$st/.paused-$p"
  kill -KILL "$ssh_pid" 2>/dev/null || true
  wait "$ssh_pid" 2>/dev/null || true
  sleep 1
  as_user "rm -f $st/.paused-$p $st/.test-pause"
  HC=$(as_user "$HOST_R/test/host-check.sh $pidf none $HOST_R/bin $HOST_R/fleet.conf $st $HOST_DIR/nginx/nginx.conf")
  check "kill point $p: the script ended" eq "$(sed -n 's/^gone=//p' <<<"$HC")" 1
}

t_worker_kill_points() {
  local p v next
  wk_conf web job
  v=$(served_version)
  [[ $v == v1 || $v == v2 ]] || v=v1
  deploy kp-base "$v"
  check "kill points: the base deploy ($v) with a worker succeeds" eq "$RC" 0
  load_start killpoints 300
  for p in $KILL_POINTS; do
    next=v1
    [[ $v == v1 ]] && next=v2
    wk_drop_at "$p" "$next"
    check "kill point $p ($v -> $next): one generation of every process, the one the records name" \
      wk_settles $((WK_STOP_S + 15))
    run_script "kp-status-$p" status.sh
    v=$(sed -n 's/^VERSION=//p' "$HOST_DIR/state/current")
    check "kill point $p: status.sh agrees (consistent, its worker on $v)" \
      eq "$(jget '[(.consistent|tostring), (.workers|map(.version+"/"+.state)|join(","))] | join(" ")')" "true $v/running"
    check "kill point $p: nginx serves $v" eq "$(served_version)" "$v"
  done
  load_stop killpoints
  check "kill points: 0 failed requests of $(lget .total)" eq "$(lget .failed)" 0
  wk_restore
}

# t_process_change: web and worker -> worker only -> web only -> web and worker.
t_process_change() {
  local v w other
  wk_conf web job
  v=$(served_version)
  [[ $v == v1 || $v == v2 ]] || v=v1
  deploy pc-both "$v"
  check "process change: web and worker ($v)" eq "$RC/$(wk_running)" "0/$(wk_expected)"
  # A worker of a version the records do not name (as a failed check's new one, back with dockerd): removed.
  w=$(sed -n 's/^CONTAINER=//p' "$HOST_DIR/state/worker-job")
  other=demo-job-a
  [[ $w == demo-job-a ]] && other=demo-job-b
  as_user "docker run -d --name $other --restart unless-stopped --label fleet.app=demo --label fleet.process=job --label fleet.version=v9 10.77.0.1:5000/demo:$v /bin/worker" >/dev/null
  deploy pc-stray "$v"
  check "recovery: a worker of a version the records do not name is removed" \
    eq "$RC/$(as_user "docker ps -a -q --filter name=^$other\$" | wc -l)/$(wk_running)" "0/0/$(wk_expected)"
  wk_conf "" job
  deploy pc-worker "$v"
  check "process change: worker only: no web container runs" eq "$RC/$(wk_running)" "0/$(wk_expected)"
  check "process change: worker only: the result names the removed web container" \
    eq "$(jget '.web_removed | length > 0')" true
  check "process change: worker only: no web container is left at all" \
    eq "$(as_user "docker ps -a --filter name=^demo-blue$ --filter name=^demo-green$ -q" | wc -l)" 0
  wk_conf web ""
  deploy pc-web "$v"
  check "process change: web only: the worker stopped ($v served)" eq "$RC/$(wk_running)/$(served_version)" "0/$(wk_expected)/$v"
  wk_conf web job
  deploy pc-again "$v"
  check "process change: web and worker again" eq "$RC/$(wk_running)" "0/$(wk_expected)"
  wk_restore
}

# wk_restore: the suite's own fleet.conf (no processes) again, and no worker container left.
wk_restore() {
  write_conf
  scp -q "${SSH_OPTS[@]}" "$HOST_OUT/fleet.conf" "$HOST_USER@$HOST_ADDR:$HOST_R/" &&
    as_user "rm -f $HOST_R/process-job.* $HOST_DIR/state/worker-job; docker rm -f demo-job-a demo-job-b >/dev/null 2>&1; true"
}
