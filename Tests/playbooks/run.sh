#!/usr/bin/env bash
# Tests of the host scripts (playbooks/) on real lab hosts over real SSH: OpenSSH, dockerd, nginx and
# the lab registry, started by scripts/lab/lab.sh. One suite runs as root on one host while another
# runs as the non-root deploy user fleetlab on a second host, in parallel.
#
# usage: Tests/playbooks/run.sh            (uses a running lab with --servers, else starts and stops one)
# env:   PB_KILL_RUNS=12     interrupted runs per suite (two suites: 24 in all, at least 20 required)
#        PB_USERS="root fleetlab"   which suites to run
#        PB_OUT=/tmp/fleet-pbtest   where logs, outputs and load summaries go
#        PB_BENCH_SWAPS=0    extra v1<->v2 swaps under load for the swap benchmark
#        PB_CASES="t_first_deploy ..."   only these cases; PB_PLAYBOOKS=DIR   upload these scripts instead
# Last line: "N passed, M failed"; exit 1 when anything failed.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$REPO/Tests/playbooks
OUT=${PB_OUT:-/tmp/fleet-pbtest}
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=suite.sh
. "$HERE/suite.sh"
# shellcheck source=kill.sh
. "$HERE/kill.sh"
# shellcheck source=records.sh
. "$HERE/records.sh"
# shellcheck source=../faults/hosts.sh
. "$REPO/Tests/faults/hosts.sh"
# shellcheck source=harden.sh
. "$HERE/harden.sh"
# shellcheck source=status-cases.sh
. "$HERE/status-cases.sh"
# shellcheck source=workers.sh
. "$HERE/workers.sh"

((EUID == 0)) || { echo "run.sh: run as root (it reads the lab's client key and inspects the hosts)" >&2; exit 2; }
for t in ssh scp jq python3 curl awk nsenter ip; do
  command -v "$t" >/dev/null || { echo "run.sh: missing $t (see scripts/ci/debian-packages.txt)" >&2; exit 2; }
done

rm -rf "$OUT"
mkdir -p "$OUT"
chmod 0700 "$OUT"
START=$SECONDS

# The lab: reuse a running one with servers, else start one (and stop it at the end).
STARTED_LAB=0
if ! grep -qs '^LAB_SERVERS=1' "$LAB/lab.env"; then
  echo "run.sh: starting the lab (2 hosts with servers)" >&2
  STARTED_LAB=1
  "$REPO/scripts/lab/lab.sh" up --hosts 2 --servers >"$OUT/lab-up.log" 2>&1 ||
    { cat "$OUT/lab-up.log" >&2; echo "0 passed, 1 failed"; exit 1; }
fi
cleanup() {
  local p
  for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
  ssh_masters_exit
  if ((STARTED_LAB)); then "$REPO/scripts/lab/lab.sh" down >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
N=$(sed -n 's/^LAB_HOSTS=//p' "$LAB/lab.env")
((N >= 2)) || { echo "run.sh: the lab has $N host(s); 2 are needed" >&2; echo "0 passed, 1 failed"; exit 1; }

# A recognisable secret, in a local 0600 env file; the pattern file lets grep look for it without
# putting it on any command line.
umask 077
SECRET="s3cr3t-pb-$RANDOM$RANDOM$RANDOM"
ENV_LOCAL=$OUT/app.env
printf 'SECRET_TOKEN=%s\nGREETING=hello\n' "$SECRET" >"$ENV_LOCAL"
SECRET_PATTERN=$OUT/secret.pattern
printf '%s\n' "$SECRET" >"$SECRET_PATTERN"
unset SECRET
# The auth registry's password too (t_registry_login): in no output.
if [[ -s $LAB/registry-auth/password ]]; then printf '%s\n' "$(cat "$LAB/registry-auth/password")" >>"$SECRET_PATTERN"; fi

# The cases, in order (PB_CASES="t_first_deploy t_full_disk" runs only those, in that order).
ALL_CASES="t_config_errors t_version_once t_preflight t_first_deploy t_swaps t_pull_once t_broken t_prune
  t_noop_and_status t_unexpected t_port_taken t_concurrent t_fleet_lock t_lock_records t_lock_metric t_hook
  t_lock_messages t_incoming_sweep t_lock_busy t_consistency t_worker_kill_points t_process_change t_nginx_dead
  t_full_disk t_dockerd_dies t_interrupts t_bench
  t_registry_login t_secrets_sweep"

# suite I USER: every case on lab host webI as USER.
suite() {
  set +e # a failed step is a failed check, never the end of the suite
  HOST_NAME=web$1
  HOST_USER=$2
  HOST_ADDR=10.77.0.$((10 + $1))
  HOST_DIR=$LAB/hosts/$HOST_NAME
  HOST_R=$HOST_DIR/opt
  HOST_OUT=$OUT/$HOST_NAME-$HOST_USER
  HOST_LOG=$HOST_OUT/log
  HOST_RESULTS=$HOST_OUT/results
  mkdir -p "$HOST_OUT"
  : >"$HOST_RESULTS"
  write_conf
  if ! host_reset >>"$HOST_LOG" 2>&1; then
    fail "prepare $HOST_NAME" "could not reset the host or upload the scripts (see $HOST_LOG)"
    return 0
  fi
  pass "scripts and fleet.conf uploaded with scp"
  local c
  for c in ${PB_CASES:-$ALL_CASES}; do "$c"; done
  run_script final-status status.sh
  check "finally: healthy, one release served, no lock" \
    eq "$(jget '[.health, (.lock.host|tostring), (.lock.fleet|tostring)] | join(",")')" healthy,null,null
  touch "$HOST_OUT/done"
}

USERS=${PB_USERS:-root fleetlab}
i=$((N - 1))
pids=()
for u in $USERS; do
  (suite "$i" "$u") &
  pids+=($!)
  i=$((i + 1))
  ((i <= N)) || i=$((N - 1))
done
for p in "${pids[@]}"; do wait "$p" || true; done
for d in "$OUT"/web*-*/; do
  [[ -f $d/done ]] || printf 'FAIL suite %s: ended early (see %slog)\n' "$(basename "$d")" "$d" >>"$d/results"
done

# Report: per-suite logs, the swap timings, the counts.
for d in "$OUT"/web*-*/; do
  [[ -f $d/log ]] && cat "$d/log"
done
echo "--- failures" >&2
cat "$OUT"/web*/results 2>/dev/null | grep '^FAIL' >&2 || echo "none" >&2
if compgen -G "$OUT/web*/bench.jsonl" >/dev/null; then
  echo "--- swaps (ms: docker run returned -> healthy -> nginx switched -> old stopped; load)"
  cat "$OUT"/web*/bench.jsonl | jq -r 'select(.timings) | "\(.user) \(.name): swap \(.timings.swap_ms) ms,
    healthy after \(.timings.healthy_ms - .timings.started_ms), switched after \(.timings.switched_ms - .timings.started_ms),
    old stopped after \(.timings.stopped_ms - .timings.started_ms); requests \(.total), failed \(.failed)"' | tr -s ' \n' ' ' |
    sed 's/; requests \([0-9]*\), failed \([0-9]*\)/; requests \1, failed \2\n/g'
  cat "$OUT"/web*/bench.jsonl | jq -r 'select(.runs) | "\(.user) interrupts: \(.interrupted) of \(.runs) runs stopped mid-deploy, requests \(.total), failed \(.failed)"'
  cat "$OUT"/web*/bench.jsonl | jq -s -r '[.[] | select(.timings)] | if length == 0 then empty else
    (map(.timings.swap_ms) | sort) as $s | (map(.timings.healthy_ms - .timings.started_ms) | sort) as $h
    | (map(.timings.switched_ms - .timings.healthy_ms) | sort) as $w
    | "swaps: \(length); swap ms min/median/max \($s[0])/\($s[length/2|floor])/\($s[-1]);
  health wait median \($h[length/2|floor]) ms; switch (nginx -t, reload) median \($w[length/2|floor]) ms;
  requests \(map(.total) | add), failed \(map(.failed) | add)" end'
fi
PASSED=$(cat "$OUT"/web*/results 2>/dev/null | grep -c '^PASS' || true)
FAILED=$(cat "$OUT"/web*/results 2>/dev/null | grep -c '^FAIL' || true)
echo "time: $((SECONDS - START)) s; outputs in $OUT"
echo "$PASSED passed, $FAILED failed"
((FAILED == 0 && PASSED > 0))
