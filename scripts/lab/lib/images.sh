#!/usr/bin/env bash
# shellcheck shell=bash
# Offline test images from busybox-static, imported and pushed through web1's daemon:
#   demo:v1, demo:v2 (healthy), demo:v3 (broken: no /www/health, never healthy).
# Every version also holds /bin/worker, a background worker for `cmd: [/bin/worker]` (see WORKER_SCRIPT).
# The image tarballs are cached in $LAB/cache (kept by down), so a second up is quick.

IMAGE_RECIPE=2
IMAGE_VERSIONS=(v1 v2 v3)
BUSYBOX_LINKS=(sh ash cat echo env id kill ls mkdir ps rm sleep true false wget httpd printf test date)
# PID 1 traps TERM/INT so `docker stop` is quick; the app reads its port from $PORT.
# shellcheck disable=SC2016 # expanded by the container's shell, not here
IMAGE_CMD='CMD ["/bin/sh","-c","trap \"exit 0\" TERM INT; /bin/busybox httpd -f -p \"${PORT:?PORT is not set}\" -h /www & wait"]'
# The worker: one "job" after another (WORKER_JOB_SECONDS each, default 1), each logged when it starts and
# ends. On SIGTERM it finishes the job it is on, logs "finished job N after SIGTERM" and exits 0 (also to
# the file WORKER_LOG names, when set: a mounted volume outlives the container). /tmp/worker.ready exists
# once it runs (for a check command like [test, -f, /tmp/worker.ready]).
# shellcheck disable=SC2016 # expanded by the container's shell, not here
WORKER_SCRIPT='#!/bin/sh
n=0
stop=0
say() {
  echo "$*"
  if [ -n "${WORKER_LOG:-}" ]; then echo "$(date -u +%H:%M:%S) $APP_VERSION $*" >>"$WORKER_LOG"; fi
}
trap "stop=1" TERM INT
say "worker $APP_VERSION started"
: >/tmp/worker.ready
while [ "$stop" = 0 ]; do
  n=$((n + 1))
  say "job $n started"
  sleep "${WORKER_JOB_SECONDS:-1}" &
  while ! wait; do :; done
  say "job $n done"
done
say "finished job $n after SIGTERM"
'

# image_rootfs VERSION DIR: the root filesystem of demo:VERSION.
image_rootfs() {
  local v=$1 root=$2 l
  rm -rf "$root"
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/www/api/v1"
  chmod 1777 "$root/tmp"
  cp /bin/busybox "$root/bin/busybox"
  for l in "${BUSYBOX_LINKS[@]}"; do
    ln -s busybox "$root/bin/$l"
  done
  printf 'root:x:0:0:root:/:/bin/sh\napp:x:1001:1001:app:/www:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\napp:x:1001:\n' > "$root/etc/group"
  printf '%s\n' "$v" > "$root/www/version"
  printf '%s' "$WORKER_SCRIPT" > "$root/bin/worker"
  chmod 0755 "$root/bin/worker"
  printf '{"status":"ok","app":"%s","version":"%s"}\n' "$LAB_APP" "$v" > "$root/www/api/v1/status"
  printf '# TYPE demo_build_info gauge\ndemo_build_info{version="%s"} 1\n' "$v" > "$root/www/metrics"
  printf '<html><body>fleet lab demo %s</body></html>\n' "$v" > "$root/www/index.html"
  if [[ $v != v3 ]]; then
    printf 'ok\n' > "$root/www/health"
  fi
  chmod -R a+rX "$root/www"
}

# image_tarball VERSION: prints the cached tarball of demo:VERSION, building it when missing.
image_tarball() {
  local v=$1 cache="$LAB/cache/images" tar
  tar="$cache/demo-$v-r$IMAGE_RECIPE.tar"
  if [[ ! -s $tar ]]; then
    mkdir -p "$cache"
    image_rootfs "$v" "$cache/rootfs-$v"
    tar --numeric-owner --owner=0 --group=0 -C "$cache/rootfs-$v" -cf "$tar.tmp" .
    mv -f "$tar.tmp" "$tar"
  fi
  printf '%s' "$tar"
}

# images_push: import every version into web1's daemon and push it to the lab registry.
images_push() {
  local v tar ref
  [[ -x /bin/busybox ]] || die "missing /bin/busybox (apt-get install -y busybox-static)"
  for v in "${IMAGE_VERSIONS[@]}"; do
    tar=$(image_tarball "$v")
    ref="$LAB_REGISTRY/$LAB_APP:$v"
    docker_cli 1 import -c "$IMAGE_CMD" -c 'USER 1001' -c "ENV APP_VERSION=$v" - "$ref" < "$tar" >/dev/null ||
      die "web1: docker import of $ref failed; see $(host_dir 1)/dockerd.log"
    docker_cli 1 push "$ref" >/dev/null ||
      die "web1: docker push $ref failed; see $LAB/registry/registry.log"
  done
}
