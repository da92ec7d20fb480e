# shellcheck shell=bash
# The host-script test cases of the records the scripts keep on a host: the lock records (KEY=VALUE
# lines; an earlier fleet's JSON still read), the pull record of pre-flight (deploy never pulls again),
# and the version, checked once. Sourced by run.sh after lib.sh; run over real SSH like suite.sh.

IMG=10.77.0.1:5000/demo
LOCK_KEYS="who,pid,command,version,run_id,started_at"
OLD_LOCK='{"who":"old@fleet","pid":31337,"command":"rollback","version":"v1","run_id":"run-old","started_at":"2024-01-02T03:04:05Z"}'

# put_file PATH TEXT: write TEXT (exactly, no newline added) to PATH on the host, as the deploy user.
put_file() { printf '%s' "$2" | as_user "cat > $1"; }
lock_gone() { as_user "test ! -e $HOST_DIR/state/fleet.lock"; }
local_id() { as_user "docker image inspect --format '{{.Id}}' $1 2>/dev/null"; }

# t_version_once: a bad version is refused by every script that takes one, with one message, before
# anything else; the check lives in one place.
t_version_once() {
  local s script bad=bad/tag want
  want="2/1/version '$bad': expected letters, digits, . _ - (a docker tag)"
  for s in "deploy.sh --version $bad --env-file /nonexistent" "rollback.sh --to $bad" "preflight.sh --version $bad --pull" \
    "hook.sh --version $bad --env incoming -- true" \
    "lock.sh acquire --run-id run-v --who a@b --pid 1 --command deploy --version $bad"; do
    script=${s%% *}
    run_script "version-${script%.sh}" "$script" "${s#* }"
    check "$script: a bad version exits 2 with one message" \
      eq "$RC/$(grep -c "version '$bad'" "$HOST_OUT/version-${script%.sh}.err")/$(jget .error)" "$want"
  done
  check "lock.sh with a bad version takes no lock" lock_gone
  run_script version-missing preflight.sh --pull
  check "preflight without --version exits 2" eq "$RC/$(jget .error)" "2/missing --version"
  check "the version is checked in one place (check_arg, lib.sh)" \
    eq "$(grep -l 'a docker tag)' "$REPO"/playbooks/*.sh | xargs -n 1 basename | tr '\n' ' ')" "lib.sh "
}

# t_lock_records: the fleet lock is KEY=VALUE lines, printed as the same JSON as ever; a record an
# earlier fleet left in JSON is read (status, refusals, release, metric); odd values are never run.
t_lock_records() {
  local st=$HOST_DIR/state lock=$HOST_DIR/state/fleet.lock conf=$HOST_R/textfile.conf dir=$HOST_R/textfile pid
  run_script rec-acquire lock.sh acquire --run-id run-r --who alice@ci --pid 4242 --command deploy --version v2
  as_user "cat $lock" >"$HOST_OUT/rec-fleet.lock"
  check "lock record: one KEY=VALUE line per field" eq "$(cut -d= -f1 "$HOST_OUT/rec-fleet.lock" | paste -sd,)" "$LOCK_KEYS"
  check "lock record: the values" eq "$(grep -v '^started_at=' "$HOST_OUT/rec-fleet.lock" | paste -sd' ')" \
    "who=alice@ci pid=4242 command=deploy version=v2 run_id=run-r"
  check "lock.sh prints it as the same JSON as before (fields, order, pid a number)" \
    eq "$(jget '[(.holder | keys_unsorted | join(",")), (.holder.pid | type), .holder.started_at] | join(" ")')" \
    "$LOCK_KEYS number $(sed -n 's/^started_at=//p' "$HOST_OUT/rec-fleet.lock")"
  run_script rec-status status.sh
  check "status.sh prints it as the same JSON in lock.fleet" \
    eq "$(jget '.lock.fleet | keys_unsorted | join(",")')/$(jget .lock.fleet.run_id)" "$LOCK_KEYS/run-r"
  run_script rec-release lock.sh release --run-id run-r
  check "lock record: released" eq "$RC/$(lock_gone && echo gone)" 0/gone

  # A record an earlier fleet left in JSON: read, refused on, released by its run.
  put_file "$lock" "$OLD_LOCK"
  run_script rec-old-status lock.sh status
  check "old JSON lock: status prints it as it was" eq "$(jget '.holder | tojson')" "$OLD_LOCK"
  check "old JSON lock: status says it is an earlier fleet's" grep -q "JSON format of an earlier fleet" "$HOST_OUT/rec-old-status.err"
  upload_env v1
  run_script rec-old-deploy deploy.sh --version v1 --env-file "$HOST_R/incoming/v1.env" --run-id run-new
  check "old JSON lock: a deploy of another run is refused (3), naming it" \
    eq "$RC/$(jget .holder.run_id)/$(jget .holder.pid)" 3/run-old/31337
  run_script rec-old-acquire lock.sh acquire --run-id run-new --who bob@ci --pid 7 --command deploy
  check "old JSON lock: another run cannot take it (3)" eq "$RC/$(jget .holder.who)" 3/old@fleet
  run_script rec-old-release lock.sh release --run-id run-old
  check "old JSON lock: its own run releases it" eq "$RC/$(lock_gone && echo gone)" 0/gone
  as_user "mkdir -p $dir && sed 's|^TEXTFILE_DIR=.*|TEXTFILE_DIR=$dir|' $HOST_R/fleet.conf > $conf"
  put_file "$lock" "$OLD_LOCK"
  RUN_CONF=$conf run_script rec-old-metric lock.sh acquire --run-id run-new --who bob@ci --pid 7 --command deploy
  check "old JSON lock: the lock metric is written from it" eq "$RC/$(as_user "grep ^fleet_lock $dir/fleet_demo_lock.prom")" \
    '3/fleet_lock_acquired_timestamp_seconds{app="demo",command="rollback",who="old@fleet"} 1704164645'
  RUN_CONF=$conf run_script rec-old-metric-rel lock.sh release --run-id run-old
  check "old JSON lock: released, the metric goes" eq "$RC/$(as_user "ls -A $dir")" 0/
  as_user "rm -rf $dir $conf"

  # Odd values are left out, never run (the record is read line by line, never sourced).
  put_file "$lock" "who=\$(touch $HOST_R/pwned)
pid=12
command=deploy
version=v1;true
run_id=run-x
started_at=2024-01-02T03:04:05Z
"
  run_script rec-odd lock.sh status
  check "lock record: odd values are left out and never run" \
    eq "$(jget '[.holder.who, .holder.version, .holder.run_id, (.holder.pid | tostring)] | join(",")')/$(as_user "ls $HOST_R/pwned 2>/dev/null")" ",,run-x,12/"
  run_script rec-odd-release lock.sh release --run-id run-x
  check "lock record: released by its run id" eq "$RC/$(lock_gone && echo gone)" 0/gone

  # The host lock held by a live process whose holder record is an earlier fleet's JSON.
  pid=$(as_user "nohup flock -n -o $st/host.lock sleep 20 >/dev/null 2>&1 </dev/null & echo \$!")
  sleep 0.5
  put_file "$st/host.holder" "{\"who\":\"old@fleet\",\"pid\":$pid,\"command\":\"deploy\",\"version\":\"v9\",\"run_id\":\"run-old\",\"started_at\":\"2024-01-02T03:04:05Z\"}"
  upload_env v1
  run_script rec-holder-deploy deploy.sh --version v1 --env-file "$HOST_R/incoming/v1.env"
  check "old JSON host holder: a deploy is refused (3), naming it" eq "$RC/$(jget .holder.version)/$(jget .holder.pid)" "3/v9/$pid"
  run_script rec-holder-status status.sh
  check "old JSON host holder: status shows it in lock.host" \
    eq "$(jget '.lock.host | keys_unsorted | join(",")')/$(jget .lock.host.run_id)/$(jget .lock.host.pid)" "$LOCK_KEYS/run-old/$pid"
  as_user "kill $pid; rm -f $st/host.holder $HOST_R/incoming/v1.env"
}

# t_pull_once: pre-flight pulls and records the image ID; deploy and hook never pull again, and refuse
# (19) when the local image is not the recorded one any more; without a record deploy says so and pulls.
t_pull_once() {
  local rec=$HOST_DIR/state/pulled id
  run_script pull-pre preflight.sh --version v1 --pull
  as_user "cat $rec/v1" >"$HOST_OUT/pulled-v1"
  id=$(local_id "$IMG:v1")
  check "pre-flight records the pulled image (ID, repo digest)" \
    eq "$RC/$(sed -n 's/^ID=//p' "$HOST_OUT/pulled-v1")/$(grep -c "^DIGEST=$IMG@sha256:" "$HOST_OUT/pulled-v1")/$(jget .image_id)" "0/$id/1/$id"
  check "pre-flight's record: KEY=VALUE lines, 0600" \
    eq "$(cut -d= -f1 "$HOST_OUT/pulled-v1" | paste -sd,)/$(as_user "stat -c %a $rec/v1")" "VERSION,IMAGE,ID,DIGEST,PULLED_AT/600"
  # The tag moves after pre-flight: deploy and hook refuse, pull nothing, change nothing.
  as_user "docker tag $IMG:v2 $IMG:v1"
  deploy pull-moved v1
  check "deploy: a tag moved since pre-flight exits 19, saying to run the deploy again" \
    eq "$RC/$(jget .error | grep -c 'run the deploy again: pre-flight pulls it')" 19/1
  check "deploy: nothing pulled, the tag still moved, v2 keeps serving" \
    eq "$(grep -c ': pulling ' "$HOST_OUT/pull-moved.err")/$(local_id "$IMG:v1")/$(served_version)" "0/$(local_id "$IMG:v2")/v2"
  upload_env v1
  run_script pull-hook hook.sh --version v1 --env incoming -- true
  check "hook: the same refusal (19)" eq "$RC" 19
  as_user "rm -f $HOST_R/incoming/v1.env"
  run_script pull-pre2 preflight.sh --version v1 --pull
  deploy pull-ok v1
  check "deploy after pre-flight: uses the recorded image without pulling" \
    eq "$RC/$(jget .image_id)/$(grep -c ': pulling ' "$HOST_OUT/pull-ok.err")/$(served_version)" "0/$id/0/v1"
  # The image is removed after pre-flight.
  run_script pull-pre3 preflight.sh --version v2 --pull
  as_user "docker image rm -f $IMG:v2 >/dev/null"
  deploy pull-gone v2
  check "deploy: an image removed since pre-flight exits 19" \
    eq "$RC/$(jget .error | grep -c 'no longer on this host')/$(served_version)" 19/1/v1
  # No record (deploy.sh run by hand, without pre-flight): it says so, pulls once and records.
  as_user "rm -f $rec/v2"
  deploy pull-norecord v2
  check "deploy without a pre-flight record: says so, pulls, records" \
    eq "$RC/$(grep -c 'no pre-flight pull of' "$HOST_OUT/pull-norecord.err")/$(grep -c ': pulling ' "$HOST_OUT/pull-norecord.err")/$(as_user "grep -c '^ID=sha256:' $rec/v2")/$(served_version)" \
    0/1/1/1/v2
}

# t_registry_login: with REGISTRY in fleet.conf, --login logs in to the lab's auth registry with the
# password on stdin (never argv) into STATE_DIR/docker (0700); --pull pulls with that login and removes
# it; a wrong password exits 22 naming the registry; --login without REGISTRY, or with --pull, exits 2.
t_registry_login() {
  local auth=$LAB/registry-auth conf=$HOST_R/registry.conf dir=$HOST_DIR/state/docker user
  if [[ ! -s $auth/password ]]; then
    fail "registry login" "no auth registry: run scripts/lab/lab.sh registry-auth-up"
    return 0
  fi
  user=$(cat "$auth/username")
  sed -e 's#^IMAGE=.*#IMAGE=10.77.0.1:5001/demo\nREGISTRY=10.77.0.1:5001#' "$HOST_OUT/fleet.conf" | as_user "cat > $conf"
  printf '%s-wrong' "$(cat "$auth/password")" >"$HOST_OUT/wrong.password"
  RUN_CONF=$conf run_script reg-wrong preflight.sh --version v1 --login "$user" <"$HOST_OUT/wrong.password"
  check "a wrong registry password exits 22 naming the registry, no login kept" \
    eq "$RC/$(jget .registry)/$(jget .error | grep -c 'refused the login')/$(as_user "ls $dir")" "22/10.77.0.1:5001/1/"
  RUN_CONF=$conf run_script reg-login preflight.sh --version v1 --login "$user" <"$auth/password"
  check "the login lands in STATE_DIR/docker (0700)" \
    eq "$RC/$(as_user "stat -c %a $dir")/$(as_user "ls $dir")" "0/700/config.json"
  as_user "docker image rm -f 10.77.0.1:5001/demo:v1 >/dev/null 2>&1 || true"
  RUN_CONF=$conf run_script reg-pull preflight.sh --version v1 --pull </dev/null
  check "pre-flight pulls from the auth registry with that login, then removes it" \
    eq "$RC/$(jget .pulled)/$(as_user "sed -n 's/^IMAGE=//p' $HOST_DIR/state/pulled/v1")/$(as_user "ls $dir")" \
    "0/true/10.77.0.1:5001/demo/"
  run_script reg-none preflight.sh --version v1 --login "$user" </dev/null
  check "--login without REGISTRY in fleet.conf exits 2" eq "$RC/$(jget .error | grep -c 'needs REGISTRY')" 2/1
  RUN_CONF=$conf run_script reg-both preflight.sh --version v1 --login "$user" --pull </dev/null
  check "--login with --pull exits 2" eq "$RC/$(jget .error | grep -c 'not both')" 2/1
  as_user "rm -f $conf $HOST_DIR/state/pulled/v1; docker image rm -f 10.77.0.1:5001/demo:v1 >/dev/null 2>&1 || true"
}
