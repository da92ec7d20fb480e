# shellcheck shell=bash
# The host-script test cases of status.sh's list of the app's containers: each marked expected or not against
# the host's records and fleet.conf's processes. Sourced by run.sh after lib.sh; run over real SSH like suite.sh.

# t_unexpected: a container of the app fleet did not start or no longer wants is "unexpected", with why: one of
# another version on the idle slot, the web container on a host whose fleet.conf has no web process, a second
# worker generation; the ones fleet runs are not.
t_unexpected() {
  local img=10.77.0.1:5000/demo conf=$HOST_R/status-wk.conf live before
  before=$(served_version)
  [[ $before == v1 ]] || deploy unexp-prep v1
  as_user "docker rm -f demo-extra demo-job-a demo-job-b >/dev/null 2>&1; true"
  run_script unexp-clean status.sh
  live=$(jget .slot)
  check "status: the live web container is listed and expected, nothing unexpected" \
    eq "$(jget "[.app_containers[] | select(.name == \"demo-$live\") | .kind, .version, .state, (.expected|tostring)] | join(\",\")")/$(jget '.unexpected | length')" \
    "web,v1,running,true/0"

  # A container with the app's web labels, of another version, not named by the records.
  as_user "docker run -d --name demo-extra --network none --label fleet.app=demo --label fleet.slot=green --label fleet.version=v9 $img:v1 /bin/worker >/dev/null"
  run_script unexp-extra status.sh
  check "status: a web container of another version fleet did not start is unexpected, with why" \
    eq "$(jget '.unexpected | join(",")')/$(jget '.app_containers[] | select(.name == "demo-extra") | .expected')/$(jget '.app_containers[] | select(.name == "demo-extra") | .why' | grep -c 'fleet did not start')" \
    "demo-extra/false/1"
  as_user "docker rm -f demo-extra >/dev/null"

  # The same host read with a fleet.conf without the web process: its web container is unexpected.
  as_user "sed '/^WEB_PROCESS=/d; /^WORKERS=/d' $HOST_R/fleet.conf > $conf && printf 'WEB_PROCESS=\nWORKERS=job\n' >> $conf"
  RUN_CONF=$conf run_script unexp-worker-only status.sh
  check "status: the web container on a host without the web process is unexpected, with why" \
    eq "$(jget '.unexpected | join(",")')/$(jget ".app_containers[] | select(.name == \"demo-$live\") | .why" | grep -c 'without the web process')" \
    "demo-$live/1"

  # Two generations of a worker: the recorded one is expected, the other is not.
  as_user "printf 'CONTAINER=demo-job-a\nVERSION=v1\n' > $HOST_DIR/state/worker-job &&
    docker run -d --name demo-job-a --network none --label fleet.app=demo --label fleet.process=job --label fleet.version=v1 $img:v1 /bin/worker >/dev/null &&
    docker run -d --name demo-job-b --network none --label fleet.app=demo --label fleet.process=job --label fleet.version=v2 $img:v1 /bin/worker >/dev/null"
  RUN_CONF=$conf run_script unexp-workers status.sh
  check "status: a second worker generation is unexpected, the recorded one is not" \
    eq "$(jget '[.unexpected[]] | sort | join(",")')/$(jget '.app_containers[] | select(.name == "demo-job-b") | .why' | grep -c 'second container of worker job')" \
    "demo-$live,demo-job-b/1"
  run_script unexp-not-declared status.sh
  check "status: a worker of a host whose fleet.conf names no workers is unexpected" \
    eq "$(jget '[.unexpected[]] | sort | join(",")')" "demo-job-a,demo-job-b"
  as_user "docker rm -f demo-job-a demo-job-b >/dev/null; rm -f $HOST_DIR/state/worker-job $conf"
  run_script unexp-after status.sh
  check "status: nothing unexpected once they are gone" eq "$(jget '.unexpected | length')" 0
  # The host as the case found it: the cases after this one expect the release it had.
  if [[ -n $before && $before != v1 ]]; then deploy unexp-restore "$before"; fi
}
