#!/usr/bin/env bash
# chroot-test.sh TARBALL: runs a release where users run it: a minimal Debian 12 root filesystem without Swift,
# libssh2 or OpenSSL's libraries, holding nothing of fleet's but the unpacked tarball. There it checks that
# `fleet --version` names the tarball's version, that ldd lists glibc's and gcc's libraries only, and that
# `fleet plan` plans from a folder holding nothing but an inventory (the host scripts built into the binary).
# When the lab runs with its servers ($FLEET_LAB_DIR/lab.env, scripts/lab/lab.sh up --servers), a real deploy
# from the chroot follows: app shipdemo on web1 and web2, with its own ports (8180, 8181), folders and an nginx
# of its own on 127.0.0.1:8190 in each host, so the lab's own app is left alone; all of it removed at the end.
# Its webhooks go to an https receiver on 127.0.0.1 (python3's ssl module, a self-signed certificate trusted
# through SSL_CERT_FILE): TLS through the OpenSSL inside the binary.
#   usage: sudo scripts/release/chroot-test.sh dist/fleet-VERSION-linux-x86_64.tar.gz
# The root filesystem is made once (debootstrap --variant=minbase bookworm, from Debian's mirror) and kept in
# $FLEET_ROOTFS_CACHE (default /var/cache/fleet/rootfs-bookworm-minbase); each run works on a fresh copy.
set -euo pipefail

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") usage >&2; exit 2 ;;
esac
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[[ -f $tarball ]] || { echo "chroot-test: no tarball $1 (scripts/release.sh VERSION writes it)" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "chroot-test: run as root (debootstrap, chroot, the lab)" >&2; exit 2; }
name=$(basename "$tarball" .tar.gz)
version=${name#fleet-}
version=${version%-linux-x86_64}
cache=${FLEET_ROOTFS_CACHE:-/var/cache/fleet/rootfs-bookworm-minbase}
mirror=${FLEET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
lab=${FLEET_LAB_DIR:-/tmp/fleet-lab}
ship=/tmp/fleet-shiptest
started=$SECONDS

step() { printf '== [%3ds] %s\n' "$((SECONDS - started))" "$*"; }
fail() { echo "chroot-test: FAIL: $*" >&2; exit 1; }

if [[ -f $tarball.sha256 ]]; then
  (cd "$(dirname "$tarball")" && sha256sum --check --strict --quiet "$name.tar.gz.sha256") || fail "checksum of $tarball"
fi

if [[ ! -f $cache/.fleet-rootfs-complete ]]; then
  command -v debootstrap >/dev/null || fail "debootstrap is not installed (apt-get install debootstrap)"
  step "debootstrap --variant=minbase bookworm $cache (once; later runs reuse it)"
  mkdir -p "$(dirname "$cache")"
  rm -rf "$cache.partial"
  debootstrap --variant=minbase bookworm "$cache.partial" "$mirror" >"$(dirname "$cache")/debootstrap.log" 2>&1 \
    || fail "debootstrap failed; see $(dirname "$cache")/debootstrap.log"
  rm -f "$cache.partial"/var/cache/apt/archives/*.deb
  touch "$cache.partial/.fleet-rootfs-complete"
  rm -rf "$cache"
  mv "$cache.partial" "$cache"
fi

work=$(mktemp -d /var/tmp/fleet-chroot.XXXXXX)
rootfs=$work/root
nginx_pids=()
receiver_pid=""
cleanup() {
  local pid host
  for pid in "${nginx_pids[@]}" $receiver_pid; do kill "$pid" 2>/dev/null || true; done
  for host in web1 web2; do
    if [[ -S /run/fleetlab/docker-$host.sock ]]; then
      docker -H "unix:///run/fleetlab/docker-$host.sock" rm -f shipdemo-blue shipdemo-green >/dev/null 2>&1 || true
    fi
  done
  if [[ -n ${rootfs:-} ]] && mountpoint -q "$rootfs/proc"; then umount "$rootfs/proc"; fi
  rm -rf "$work" "$ship"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "fresh copy of the root filesystem"
cp -a "$cache" "$rootfs"
# Nothing of what fleet used to need is there.
for lib in 'libswiftCore*' 'libFoundation*' 'libssh2.so*' 'libcurl*'; do
  found=$(find "$rootfs" -name "$lib" -print -quit)
  [[ -z $found ]] || fail "the root filesystem is not bare: it has ${found#"$rootfs"}"
done
mount -t proc proc "$rootfs/proc"
in_root() { chroot "$rootfs" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin USER=root "$@"; }

step "unpack $name.tar.gz into /opt"
tar -xzf "$tarball" -C "$rootfs/opt"
fleet=/opt/$name/bin/fleet
said=$(in_root "$fleet" --version) || fail "fleet --version failed in the chroot"
echo "    $said"
[[ $said =~ ^fleet\ $version\ \(libssh2\ [0-9.]+,\ OpenSSL\ [0-9] ]] ||
  fail "fleet --version says '$said', not fleet $version with the libssh2 and OpenSSL it carries"
# The man page and the shell completions the tarball ships.
for f in share/man/man1/fleet.1 share/bash-completion/completions/fleet share/zsh/site-functions/_fleet \
  share/fish/vendor_completions.d/fleet.fish; do
  [[ -s $rootfs/opt/$name/$f ]] || fail "the tarball has no $f"
done
grep -q '^\.SH NAME' "$rootfs/opt/$name/share/man/man1/fleet.1" || fail "share/man/man1/fleet.1 is not a man page"
grep -q 'deploy' "$rootfs/opt/$name/share/bash-completion/completions/fleet" || fail "the bash completion names no deploy"
others=$(in_root ldd "$fleet" | awk '{print $1}' \
  | grep -v -E '^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libgcc_s\.so\.1|libstdc\+\+\.so\.6|/lib64/ld-linux-x86-64\.so\.2)$' || true)
[[ -z $others ]] || fail "fleet needs libraries outside glibc and gcc: $others"

step "fleet plan from a folder holding nothing but an inventory"
mkdir -p "$rootfs/srv/app/inventory"
touch "$rootfs/srv/app/inventory/known_hosts"
cat >"$rootfs/srv/app/inventory/production.yml" <<'YML'
app: shop
image: registry.example.com/acme/shop
ssh: {user: deploy, known_hosts: known_hosts}
hosts:
  web1: 10.0.0.11
  web2: 10.0.0.12
YML
plan=$(in_root sh -c "cd /srv/app && $fleet plan --env production v1.4.2") || fail "fleet plan failed in the chroot"
grep -q "fleet $version (built in)/deploy.sh -> /opt/fleet/shop/bin/deploy.sh" <<<"$plan" \
  || fail "the plan does not install the built-in scripts: $(head -n 40 <<<"$plan")"
grep -q "FLEET_VERSION=$version" <<<"$plan" || fail "the plan's fleet.conf has no FLEET_VERSION=$version"
echo "    $(grep -c ' -> ' <<<"$plan") files installed per the plan, from fleet $version (built in)"

step "fleet init in an empty folder, fleet on PATH through a symbolic link (README's Install)"
ln -s "$fleet" "$rootfs/usr/local/bin/fleet"
mkdir -p "$rootfs/srv/new"
in_root sh -c "cd /srv/new && fleet init" >/dev/null 2>&1 || fail "fleet init failed in the chroot"
grep -q "^  FLEET_VERSION: \"$version\"\$" "$rootfs/srv/new/.github/workflows/deploy.yml" \
  || fail "fleet init's deploy workflow does not install fleet $version"
[[ -f $rootfs/srv/new/inventory/production.yml && ! -e $rootfs/srv/new/playbooks ]] \
  || fail "fleet init did not write the inventory, or copied the host scripts"

if [[ ! -f $lab/lab.env ]] || ! grep -q '^LAB_SERVERS=1' "$lab/lab.env"; then
  step "no lab with servers ($lab/lab.env): the deploy from the chroot is skipped"
  echo "chroot-test: passed in $((SECONDS - started)) s (plan only)"
  exit 0
fi

step "a real deploy from the chroot: shipdemo on web1 and web2 of the lab"
hosts=(web1 web2)
for i in 1 2; do
  host=web$i
  dir=$ship/$host
  mkdir -p "$dir/opt" "$dir/state" "$dir/nginx/tmp"
  printf 'upstream fleet_shipdemo {\n    server 127.0.0.1:8180;\n}\n' >"$dir/nginx/fleet-shipdemo.conf"
  cat >"$dir/nginx/nginx.conf" <<NGINX
# nginx of shipdemo on lab host $host; written by scripts/release/chroot-test.sh
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/nginx/tmp;
    proxy_temp_path $dir/nginx/tmp;
    fastcgi_temp_path $dir/nginx/tmp;
    uwsgi_temp_path $dir/nginx/tmp;
    scgi_temp_path $dir/nginx/tmp;
    include $dir/nginx/fleet-shipdemo.conf;
    server {
        listen 127.0.0.1:8190;
        location / { proxy_pass http://fleet_shipdemo; }
    }
}
NGINX
  ip netns exec "fleetlab-$host" nginx -c "$dir/nginx/nginx.conf" || fail "cannot start shipdemo's nginx on $host"
  nginx_pids+=("$(cat "$dir/nginx/nginx.pid")")
done
tls=$work/tls
mkdir -p "$tls/got"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
python3 - "$tls" <<'PY' &
import http.server, os, ssl, sys
tls = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(os.path.join(tls, "got", "%04d.json" % len(os.listdir(os.path.join(tls, "got")))), "wb") as f:
            f.write(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(os.path.join(tls, "cert.pem"), os.path.join(tls, "key.pem"))
s.socket = context.wrap_socket(s.socket, server_side=True)
with open(os.path.join(tls, "port.tmp"), "w") as f:
    f.write(str(s.server_address[1]))
os.rename(os.path.join(tls, "port.tmp"), os.path.join(tls, "port"))
s.serve_forever()
PY
receiver_pid=$!
for _ in $(seq 50); do [[ -f $tls/port ]] && break; sleep 0.1; done
[[ -f $tls/port ]] || fail "the https receiver did not start"
app=$rootfs/srv/shipdemo/inventory
mkdir -p "$app"
install -m 0644 "$tls/cert.pem" "$rootfs/srv/shipdemo/ca.pem"
install -m 0600 "$lab/client/id_ed25519" "$app/id_ed25519"
install -m 0644 "$lab/known_hosts" "$app/known_hosts"
cat >"$app/lab.yml" <<YML
app: shipdemo
image: 10.77.0.1:5000/demo
ssh: {user: root, identity_files: [id_ed25519], known_hosts: known_hosts, connect_timeout: 5s}
paths: {root: "$ship/{host}/opt", state: "$ship/{host}/state"}
nginx:
  upstream_file: $ship/{host}/nginx/fleet-shipdemo.conf
  upstream_name: fleet_shipdemo
  conf: $ship/{host}/nginx/nginx.conf
  url: http://127.0.0.1:8190
container: {ports: [8180, 8181]}
drain: 0s
notify: {webhooks: ["https://127.0.0.1:$(cat "$tls/port")/hooks/shipdemo"]}
hosts:
  web1: 10.77.0.11
  web2: 10.77.0.12
YML
for release in v1 v2; do
  in_root SSL_CERT_FILE=/srv/shipdemo/ca.pem "$fleet" deploy --inventory /srv/shipdemo/inventory/lab.yml "$release" \
    --progress plain 2>&1 | tee "$work/deploy.log" || fail "fleet deploy $release of shipdemo from the chroot failed"
  if grep -q "not delivered" "$work/deploy.log"; then fail "a webhook was not delivered over https"; fi
done
got=$(find "$tls/got" -name '*.json' | wc -l)
[[ $got -eq 4 ]] || fail "the https receiver got $got webhooks, not 4 (started and finished, twice)"
echo "    4 webhooks delivered over https (OpenSSL in the binary, the receiver's certificate via SSL_CERT_FILE)"
status=$(in_root "$fleet" status --inventory /srv/shipdemo/inventory/lab.yml) || fail "fleet status of shipdemo failed"
mapfile -t lines <<<"$status"
printf '    %s\n' "${lines[@]}"
for host in "${hosts[@]}"; do
  grep -E "^$host +v2 +v1 .* $version " <<<"$status" >/dev/null \
    || fail "fleet status does not show $host on v2 (previous v1) with scripts of fleet $version"
done
echo "chroot-test: passed in $((SECONDS - started)) s (plan, and deploys v1 then v2 to the lab)"
