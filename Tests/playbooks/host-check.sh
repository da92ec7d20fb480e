#!/usr/bin/env bash
# Test helper run on a lab host (uploaded by run.sh; not a playbook): interrupt a running deploy and
# report what the host looks like afterwards, in one SSH session.
# usage: host-check.sh PIDFILE SIGNAL|none BIN_DIR CONF STATE_DIR NGINX_CONF
# Prints key=value lines: interrupted (the signal reached a running script), gone, lock_free, nginx_t.
set -uo pipefail
pidf=$1 sig=$2 bin=$3 conf=$4 state=$5 nginx_conf=$6
pid=$(cat "$pidf" 2>/dev/null || true)
interrupted=0
if [[ -n $pid && $sig != none ]] && kill -0 "$pid" 2>/dev/null; then
  kill "-$sig" "$pid" 2>/dev/null && interrupted=1
fi
echo "interrupted=$interrupted"
# A dropped connection is noticed at the script's next write: give it time to finish what it does.
gone=0
for ((i = 0; i < 160; i++)); do
  if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then gone=1; break; fi
  sleep 0.25
done
echo "gone=$gone"
lock_free=0
for ((i = 0; i < 60; i++)); do
  if "$bin/status.sh" --config "$conf" 2>/dev/null | tail -n 1 | grep -q '"host":null' &&
    flock -n "$state/host.lock" true; then
    lock_free=1
    break
  fi
  sleep 0.5
done
echo "lock_free=$lock_free"
if ((EUID == 0)); then nginx -t -q -c "$nginx_conf" 2>/dev/null; else sudo -n /usr/sbin/nginx -t -q -c "$nginx_conf" 2>/dev/null; fi
echo "nginx_t=$?"
