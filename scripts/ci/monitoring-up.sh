#!/usr/bin/env bash
# monitoring-up.sh: start a real Prometheus and Pushgateway on loopback for tests (Debian's prometheus and
# prometheus-pushgateway). Prometheus scrapes the Pushgateway every second (honor_labels) and loads
# docs/monitoring/alerts.yml, so a test can push fleet's metrics and query Prometheus's HTTP API for them.
#   usage: scripts/ci/monitoring-up.sh [--dir DIR] [--prometheus-port N] [--pushgateway-port N] [--self-test]
#   defaults: DIR /tmp/fleet-monitoring, ports 19090 (Prometheus) and 19091 (Pushgateway), on 127.0.0.1.
# Prints, as its last lines, shell assignments for the test:
#   PROMETHEUS_URL=http://127.0.0.1:19090
#   PUSHGATEWAY_URL=http://127.0.0.1:19091
# --self-test pushes a failed deploy's metrics, waits until Prometheus has them and the DeployFailed alert
# fires, then deletes them again. Stop everything with scripts/ci/monitoring-down.sh --dir DIR.
# It first stops what an earlier run left in DIR, so an interrupted test never blocks the next one.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="/tmp/fleet-monitoring"
prom_port=19090
push_port=19091
self_test=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --dir) dir="${2:?--dir needs a folder}"; shift 2 ;;
        --prometheus-port) prom_port="${2:?--prometheus-port needs a number}"; shift 2 ;;
        --pushgateway-port) push_port="${2:?--pushgateway-port needs a number}"; shift 2 ;;
        --self-test) self_test=1; shift ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "monitoring-up: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for port in "$prom_port" "$push_port"; do
    if [[ ! "$port" =~ ^[0-9]+$ ]] || ((port < 1024 || port > 65535)); then
        echo "monitoring-up: port '$port' must be a number from 1024 to 65535" >&2
        exit 2
    fi
done
for tool in prometheus prometheus-pushgateway curl; do
    if ! command -v "$tool" >/dev/null; then
        echo "monitoring-up: '$tool' is not installed (apt-get install prometheus prometheus-pushgateway curl)" >&2
        exit 16
    fi
done
[[ "$dir" == /* ]] || dir="$PWD/$dir"

"$root/scripts/ci/monitoring-down.sh" --dir "$dir" >/dev/null
mkdir -p "$dir/data"
cp "$root/docs/monitoring/alerts.yml" "$dir/alerts.yml"
cat >"$dir/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $dir/alerts.yml
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:$push_port"]
CONF

start() { # start NAME COMMAND...: in its own session, output to DIR/NAME.log, pid to DIR/NAME.pid
    local name="$1"
    shift
    setsid "$@" >"$dir/$name.log" 2>&1 </dev/null &
    echo $! >"$dir/$name.pid"
}
start pushgateway prometheus-pushgateway --web.listen-address="127.0.0.1:$push_port" \
    --persistence.file="$dir/pushgateway.data"
start prometheus prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$prom_port" --web.enable-lifecycle --log.level=warn

wait_ready() { # wait_ready NAME URL
    local name="$1" url="$2" _
    for _ in $(seq 1 150); do
        if curl -fsS --max-time 1 "$url" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
            echo "monitoring-up: $name exited at start; its log ($dir/$name.log) ends with:" >&2
            tail -n 20 "$dir/$name.log" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "monitoring-up: $name did not get ready at $url within 30 s; see $dir/$name.log" >&2
    return 1
}
if ! wait_ready pushgateway "http://127.0.0.1:$push_port/-/ready" ||
    ! wait_ready prometheus "http://127.0.0.1:$prom_port/-/ready"; then
    "$root/scripts/ci/monitoring-down.sh" --dir "$dir" --keep-logs >/dev/null
    exit 1
fi

if [[ $self_test -eq 1 ]]; then
    group="http://127.0.0.1:$push_port/metrics/job/fleet/app/selftest/env/ci/command/deploy"
    curl -fsS --max-time 5 --data-binary @- "$group" <<'METRICS'
# TYPE fleet_deploy_hosts gauge
fleet_deploy_hosts{outcome="ok"} 1
fleet_deploy_hosts{outcome="failed"} 1
# TYPE fleet_deploy_last_run_timestamp_seconds gauge
fleet_deploy_last_run_timestamp_seconds 2000
METRICS
    query="http://127.0.0.1:$prom_port/api/v1/query"
    found=0
    for _ in $(seq 1 60); do
        if curl -fsS --max-time 2 -G "$query" --data-urlencode 'query=ALERTS{alertname="DeployFailed",app="selftest"}' |
            grep -q '"alertstate":"firing"'; then
            found=1
            break
        fi
        sleep 0.5
    done
    curl -fsS --max-time 5 -X DELETE "$group" >/dev/null
    if [[ $found -ne 1 ]]; then
        echo "monitoring-up: self-test failed: DeployFailed did not fire for the pushed metrics in 30 s" >&2
        exit 1
    fi
    echo "monitoring-up: self-test OK (pushed, scraped, DeployFailed fired)" >&2
fi

echo "PROMETHEUS_URL=http://127.0.0.1:$prom_port"
echo "PUSHGATEWAY_URL=http://127.0.0.1:$push_port"
