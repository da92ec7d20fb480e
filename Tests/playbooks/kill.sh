# shellcheck shell=bash
# Interrupted deploys: the script killed at random points (SIGKILL, SIGTERM) or its SSH connection
# dropped (the local ssh client killed). After each: one healthy release serves, nginx -t passes, no
# lock is left, and a new deploy succeeds. Sourced by run.sh after lib.sh.

# interrupt_once I MODE DELAY VERSION: start a deploy of VERSION, interrupt it after DELAY seconds.
interrupt_once() {
  local i=$1 mode=$2 delay=$3 v=$4 pidf=$HOST_R/pbtest.pid ssh_pid j
  upload_env "$v"
  as_user "rm -f $pidf"
  (hssh_own "$HOST_USER" "$HOST_ADDR" "echo \$\$ > $pidf; exec $HOST_R/bin/deploy.sh --config $HOST_R/fleet.conf --version $v --env-file $HOST_R/incoming/$v.env") \
    >"$HOST_OUT/int-$i.out" 2>"$HOST_OUT/int-$i.err" &
  ssh_pid=$!
  # The delay counts from the script's start on the host.
  for ((j = 0; j < 100; j++)); do
    as_user "test -s $pidf" && break
    sleep 0.05
  done
  sleep "$delay"
  case $mode in
    kill9) as_root "kill -KILL \$(cat $pidf) 2>/dev/null" || true ;;
    term) as_root "kill -TERM \$(cat $pidf) 2>/dev/null" || true ;;
    drop) kill -KILL "$ssh_pid" 2>/dev/null || true ;;
  esac
  wait "$ssh_pid" 2>/dev/null || true
  # A dropped connection is noticed at the script's next write; let it finish what it does then.
  for ((j = 0; j < 80; j++)); do
    remote_pid_alive "$pidf" || break
    sleep 0.5
  done
}

# wait_no_lock: status shows no host lock holder (a killed holder's last child may hold it briefly).
wait_no_lock() {
  local j
  for ((j = 0; j < 50; j++)); do
    run_script "int-status" status.sh
    [[ $(jget '.lock.host') == null ]] && as_user "flock -n $HOST_DIR/state/host.lock true" && return 0
    sleep 0.5
  done
  return 1
}

t_interrupts() {
  local n=${PB_KILL_RUNS:-20} i mode delay v next tag
  local modes=(kill9 drop kill9 term drop kill9)
  v=$(served_version)
  load_start interrupts 400
  for ((i = 1; i <= n; i++)); do
    mode=${modes[$(((i - 1) % ${#modes[@]}))]}
    delay=$((RANDOM % 30)).$((RANDOM % 10))
    delay=$(awk -v d="$delay" 'BEGIN { printf "%.1f", d / 10 + 0.1 }')
    next=v1
    [[ $v == v1 ]] && next=v2
    tag="interrupt $i ($mode after ${delay}s, $v -> $next)"
    interrupt_once "$i" "$mode" "$delay" "$next"
    say "$tag: script said: $(tail -n 1 "$HOST_OUT/int-$i.out" | cut -c1-120)"
    check "$tag: no lock left" wait_no_lock
    check "$tag: nginx serves a healthy release" eq "$(served_health)" 200
    check "$tag: nginx -t passes" nginx_t
    v=$(served_version)
    check "$tag: exactly one release is served ($v)" eq "$( [[ $v == v1 || $v == v2 ]] && echo yes)" yes
    next=v1
    [[ $v == v1 ]] && next=v2
    deploy "int-$i-after" "$next"
    check "$tag: a new deploy succeeds ($next)" eq "$RC/$(served_version)" "0/$next"
    v=$next
  done
  load_stop interrupts
  say "interrupts: $(lget .failed) failed of $(lget .total) requests during $n interrupted runs and their recoveries"
  printf '%s\n' "$(jq -nc --arg u "$HOST_USER" --argjson load "$LOAD" --argjson n "$n" \
    '{name: "interrupts", user: $u, runs: $n, failed: $load.failed, total: $load.total}')" >>"$HOST_OUT/bench.jsonl"
}
