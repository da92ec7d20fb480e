#!/usr/bin/env bash
# monitoring-down.sh: stop the Prometheus and Pushgateway that monitoring-up.sh started in DIR, by their pid
# files (only if the pid still runs that program), then remove DIR. Safe to run twice, or with nothing running.
#   usage: scripts/ci/monitoring-down.sh [--dir DIR] [--keep-logs]     (default DIR: /tmp/fleet-monitoring)
set -euo pipefail

dir="/tmp/fleet-monitoring"
keep_logs=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --dir) dir="${2:?--dir needs a folder}"; shift 2 ;;
        --keep-logs) keep_logs=1; shift ;;
        -h|--help) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "monitoring-down: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
[[ "$dir" == /* ]] || dir="$PWD/$dir"

stop() { # stop NAME PROGRAM
    local pidfile="$dir/$1.pid" pid _
    [[ -s "$pidfile" ]] || return 0
    pid="$(cat "$pidfile")"
    # Only a pid that still runs our program with our folder: a recycled pid is left alone.
    if [[ "$pid" =~ ^[0-9]+$ ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2 .*$dir"; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "monitoring-down: stopped $1 (pid $pid)"
    fi
    rm -f "$pidfile"
}
stop prometheus prometheus
stop pushgateway prometheus-pushgateway

if [[ -d "$dir" ]]; then
    if [[ $keep_logs -eq 1 ]]; then
        find "$dir" -mindepth 1 -maxdepth 1 ! -name '*.log' -exec rm -rf {} +
    else
        rm -rf "$dir"
    fi
fi
