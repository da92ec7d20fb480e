#!/usr/bin/env bash
# shellcheck shell=bash
# One nginx per lab host, in the host's namespace, listening on ADDR:80 and 127.0.0.1:80 there.
# fleet's host scripts own and rewrite the upstream file; the lab writes only its first version.

nginx_dir() { printf '%s/nginx' "$(host_dir "$1")"; }
nginx_conf() { printf '%s/nginx.conf' "$(nginx_dir "$1")"; }
nginx_upstream_file() { printf '%s/fleet-%s.conf' "$(nginx_dir "$1")" "$LAB_APP"; }

nginx_write_upstream() {
  local file=$1
  cat > "$file" <<CONF
upstream fleet_$LAB_APP {
    server 127.0.0.1:8080;
}
CONF
}

nginx_write_conf() {
  nginx_render_conf "web$1" "$(nginx_dir "$1")" "$(host_addr "$1")" "$(nginx_upstream_file "$1")"
}

# nginx_render_conf NAME DIR ADDR UPSTREAM: DIR/nginx.conf of a lab host's nginx (every lab host's is this one),
# listening on ADDR:80 and 127.0.0.1:80, proxying to the upstream that UPSTREAM (fleet's file) defines.
nginx_render_conf() {
  local name=$1 d=$2 addr=$3 upstream=$4
  cat > "$d/nginx.conf" <<CONF
# nginx of lab host $name; written by scripts/lab/lab.sh
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events {
    worker_connections 1024;
}
http {
    access_log $d/access.log;
    client_body_temp_path $d/tmp/client_body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;

    include $upstream;

    server {
        listen $addr:80;
        listen 127.0.0.1:80;
        server_name $name;
        location / {
            proxy_pass http://fleet_$LAB_APP;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Real-IP \$remote_addr;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_connect_timeout 5s;
            proxy_send_timeout 60s;
            proxy_read_timeout 60s;
        }
        location /health {
            access_log off;
            proxy_pass http://fleet_$LAB_APP;
        }
    }
}
CONF
}

nginx_start() {
  local i=$1 d conf
  d=$(nginx_dir "$i")
  conf=$(nginx_conf "$i")
  mkdir -p "$d/tmp"
  nginx_write_conf "$i"
  nginx_write_upstream "$(nginx_upstream_file "$i")"
  ip netns exec "$(host_ns "$i")" nginx -t -q -c "$conf" ||
    die "web$i: nginx -t failed for $conf; see $d/error.log"
  ip netns exec "$(host_ns "$i")" nginx -c "$conf" ||
    die "web$i: nginx did not start; see $d/error.log"
  wait_for 10 pid_alive "$d/nginx.pid" nginx ||
    die "web$i: nginx did not write $d/nginx.pid within 10 s; see $d/error.log"
}

nginx_stop() {
  local i=$1
  kill_pidfile "$(nginx_dir "$i")/nginx.pid" "$(nginx_conf "$i")" 30
}
