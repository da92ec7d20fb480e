#!/usr/bin/env bash
# nginx-template-check.sh: check docs/examples/nginx-site.conf with the real nginx, offline, on loopback only.
#   1. `nginx -t` on the template, with a lab-like upstream file and a throw-away self-signed certificate.
#   2. Run it for a moment on 127.0.0.1 (ports picked free) and check the circuit breaker: with the app up,
#      /health answers 200 through nginx; with the app down, / answers 503 with the maintenance page and
#      Retry-After, and /health shows the real 502.
# Everything lives in a temp folder; the nginx and the stand-in app are stopped by pid on exit.
#   usage: scripts/ci/nginx-template-check.sh [--syntax-only]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
template="$root/docs/examples/nginx-site.conf"
page="$root/docs/examples/maintenance.html"
syntax_only=0
[[ "${1:-}" == "--syntax-only" ]] && syntax_only=1

tmp="$(mktemp -d)"
app_pid=""
cleanup() {
    if [[ -s "$tmp/nginx/nginx.pid" ]]; then kill "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true; fi
    if [[ -n "$app_pid" ]]; then kill "$app_pid" 2>/dev/null || true; fi
    sleep 0.2
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

fail() {
    echo "nginx-template-check: $*" >&2
    exit 1
}

for tool in nginx openssl python3 curl; do
    command -v "$tool" >/dev/null || fail "'$tool' is not installed (see scripts/ci/debian-packages.txt)"
done

# Workers run as nobody when nginx starts as root: the folder must be readable.
chmod 0755 "$tmp"
mkdir -p "$tmp/nginx/logs" "$tmp/www" "$tmp/app"
cp "$page" "$tmp/www/maintenance.html"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=shop.example.com" \
    -keyout "$tmp/nginx/tls.key" -out "$tmp/nginx/tls.crt" 2>"$tmp/openssl.log" \
    || fail "openssl could not make a test certificate: $(cat "$tmp/openssl.log")"

app_port="$(free_port)"
http_port="$(free_port)"
https_port="$(free_port)"

# The upstream file as fleet's deploy script writes it in the lab: the whole block, the live slot only.
printf 'upstream fleet_shop {\n    server 127.0.0.1:%s;\n}\n' "$app_port" >"$tmp/nginx/fleet-shop.conf"

# The template with its placeholders (include, certificate, log and web root paths, ports) pointed at $tmp.
sed -e "s#^include /etc/nginx/fleet/fleet-shop.conf;#include $tmp/nginx/fleet-shop.conf;#" \
    -e "s#/etc/ssl/fleet/shop.example.com.fullchain.pem#$tmp/nginx/tls.crt#" \
    -e "s#/etc/ssl/fleet/shop.example.com.key.pem#$tmp/nginx/tls.key#" \
    -e "s#/var/log/nginx/#$tmp/nginx/logs/#g" \
    -e "s#/var/www/fleet-maintenance#$tmp/www#" \
    -e "s#/var/www/acme#$tmp/www#" \
    -e "s#listen 80;#listen 127.0.0.1:$http_port;#" \
    -e "s#listen 443 ssl http2;#listen 127.0.0.1:$https_port ssl http2;#" \
    -e "s/listen \[::\]:.*$/# (IPv6 listen left out in the test)/" \
    "$template" >"$tmp/nginx/site.conf"
grep -q "include $tmp/nginx/fleet-shop.conf;" "$tmp/nginx/site.conf" \
    || fail "$template: no 'include /etc/nginx/fleet/fleet-shop.conf;' line to point at the test upstream file"

cat >"$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log $tmp/nginx/logs/access.log;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    include $tmp/nginx/site.conf;
}
CONF

if ! nginx -t -q -e stderr -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx-t.log"; then
    fail "nginx -t rejects $template: $(sed "s#$tmp/nginx/site.conf#$template#g" "$tmp/nginx-t.log")"
fi
echo "nginx-template-check: nginx -t accepts $template"
[[ $syntax_only -eq 1 ]] && exit 0

nginx -e stderr -p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx-start.log" \
    || fail "nginx would not start with the template: $(cat "$tmp/nginx-start.log")"
echo ok >"$tmp/app/health"
python3 -m http.server "$app_port" --bind 127.0.0.1 --directory "$tmp/app" >/dev/null 2>&1 &
app_pid=$!

base="https://127.0.0.1:$https_port"
fetch() { # fetch PATH -> prints "STATUS" and keeps headers/body in $tmp/resp.*
    curl -sk --max-time 5 -o "$tmp/resp.body" -D "$tmp/resp.head" -w '%{http_code}' \
        -H 'Host: shop.example.com' "$base$1" || true
}
for _ in $(seq 1 50); do
    [[ "$(fetch /health)" == "200" ]] && break
    sleep 0.1
done
[[ "$(fetch /health)" == "200" ]] || fail "/health through nginx did not answer 200 with the app up"
grep -q '^ok$' "$tmp/resp.body" || fail "/health through nginx did not return the app's body"
[[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http_port/x")" == "301" ]] \
    || fail "plain HTTP does not redirect to HTTPS"

kill "$app_pid"
wait "$app_pid" 2>/dev/null || true
app_pid=""
status="$(fetch /)"
[[ "$status" == "503" ]] || fail "with the app down, / answered $status, expected 503 (maintenance page)"
grep -q "back in a moment" "$tmp/resp.body" || fail "with the app down, / did not serve maintenance.html"
grep -qi '^retry-after: 30' "$tmp/resp.head" || fail "the maintenance page has no Retry-After header"
status="$(fetch /health)"
[[ "$status" == "502" ]] || fail "with the app down, /health answered $status, expected the real 502"
if grep -q '/health' "$tmp/nginx/logs/shop.access.log" 2>/dev/null; then
    fail "/health requests appear in the access log"
fi
echo "nginx-template-check: circuit breaker OK (200 via the app; 503 + maintenance page without it)"
