# shellcheck shell=bash
# Interrupted deploys: the script killed at random points (SIGKILL, SIGTERM) or its SSH connection
# dropped (the local ssh client killed). After each: one healthy release serves, nginx -t passes, no
# lock is left, and a new deploy succeeds. Sourced by run.sh after lib.sh.

# interrupt_once I MODE DELAY VERSION: start a deploy of VERSION on its own SSH connection; DELAY s
# after its first message, SIGKILL or SIGTERM the script on the host, or kill the local ssh client.
# Sets HC to host-check.sh's report (interrupted, gone, lock_free, nginx_t).
interrupt_once() {
  local i=$1 mode=$2 delay=$3 v=$4 pidf=$HOST_R/pbtest.pid ssh_pid j sig=none
  local env=$HOST_R/incoming/$4.env
  as_user "rm -f $pidf; umask 077; cat > $env" <"$ENV_LOCAL"
  (hssh_own "$HOST_USER" "$HOST_ADDR" "echo \$\$ > $pidf; exec $HOST_R/bin/deploy.sh --config $HOST_R/fleet.conf --version $v --env-file $env") \
    >"$HOST_OUT/int-$i.out" 2>"$HOST_OUT/int-$i.err" &
  ssh_pid=$!
  for ((j = 0; j < 200; j++)); do
    [[ -s $HOST_OUT/int-$i.err ]] && break
    sleep 0.05
  done
  sleep "$delay"
  case $mode in
    kill9) sig=KILL ;;
    term) sig=TERM ;;
    drop) kill -KILL "$ssh_pid" 2>/dev/null || true ;;
  esac
  HC=$(as_user "$HOST_R/test/host-check.sh $pidf $sig $HOST_R/bin $HOST_R/fleet.conf $HOST_DIR/state $HOST_DIR/nginx/nginx.conf")
  wait "$ssh_pid" 2>/dev/null || true
  if [[ $mode == drop ]] && ! tail -n 1 "$HOST_OUT/int-$i.out" | grep -q '"code":0'; then
    HC+=$'\ninterrupted=1'
  fi
}
hc() { sed -n "s/^$1=//p" <<<"$HC" | tail -n 1; }

t_interrupts() {
  local n=${PB_KILL_RUNS:-12} i mode delay v next tag hit=0
  local modes=(kill9 drop kill9 term drop kill9)
  v=$(served_version)
  load_start interrupts 400
  for ((i = 1; i <= n; i++)); do
    mode=${modes[$(((i - 1) % ${#modes[@]}))]}
    delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", (r % 250) / 100 }')
    next=v1
    [[ $v == v1 ]] && next=v2
    tag="interrupt $i ($mode after ${delay}s, $v -> $next)"
    interrupt_once "$i" "$mode" "$delay" "$next" 2>>"$HOST_OUT/jobs.log"
    say "$tag: host: $(tr '\n' ' ' <<<"$HC"); script said: $(tail -n 1 "$HOST_OUT/int-$i.out" | cut -c1-120)"
    [[ $(hc interrupted) == 1 ]] && hit=$((hit + 1))
    check "$tag: the script is gone" eq "$(hc gone)" 1
    check "$tag: no lock left" eq "$(hc lock_free)" 1
    check "$tag: nginx -t passes" eq "$(hc nginx_t)" 0
    check "$tag: nginx serves a healthy release" eq "$(served_health)" 200
    v=$(served_version)
    check "$tag: exactly one release is served ($v)" eq "$( [[ $v == v1 || $v == v2 ]] && echo yes)" yes
    next=v1
    [[ $v == v1 ]] && next=v2
    deploy "int-$i-after" "$next"
    check "$tag: a new deploy succeeds ($next)" eq "$RC/$(served_version)" "0/$next"
    v=$next
  done
  load_stop interrupts
  # Kill times are random and the machine may be loaded: ask that a quarter of the runs landed mid-deploy.
  check "interrupts: runs were stopped mid-deploy ($hit of $n)" eq "$((hit * 4 >= n))" 1
  say "interrupts: $(lget .failed) failed of $(lget .total) requests during $n interrupted runs and their recoveries"
  printf '%s\n' "$(jq -nc --arg u "$HOST_USER" --argjson load "$LOAD" --argjson n "$n" \
    --argjson hit "$hit" '{name: "interrupts", user: $u, runs: $n, interrupted: $hit, failed: $load.failed,
    total: $load.total}')" >>"$HOST_OUT/bench.jsonl"
}
