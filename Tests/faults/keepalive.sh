# shellcheck shell=bash
# Keep-alive clients during swaps (a measurement, not run by default): FAULTS_KEEPALIVE_SWAPS deploys, each
# swapping every host, while per host one load.py client reuses its connection (--keepalive), another
# opens a new connection per request, and kaclient.py's two reuse theirs as common libraries do (checking
# a pooled connection before reuse; retrying once on a connection closed before any answer). nginx closes
# idle keep-alive connections on every reload; a client that sends its next request on such a connection
# without checking it (Python's http.client, which load.py uses) loses that request. Prints the counts;
# checks that the new-connection clients and kaclient.py's lost nothing. Sourced by run.sh; run it with
#   FAULTS_CASES="c_baseline c_keepalive" FAULTS_KEEPALIVE_SWAPS=10 Tests/faults/run.sh
c_keepalive() {
  local n=${FAULTS_KEEPALIVE_SWAPS:-10} s v i addrs=() ka_pid kc_pid kf kt kerr swaps=0 mode
  for ((i = 1; i <= N; i++)); do addrs+=("$(host_addr "$i"):$NGINX_PORT"); done
  python3 "$REPO/scripts/lab/load.py" "${addrs[@]}" --keepalive --seconds 900 --interval 0.02 --timeout 2 \
    >"$FD/out/load-keepalive-ka.json" 2>&1 &
  ka_pid=$!
  echo "$ka_pid" >>"$FD/pids"
  python3 "$HERE/kaclient.py" "${addrs[@]}" --seconds 900 >"$FD/out/kaclient.json" 2>"$FD/out/kaclient.err" &
  kc_pid=$!
  echo "$kc_pid" >>"$FD/pids"
  load_start keepalive
  for ((s = 1; s <= n; s++)); do
    v=$(next_version)
    fleet_run "ka-$s" deploy -i "$INV" --progress plain "$v"
    ((RC == 0)) && swaps=$((swaps + 1))
  done
  load_stop keepalive
  sleep 0.5
  kill -TERM "$ka_pid" "$kc_pid" 2>/dev/null || true
  wait "$ka_pid" "$kc_pid" 2>/dev/null || true
  kf=$(jq '[.hosts[].failed] | add' "$FD/out/load-keepalive-ka.json" 2>/dev/null || echo "?")
  kt=$(jq '[.hosts[].total] | add' "$FD/out/load-keepalive-ka.json" 2>/dev/null || echo "?")
  kerr=$(jq -r '[.hosts[].errors[].error | sub(":.*"; "")] | group_by(.) | map("\(.[0]) x\(length)") | join(", ")' \
    "$FD/out/load-keepalive-ka.json" 2>/dev/null || true)
  say "keep-alive: $swaps swaps on $N hosts: $kf of $kt keep-alive requests failed ($(awk -v f="$kf" -v s="$swaps" -v h="$N" \
    'BEGIN { if (s * h > 0) printf "%.2f", f / (s * h); else print "?" }') per swap per host; first errors: ${kerr:-none})"
  for mode in check retry; do
    say "keep-alive, $mode before reuse: $(jq -r --arg m " $mode" '[to_entries[] | select(.key | endswith($m)) | .value]
      | "\(map(.failed) | add) of \(map(.ok + .failed) | add) failed, \(map(.reopened) | add) connections reopened"' \
      "$FD/out/kaclient.json" 2>/dev/null)"
    check "keep-alive: clients that $mode before reuse lose nothing" \
      eq "$(jq --arg m " $mode" '[to_entries[] | select(.key | endswith($m)) | .value.failed] | add' "$FD/out/kaclient.json" 2>/dev/null)" 0
  done
  check "keep-alive: $swaps of $n swaps done" eq "$swaps" "$n"
}
