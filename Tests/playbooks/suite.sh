# shellcheck shell=bash
# The host-script test cases, run over real SSH on one lab host as one user (root or fleetlab).
# Sourced by run.sh after lib.sh.

t_config_errors() {
  as_user "printf 'APP=demo\nIMAGE=10.77.0.1:5000/demo\nBOGUS=1\n' > $HOST_R/bad.conf"
  RC=0
  as_user "$HOST_R/bin/status.sh --config $HOST_R/bad.conf" >"$HOST_OUT/bad.out" 2>"$HOST_OUT/bad.err" || RC=$?
  JSON=$(tail -n 1 "$HOST_OUT/bad.out")
  check "bad fleet.conf exits 2" eq "$RC" 2
  check "bad fleet.conf names file, line and key" grep -qF "bad.conf:3: unknown key BOGUS" "$HOST_OUT/bad.err"
  check "bad fleet.conf still prints a JSON result" json_valid
  run_script bad-version deploy.sh --version "'v1;reboot'" --env-file /nonexistent
  check "bad version exits 2" eq "$RC" 2
  run_script no-env deploy.sh --version v1 --env-file "$HOST_R/incoming/none.env"
  check "missing env file exits 2 naming it" eq "$RC/$(jget .error | grep -c none.env)" 2/1
  run_script rollback-empty rollback.sh
  check "rollback with nothing deployed exits 15" eq "$RC" 15
}

t_preflight() {
  run_script preflight preflight.sh --version v1 --pull
  check "preflight --pull passes" eq "$RC/$(jget .ok)/$(jget .pulled)" 0/true/true
  run_script preflight-missing preflight.sh --version v404 --pull
  check "preflight --pull of a missing tag exits 10" eq "$RC" 10
  check "its error quotes docker's last line, then '; check the registry address' (no 'timeout- check')" \
    eq "$(jget .error | grep -c '^docker pull .* failed: .*[^ ]; check the registry address')/$(jget .error | grep -c -- '- check')" 1/0
}

t_first_deploy() {
  deploy first-v1 v1
  check "first deploy of v1 succeeds" eq "$RC/$(jget .version)" 0/v1
  check "nginx serves v1" eq "$(served_version)" v1
  check "the uploaded env file moved into the release folder" \
    as_user "test ! -e $HOST_R/incoming/v1.env && test \"\$(stat -c %a $HOST_DIR/state/releases/v1/env)\" = 600"
}

# swap_under_load NAME FROM TO CMD...: run CMD with load and a ps sampler; zero failures, one switch.
swap_under_load() {
  local name=$1 from=$2 to=$3
  shift 3
  load_start "$name"
  ps_sampler_start "$name"
  "$@"
  ps_sampler_stop
  load_stop "$name"
  check "$name: exit 0" eq "$RC" 0
  check "$name: zero failed requests under load" eq "$(lget .failed)/$(( $(lget '.total // 0') > 50 ))" 0/1
  check "$name: versions seen $from then $to" eq "$(lget '.versions_seen | join(",")')" "$from,$to"
  check "$name: the switch settles within 1 s (one switch each way)" \
    awk -v w="$(switch_window)" 'BEGIN { exit !(w < 1.0) }'
  check "$name: nginx serves $to" eq "$(served_version)" "$to"
  check "$name: no secret in ps on the host during the run" no_secret "$HOST_OUT/ps-$name.txt"
  printf '%s\n' "$(jq -c --arg n "$name" --arg u "$HOST_USER" --argjson load "$LOAD" \
    '{name: $n, user: $u, timings, failed: $load.failed, total: $load.total, switches: $load.switches,
      window: 0}' <<<"$JSON")" >>"$HOST_OUT/bench.jsonl"
}

t_swaps() {
  swap_under_load deploy-v2 v1 v2 deploy deploy-v2 v2
  check "deploy v2 reports previous v1" eq "$(jget .previous)" v1
  swap_under_load rollback v2 v1 run_script rollback rollback.sh
  check "rollback brings v1 back" eq "$(jget .version)" v1
  check "rollback uses v1's image already on the host (no pull)" eq "$(grep -c ': pulling ' "$HOST_OUT/rollback.err")" 0
  check "status after rollback: current v1, previous v2, healthy" \
    eq "$(run_script status-rb status.sh; jget '[.current.version,.previous.version,.health] | join(",")')" v1,v2,healthy
  # The container of v2 was removed meanwhile: rollback must rebuild it from its image and env.
  swap_under_load deploy-v2-again v1 v2 deploy deploy-v2-again v2
  run_script status-prev status.sh
  local old
  old=$(jget .previous.container)
  as_user "docker rm -f $old >/dev/null"
  swap_under_load rollback-no-container v2 v1 run_script rollback-nc rollback.sh
  check "rollback works when the old container was removed ($old)" \
    as_user "docker inspect -f '{{index .Config.Labels \"fleet.version\"}}' $old | grep -qx v1"
  swap_under_load deploy-v2-third v1 v2 deploy deploy-v2-third v2
}

t_broken() {
  load_start broken
  deploy broken-v3 v3
  load_stop broken
  check "broken v3: exit 11" eq "$RC" 11
  check "broken v3: zero failed requests, only v2 served" eq "$(lget .failed)/$(lget '.versions_seen | join(",")')" 0/v2
  check "broken v3: v2 keeps serving" eq "$(served_version)" v2
  check "broken v3: the last health responses are printed" grep -q "last health responses" "$HOST_OUT/broken-v3.err"
  check "broken v3: the new container's logs are printed" grep -q "last log lines of demo-" "$HOST_OUT/broken-v3.err"
  check "broken v3: the JSON has the health responses" eq "$(jget '.health | length > 0')" true
  check "broken v3: the new container is removed" \
    as_user "! docker ps -a --format '{{.Label \"fleet.version\"}}' | grep -qx v3"
}

t_noop_and_status() {
  [[ $(served_version) == v2 ]] || deploy noop-prep v2
  deploy noop v2
  check "deploying the current version again is a no-op success" eq "$RC/$(jget .changed)" 0/false
  run_script status status.sh
  check "status: one JSON line with app, releases, slot, health, upstream, lock" \
    eq "$(jget '[.app, .current.version, .previous.version, .health, (.upstream.port|tostring), (.lock.host|tostring)] | join(",")')" \
    "demo,v2,v1,healthy,$(as_user "grep -o '127.0.0.1:[0-9]*' $HOST_DIR/nginx/fleet-demo.conf | cut -d: -f2"),null"
  check "status prints exactly one stdout line" eq "$(wc -l <"$HOST_OUT/status.out")" 1
}

# t_port_taken: another process listens on the idle slot's port: exit 18 before anything switches.
t_port_taken() {
  run_script port-status status.sh
  local port=8080 before pid
  [[ $(jget .slot) == blue ]] && port=8081
  before=$(served_version)
  pid=$(as_user "nohup python3 -m http.server $port --bind 127.0.0.1 >/dev/null 2>&1 </dev/null & echo \$!")
  sleep 1
  deploy port-taken v1
  as_user "kill $pid" || true
  check "a foreign listener on the idle port: exit 18 naming the port" \
    eq "$RC/$(jget .error | grep -c "port $port of the .* slot is taken by another process")" 18/1
  check "a foreign listener on the idle port: the current release keeps serving" eq "$(served_version)" "$before"
}

t_concurrent() {
  upload_env v1
  upload_env v2
  # Both start on the host itself: the second as soon as the first holds the lock.
  local d="$HOST_R/bin/deploy.sh --config $HOST_R/fleet.conf"
  RC=0
  as_user "$d --version v1 --env-file $HOST_R/incoming/v1.env >$HOST_R/conc-1.out 2>&1 &
    for i in \$(seq 200); do test -s $HOST_DIR/state/host.holder && break; sleep 0.02; done
    cp $HOST_DIR/state/host.holder $HOST_R/holder.copy
    $d --version v2 --env-file $HOST_R/incoming/v2.env; rc=\$?; wait; exit \$rc" \
    >"$HOST_OUT/conc-2.out" 2>"$HOST_OUT/conc-2.err" || RC=$?
  JSON=$(tail -n 1 "$HOST_OUT/conc-2.out")
  as_user "cat $HOST_R/conc-1.out; rm -f $HOST_R/conc-1.out $HOST_R/incoming/v2.env" >"$HOST_OUT/conc-1.out"
  as_user "cat $HOST_R/holder.copy; rm -f $HOST_R/holder.copy" >"$HOST_OUT/holder.copy"
  say "second deploy -> $RC $(printf '%s' "$JSON" | cut -c1-200)"
  check "two deploys at once: the second exits 3" eq "$RC" 3
  check "two deploys at once: the second names the holder" eq "$(jget '.holder.command + "/" + .holder.version')" deploy/v1
  check "two deploys at once: the first succeeds" eq "$(tail -n 1 "$HOST_OUT/conc-1.out" | jq -r .code)" 0
  check "the host lock's holder record is KEY=VALUE lines" \
    eq "$(cut -d= -f1 "$HOST_OUT/holder.copy" | paste -sd,)/$(grep -c '^command=deploy$' "$HOST_OUT/holder.copy")" \
    "who,pid,command,version,run_id,started_at/1"
}

t_fleet_lock() {
  run_script lock-a lock.sh acquire --run-id run-a --who alice@ci --pid 4242 --command deploy --version v2
  check "fleet lock: acquire" eq "$RC" 0
  run_script lock-b lock.sh acquire --run-id run-b --who bob@laptop --pid 77 --command rollback --version v1
  check "fleet lock: a second run gets 3 with the holder" eq "$RC/$(jget .holder.who)" 3/alice@ci
  upload_env v1
  run_script lock-deploy deploy.sh --version v1 --env-file "$HOST_R/incoming/v1.env" --run-id run-b
  check "fleet lock: deploy of another run is refused (3)" eq "$RC/$(jget .holder.run_id)" 3/run-a
  run_script lock-rel-b lock.sh release --run-id run-b
  check "fleet lock: release by another run is refused" eq "$RC" 3
  run_script lock-status lock.sh status
  check "fleet lock: status prints the record" eq "$(jget .holder.pid)" 4242
  run_script lock-force lock.sh release --run-id run-b --force
  check "fleet lock: --force releases and says whose it was" eq "$RC/$(jget .forced_from)" 0/alice@ci
  run_script lock-status2 lock.sh status
  check "fleet lock: gone after release" eq "$(jget .holder)" null
  # --force refuses while a deploy of the lock's run still runs on the host (the lock is not stale).
  local other=v1
  [[ $(served_version) == v1 ]] && other=v2
  upload_env "$other"
  run_script lock-c lock.sh acquire --run-id run-c --who carol@ci --pid 99 --command deploy --version "$other"
  as_user "$HOST_R/bin/deploy.sh --config $HOST_R/fleet.conf --version $other --env-file $HOST_R/incoming/$other.env --run-id run-c >$HOST_R/busy.out 2>&1 &"
  as_user "for _ in \$(seq 100); do [ -s $HOST_DIR/state/host.holder ] && break; sleep 0.1; done"
  run_script lock-force-busy lock.sh release --run-id run-d --force
  check "fleet lock: --force refused while the lock's deploy runs here" \
    eq "$RC/$(jget .running.run_id)/$(jget .error | grep -c 'is running on this host now')" 3/run-c/1
  as_user "for _ in \$(seq 300); do [ -e $HOST_DIR/state/host.holder ] || break; sleep 0.1; done"
  run_script lock-rel-c lock.sh release --run-id run-c
  check "fleet lock: released by its own run once the deploy ended" eq "$RC" 0
  as_user "rm -f $HOST_R/incoming/v1.env $HOST_R/incoming/v2.env $HOST_R/busy.out"
}

# t_lock_metric: with TEXTFILE_DIR set, the fleet lock is a node_exporter textfile while it is held
# (fleet_lock_acquired_timestamp_seconds, the input of the FleetLockStale alert), gone once released.
t_lock_metric() {
  local conf=$HOST_R/textfile.conf dir=$HOST_R/textfile prom t0 t1 line ts
  prom=$dir/fleet_demo_lock.prom
  as_user "mkdir -p $dir && sed 's|^TEXTFILE_DIR=.*|TEXTFILE_DIR=$dir|' $HOST_R/fleet.conf > $conf"
  t0=$(as_user 'date +%s')
  RUN_CONF=$conf run_script metric-acquire lock.sh acquire --run-id run-m --who alice@ci --pid 4242 --command rollback --version v2
  t1=$(as_user 'date +%s')
  check "lock metric: acquire" eq "$RC" 0
  as_user "cat $prom" >"$HOST_OUT/lock-metric.prom" 2>/dev/null
  line=$(grep '^fleet_lock_acquired_timestamp_seconds' "$HOST_OUT/lock-metric.prom")
  check "lock metric: written with the labels app, command and who" \
    eq "${line% *}" 'fleet_lock_acquired_timestamp_seconds{app="demo",command="rollback",who="alice@ci"}'
  ts=${line##* }
  [[ $ts =~ ^[0-9]+$ ]] || ts=0
  check "lock metric: the timestamp is when the lock was taken (its started_at)" \
    eq "$ts/$((ts >= t0 && ts <= t1))" "$(date -u -d "$(jget .holder.started_at)" +%s)/1"
  check "lock metric: readable by node_exporter (0644)" eq "$(as_user "stat -c %a $prom")" 644
  if command -v promtool >/dev/null; then
    check "lock metric: valid text exposition (promtool check metrics)" \
      promtool check metrics <"$HOST_OUT/lock-metric.prom"
  fi
  RUN_CONF=$conf run_script metric-release lock.sh release --run-id run-m
  check "lock metric: release removes it" eq "$RC/$(as_user "ls -A $dir")" 0/
  RUN_CONF=$conf run_script metric-acquire2 lock.sh acquire --run-id run-m --who alice@ci --pid 4242 --command deploy
  RUN_CONF=$conf run_script metric-force lock.sh release --run-id run-other --force
  check "lock metric: a forced release removes it too" eq "$RC/$(as_user "ls -A $dir")" 0/
  as_user "rm -rf $dir $conf"
}

# t_hook: the hook finds the version's env file itself, as a deploy goes: before deploy.sh (--env incoming,
# the upload) and after it (--env release, where deploy.sh moved the upload); never a path that moved.
t_hook() {
  local v=v1 shows="'echo \"GREETING=\$GREETING\"; test -n \"\$SECRET_TOKEN\"'"
  [[ $(served_version) == v1 ]] && v=v2
  upload_env "$v"
  run_script hook-pre preflight.sh --version "$v" --pull
  run_script hook-before hook.sh --version "$v" --env incoming -- sh -c "$shows"
  check "hook --env incoming (before_rollout): the uploaded env's values" \
    eq "$RC/$(jget .env)/$(grep -c '^GREETING=hello$' "$HOST_OUT/hook-before.err")" 0/incoming/1
  run_script hook-fail hook.sh --version "$v" --env incoming -- false
  check "a failing hook exits 1 with its code" eq "$RC/$(jget .hook_exit)" 1/1
  deploy hook-deploy "$v"
  check "hook: deploy $v moves the upload into the release" eq "$RC/$(as_user "ls $HOST_R/incoming")" 0/
  run_script hook-after hook.sh --version "$v" --env release -- sh -c "$shows"
  check "hook --env release (after_rollout): the release's env, after deploy.sh moved the upload" \
    eq "$RC/$(jget .env)/$(grep -c '^GREETING=hello$' "$HOST_OUT/hook-after.err")" 0/release/1
  run_script hook-moved hook.sh --version "$v" --env incoming -- true
  check "hook --env incoming once moved: exit 2 naming the file, nothing run" \
    eq "$RC/$(jget .error | grep -c "incoming/$v.env': not a readable file")/$(jget .hook_exit)" 2/1/null
  run_script hook-never hook.sh --version v9 --env release -- true
  check "hook --env release of a version never deployed here: exit 2" eq "$RC/$(jget .error | grep -c 'v9 has no release')" 2/1
  run_script hook-bad hook.sh --version "$v" --env other -- true
  check "hook --env other: exit 2" eq "$RC/$(jget .error)" "2/--env 'other': expected incoming or release"
}

t_secrets_sweep() {
  check "no secret in any script output" no_secret "$HOST_OUT"/*.out "$HOST_OUT"/*.err
  as_user "cat $HOST_DIR/state/current $HOST_DIR/state/previous $HOST_DIR/state/history $HOST_DIR/state/releases/*/release 2>/dev/null" \
    >"$HOST_OUT/state-dump.txt"
  check "no secret in the state files (only in the 0600 env copies)" no_secret "$HOST_OUT/state-dump.txt"
  as_user "for c in demo-blue demo-green; do docker inspect -f '{{json .Path}} {{json .Args}} {{json .Config.Cmd}} {{json .Config.Entrypoint}} {{json .Config.Labels}}' \$c 2>/dev/null; done" \
    >"$HOST_OUT/docker-argv.txt"
  check "no secret in the containers' command lines or labels" no_secret "$HOST_OUT/docker-argv.txt"
  check "the env file's values did reach the container (Config.Env has the key)" \
    as_user "docker inspect -f '{{json .Config.Env}}' demo-green demo-blue 2>/dev/null | grep -q SECRET_TOKEN="
}

# t_bench: PB_BENCH_SWAPS more swaps under load, for docs/benchmarks/swap.md (0 by default).
t_bench() {
  local n=${PB_BENCH_SWAPS:-0} i v
  for ((i = 1; i <= n; i++)); do
    v=v1
    [[ $(served_version) == v1 ]] && v=v2
    local from=v2
    [[ $v == v2 ]] && from=v1
    swap_under_load "bench-$i" "$from" "$v" deploy "bench-$i" "$v"
  done
}

# t_prune: releases beyond KEEP_RELEASES (3 here) go, with their env copies; the previous release
# stays even when it is the oldest.
t_prune() {
  local d=$HOST_DIR/state/releases v=v1 prev=v2
  [[ $(served_version) == v1 ]] && { v=v2; prev=v1; }
  as_user "for o in old1 old2 old3; do mkdir -p $d/\$o && printf 'VERSION=%s\nIMAGE=10.77.0.1:5000/demo\nDEPLOYED_EPOCH=%s\n' \$o \${o#old} > $d/\$o/release && : > $d/\$o/env; done
    sed -i 's/^DEPLOYED_EPOCH=.*/DEPLOYED_EPOCH=0/' $d/$prev/release"
  deploy prune "$v"
  check "prune: deploy $v succeeds" eq "$RC" 0
  check "prune: the oldest release goes, the previous one ($prev) stays though older" \
    eq "$(as_user "ls $d | tr '\n' ' '")" "old2 old3 v1 v2 "
}
