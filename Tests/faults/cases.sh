# shellcheck shell=bash
# The scenarios of the fault suite, each under load on every host's nginx, each ending with every host
# checked (all_sound). Sourced by run.sh after lib.sh; the lab side (nginx, tmpfs, dockerd) is hosts.sh.

# on_switch I SECONDS CMD...: in the background (WATCH_PID), run CMD as soon as host I's upstream file
# names the port of its idle slot, that is as soon as its swap has written the switch; status 1 if that
# did not happen within SECONDS.
on_switch() {
  local i=$1 secs=$2 port f
  shift 2
  f=$(fnginx_dir "$i")/fleet-$APP.conf
  if grep -q "127.0.0.1:$PORT_BLUE" "$f"; then port=$PORT_GREEN; else port=$PORT_BLUE; fi
  (
    end=$((SECONDS + secs))
    while ((SECONDS < end)); do
      if grep -q "127.0.0.1:$port" "$f" 2>/dev/null; then "$@"; exit 0; fi
      sleep 0.02
    done
    exit 1
  ) &
  WATCH_PID=$!
  echo "$WATCH_PID" >>"$FD/pids"
}
# on_healthy I SECONDS CMD...: the same, as soon as host I's idle slot answers its health check (the new
# container is up, just before the switch; nothing is written from then until the records after it).
on_healthy() {
  local i=$1 secs=$2 port
  shift 2
  if grep -q "127.0.0.1:$PORT_BLUE" "$(fnginx_dir "$i")/fleet-$APP.conf"; then port=$PORT_GREEN; else port=$PORT_BLUE; fi
  (
    end=$((SECONDS + secs))
    while ((SECONDS < end)); do
      [[ $(ip netns exec "$(host_ns "$i")" curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
        "http://127.0.0.1:$port/health") == 200 ]] && { "$@"; exit 0; }
      sleep 0.04
    done
    exit 1
  ) &
  WATCH_PID=$!
  echo "$WATCH_PID" >>"$FD/pids"
}
watch_end() { WATCHED=0; wait "$WATCH_PID" 2>/dev/null || WATCHED=$?; }
# wait_healthy_host I SECONDS: until host I answers 200 through its nginx.
wait_healthy_host() {
  local end=$((SECONDS + $2))
  while ((SECONDS < end)); do [[ $(served_code "$1") == 200 ]] && return 0; sleep 0.5; done
  return 1
}
consistent() { [[ $(hstatus "$1" | jq -r .consistent) == true ]]; }
# hosts_have A|B: every host has the fleet.conf and scripts of inventory A (drain 1s, the repository's
# playbooks) or B (drain 2s, the marked copy).
hosts_have() {
  local i want_drain=1 want_mark=0 got
  [[ $1 == B ]] && { want_drain=2; want_mark=1; }
  for ((i = 1; i <= N; i++)); do
    got=$(hssh "$i" "sed -n 's/^DRAIN_SECONDS=//p' $(conf "$i"); grep -c '^# faults: copy B' $(hdir "$i")/opt/bin/deploy.sh")
    [[ $(tr '\n' / <<<"$got") == "$want_drain/$want_mark/" ]] || { say "  web$i: drain/marked = $(tr '\n' / <<<"$got")"; return 1; }
  done
}
# inventory B: the same app and hosts with another drain (so another fleet.conf), its own history, and
# a marked copy of the playbooks.
setup_b() {
  mkdir -p "$FD/inv-b" "$FD/playbooks-b"
  cp "$FD/inv/faults.env" "$FD/inv-b/faults.env"
  write_inventory "$FD/inv-b/faults.yml" 2
  INV_B=$FD/inv-b/faults.yml
  rm -f "$FD"/playbooks-b/*.sh
  local f
  for f in "$REPO"/playbooks/*.sh; do
    { cat "$f"; printf '# faults: copy B\n'; } >"$FD/playbooks-b/$(basename "$f")"
  done
  chmod 0755 "$FD"/playbooks-b/*.sh
}

c_baseline() {
  # The first deploy (no load yet: until a release serves, nginx answers 502), then one swap under load.
  fleet_run baseline deploy -i "$INV" --progress plain v1
  check "baseline: deploy v1 exits 0" eq "$RC" 0
  check "baseline: every host serves v1" serving_all v1
  load_start baseline
  fleet_run baseline-v2 deploy -i "$INV" --progress plain v2
  check "baseline: deploy v2 under load exits 0" eq "$RC/$(serving_all v2 && echo all)" 0/all
  load_stop baseline
  all_sound baseline
}

# fleet SIGKILLed at a random point of its swaps; its hosts finish or undo on their own, then
# `fleet lock release` (refused while a host's run is alive) frees the hosts.
c_sigkill() {
  local k n=${FAULTS_KILLS:-3} v delay i child
  load_start sigkill
  for ((k = 1; k <= n; k++)); do
    v=$(next_version)
    fleet_bg "kill-$k" deploy -i "$INV" --progress plain "$v"
    wait_log "kill-$k" "deploy (batch" 120
    delay=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", (r % 700) / 100 }')
    sleep "$delay"
    child=$(pgrep -P "$FLEET_PID" | head -n 1)
    [[ -n $child ]] && kill -KILL "$child" 2>/dev/null
    fleet_wait "$FLEET_PID"
    say "kill $k: fleet ($v) SIGKILLed ${delay}s into the swaps (exit $RC); it last said: $(tail -n 1 "$FD/out/kill-$k.log" | cut -c1-120)"
    for ((i = 1; i <= N; i++)); do wait_scripts_gone "$i" 90 || say "  web$i: a deploy still runs after 90 s"; done
    check "kill $k: fleet lock release succeeds once no host runs a script" fleet_release
    all_sound "kill $k (${delay}s into $v)"
  done
  load_stop sigkill
}

PAIRS_RUN=0
PAIRS_OK=0
# Two deploys of the same version started at once, from two inventories (B: another fleet.conf and
# marked scripts): exactly one wins (0), the other exits 3 and changes nothing.
c_pairs() {
  local p n=${FAULTS_PAIRS:-3} v a b ra rb winner
  setup_b
  load_start pairs
  for ((p = 1; p <= n; p++)); do
    v=$(next_version)
    fleet_bg "pair-$p-a" deploy -i "$INV" --progress plain "$v"
    a=$FLEET_PID
    PLAYBOOKS=$FD/playbooks-b fleet_bg "pair-$p-b" deploy -i "$INV_B" --progress plain "$v"
    b=$FLEET_PID
    fleet_wait "$a"
    ra=$RC
    fleet_wait "$b"
    rb=$RC
    winner=none
    [[ $ra == 0 && $rb == 3 ]] && winner=A
    [[ $rb == 0 && $ra == 3 ]] && winner=B
    say "pair $p ($v): A exited $ra, B exited $rb"
    PAIRS_RUN=$((PAIRS_RUN + 1))
    [[ $winner == none ]] || PAIRS_OK=$((PAIRS_OK + 1))
    check "pair $p: exactly one deploy wins (0), the other exits 3" eq "$winner" "$([[ $winner == none ]] && echo A-or-B || echo "$winner")"
    check "pair $p: every host serves $v" serving_all "$v"
    [[ $winner == none ]] || check "pair $p: the hosts have the winner's ($winner) fleet.conf and scripts" hosts_have "$winner"
    all_sound "pair $p"
  done
  load_stop pairs
}

# A second deploy started while the first one rolls out (its second batch): refused (3), and the first
# one's fleet.conf and scripts stay as they are.
c_late() {
  local v a
  [[ -n ${INV_B:-} ]] || setup_b
  v=$(next_version)
  load_start late
  fleet_bg late-a deploy -i "$INV" --progress plain "$v"
  a=$FLEET_PID
  wait_log late-a "(batch 2)" 150 || say "  the first deploy never reached its second batch"
  PLAYBOOKS=$FD/playbooks-b fleet_run late-b deploy -i "$INV_B" --progress plain "$v"
  check "late: the deploy started mid-rollout exits 3" eq "$RC" 3
  fleet_wait "$a"
  check "late: the first deploy finishes (0)" eq "$RC" 0
  check "late: every host serves $v" serving_all "$v"
  check "late: fleet.conf and the scripts are the first deploy's" hosts_have A
  load_stop late
  all_sound late
}

# web2's state folder (a 40 MiB tmpfs) full: before the deploy (pre-flight refuses), and when web2 records
# its release after the switch (web2 switches back and says why).
c_disk() {
  local v before d
  d=$(hdir 2)/state
  v=$(next_version)
  before=$(served 2)
  load_start disk
  tmpfs_fill 2 "$d" 34
  fleet_run disk-pre deploy -i "$INV" --progress plain "$v"
  check "disk: 6 MiB left in the state folder fails pre-flight (fleet exits 4)" eq "$RC" 4
  check "disk: pre-flight names the state folder" log_has disk-pre "fleet's state folder"
  tmpfs_fill 2 "$d"
  fleet_run disk-full deploy -i "$INV" --progress plain "$v"
  tmpfs_unfill 2 "$d"
  check "disk: a full state folder fails the lock (fleet exits 4, No space left on device)" \
    eq "$RC/$(log_has disk-full "No space left on device" && echo named)" 4/named
  check "disk: nothing changed" serving_all "$before"
  on_healthy 2 150 tmpfs_fill 2 "$d"
  fleet_run disk-mid deploy -i "$INV" --progress plain "$v"
  watch_end
  tmpfs_unfill 2 "$d"
  check "disk: the state folder filled as web2 switched" eq "$WATCHED" 0
  check "disk: fleet exits 1 (web2 failed)" eq "$RC" 1
  check "disk: web2's error names the cause (No space left on device)" log_has disk-mid "No space left on device"
  check "disk: web2 switched back to $before, healthy" eq "$(served 2)/$(served_code 2)" "$before/200"
  check "disk: web2 is consistent" consistent 2
  fleet_run disk-again deploy -i "$INV" --progress plain "$v"
  check "disk: the next deploy converges (0, every host on $v)" eq "$RC/$(serving_all "$v" && echo all)" 0/all
  load_stop disk
  all_sound disk
}

# web3's dockerd (and the app's containers with it) killed right after web3's switch, started again once
# fleet has ended: web3 must serve what current names, and the next deploy converges.
c_dockerd() {
  local v before
  v=$(next_version)
  before=$(served 3)
  load_start dockerd
  on_switch 3 150 dockerd_kill 3 "$APP"
  fleet_run dockerd deploy -i "$INV" --progress plain "$v"
  watch_end
  check "dockerd: killed right after web3's switch" eq "$WATCHED" 0
  check "dockerd: fleet exits 1 (web3 failed)" eq "$RC" 1
  check "dockerd: web3 says the switch back could not be checked (docker does not answer)" \
    log_has dockerd "docker does not answer"
  check "dockerd: web3's dockerd starts again" dockerd_start 3
  wait_healthy_host 3 90
  check "dockerd: web3 serves $before again (what current names), consistent" \
    eq "$(served 3)/$(consistent 3 && echo consistent)" "$before/consistent"
  fleet_run dockerd-again deploy -i "$INV" --progress plain "$v"
  check "dockerd: the next deploy converges (0, every host on $v)" eq "$RC/$(serving_all "$v" && echo all)" 0/all
  load_stop dockerd 3
  all_sound dockerd
}

# web4's nginx killed: before the deploy (pre-flight refuses), and as web4's new container comes up, just
# before its switch (the reload fails: the old upstream file is back, which current names).
c_nginx() {
  local v before
  v=$(next_version)
  before=$(served 4)
  load_start nginx
  fnginx_kill 4
  fleet_run nginx-pre deploy -i "$INV" --progress plain "$v"
  fnginx_up 4
  check "nginx: pre-flight catches a dead nginx (fleet exits 4)" eq "$RC" 4
  check "nginx: pre-flight says nginx does not answer" log_has nginx-pre "nginx does not answer"
  check "nginx: nothing changed" serving_all "$before"
  on_healthy 4 150 fnginx_kill 4
  fleet_run nginx-mid deploy -i "$INV" --progress plain "$v"
  watch_end
  check "nginx: killed as web4 switched" eq "$WATCHED" 0
  check "nginx: fleet exits 1 (web4 failed)" eq "$RC" 1
  fnginx_up 4
  wait_healthy_host 4 30
  check "nginx: once started again, web4 serves $before (what current names), consistent" \
    eq "$(served 4)/$(consistent 4 && echo consistent)" "$before/consistent"
  fleet_run nginx-again deploy -i "$INV" --progress plain "$v"
  check "nginx: the next deploy converges (0, every host on $v)" eq "$RC/$(serving_all "$v" && echo all)" 0/all
  load_stop nginx 4
  all_sound nginx
}
