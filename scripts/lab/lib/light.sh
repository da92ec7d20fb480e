#!/usr/bin/env bash
# shellcheck shell=bash
# Light hosts for benchmarks: one sshd per loopback address (127.0.1.1 .. 127.0.1.250, then 127.0.2.x, and
# so on up to 127.0.8.x for 2,000 hosts), port 22, no namespace, no docker. One host key pair shared by all;
# one known_hosts line per address. Only sshds named by our pid files (and whose command line names our
# config) are ever signalled.
#
# `light-up N` is idempotent: it keeps the sshds of hosts 1..N that already run, starts the missing ones (in
# parallel batches), stops those above N, and rewrites the inventory and known_hosts for exactly 1..N. When
# the sshd_config it would write differs from the running one, it restarts every host.

LIGHT_MAX=2000
LIGHT_PER_NET=250
# sshds started at once; each start costs ~10 ms of CPU (exec, config, host keys, bind, fork).
LIGHT_BATCH=${LIGHT_BATCH:-64}
# Processes one light host may take while a client is connected (listener, pre-auth child, session
# child, the command's shell), for the pid check.
LIGHT_PROCS_PER_HOST=4
# Memory one idle listening sshd takes, in KiB (measured: 2,000 of them took 2.9 GiB).
LIGHT_KIB_PER_HOST=1600

# light_addr I (1-based) -> 127.0.1.I for I <= 250, then 127.0.2.(I-250), ...
light_addr() {
  local a
  light_addr_v a "$1"
  printf '%s' "$a"
}

# light_addr_v VAR I: the same, into VAR (no subshell: it runs for every host).
light_addr_v() {
  printf -v "$1" '127.0.%d.%d' "$((($2 - 1) / LIGHT_PER_NET + 1))" "$((($2 - 1) % LIGHT_PER_NET + 1))"
}

# light_pid PIDFILE: sets LIGHT_PID and succeeds when the file names a live sshd of ours (builtins only: this
# runs for every host). A zombie has an empty command line, so it counts as gone.
LIGHT_PID=
light_pid() {
  local file=$1 line='' args=()
  LIGHT_PID=
  [[ -s $file ]] || return 1
  read -r line < "$file" || [[ -n $line ]] || return 1
  [[ $line =~ ^[1-9][0-9]*$ ]] || return 1
  mapfile -d '' args < "/proc/$line/cmdline" 2>/dev/null || return 1
  [[ "${args[*]}" == *" -f $LAB/light/sshd_config "* ]] || return 1
  LIGHT_PID=$line
}

# light_stop PIDFILE...: TERM every live sshd of ours named by the files, wait up to 10 s for all of them,
# KILL what is left, remove the pid files.
light_stop() {
  local f pids=() left i
  for f in "$@"; do
    if light_pid "$f"; then
      kill -TERM "$LIGHT_PID" 2>/dev/null || true
      pids+=("$f")
    fi
  done
  for ((i = 0; i < 100 && ${#pids[@]}; i++)); do
    left=()
    for f in "${pids[@]}"; do
      if light_pid "$f"; then left+=("$f"); fi
    done
    pids=(${left[@]+"${left[@]}"})
    ((${#pids[@]})) && sleep 0.1
  done
  for f in ${pids[@]+"${pids[@]}"}; do
    if light_pid "$f"; then
      log "light: pid $LIGHT_PID did not stop after TERM; sending KILL"
      kill -KILL "$LIGHT_PID" 2>/dev/null || true
    fi
  done
  rm -f "$@"
}

light_down() {
  local dir="$LAB/light"
  if [[ -d $dir/pids ]]; then
    light_stop "$dir"/pids/light*.pid
  fi
  rm -rf "$dir" "$LAB/inventory/light.yml"
}

# light_check_room N: enough free pids and memory for N more hosts (plus their connections), or die saying
# which limit to raise. Existing light hosts are counted as free room.
light_check_room() {
  local n=$1 running=$2 pid_max threads avail need_pids need_kib tasks
  read -r pid_max < /proc/sys/kernel/pid_max
  read -r threads < /proc/sys/kernel/threads-max
  ((threads < pid_max)) && pid_max=$threads
  read -r _ _ _ tasks _ < /proc/loadavg
  tasks=${tasks#*/}
  need_pids=$(((n - running) + n * (LIGHT_PROCS_PER_HOST - 1) + 512))
  if ((pid_max - tasks < need_pids)); then
    die "light-up $n: $tasks of $pid_max pids in use, and $n hosts with a client on each need about" \
      "$need_pids more (raise kernel.pid_max / kernel.threads-max)"
  fi
  avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
  need_kib=$(((n - running) * LIGHT_KIB_PER_HOST))
  if [[ -n $avail ]] && ((avail < need_kib + 262144)); then
    die "light-up $n: $((need_kib / 1024)) MiB needed for $((n - running)) more sshds, $((avail / 1024)) MiB available"
  fi
}

# light_config: the sshd_config every light host shares (written to stdout).
light_config() {
  local dir="$LAB/light" tmp
  tmp=$(mktemp "$LAB/light-config.XXXXXX")
  ssh_write_config "$tmp" "$dir"
  cat "$tmp"
  rm -f "$tmp"
}

# light_start I...: start the sshds of hosts I... LIGHT_BATCH at a time. sshd binds before it daemonizes,
# so its exit status says whether the address could be taken.
light_start() {
  local dir="$LAB/light" i j addr batch=() pids=()
  for i in "$@"; do
    rm -f "$dir/pids/light$i.pid"
  done
  for ((j = 0; j < $#; j += LIGHT_BATCH)); do
    batch=("${@:j+1:LIGHT_BATCH}")
    pids=()
    for i in "${batch[@]}"; do
      light_addr_v addr "$i"
      /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/logs/light$i.log" \
        -o "ListenAddress=$addr:22" -o "PidFile=$dir/pids/light$i.pid" &
      pids+=("$!")
    done
    for ((i = 0; i < ${#batch[@]}; i++)); do
      wait "${pids[i]}" ||
        die "light${batch[i]} ($(light_addr "${batch[i]}")): sshd did not start; see $dir/logs/light${batch[i]}.log"
    done
  done
}

# light_wait I...: wait (10 s at most) until every host's sshd wrote its pid file.
light_wait() {
  local dir="$LAB/light" i t pending=("$@") left
  for ((t = 0; t < 100 && ${#pending[@]}; t++)); do
    left=()
    for i in "${pending[@]}"; do
      light_pid "$dir/pids/light$i.pid" || left+=("$i")
    done
    pending=(${left[@]+"${left[@]}"})
    ((${#pending[@]})) && sleep 0.1
  done
  ((${#pending[@]} == 0)) ||
    die "light${pending[0]}: sshd did not come up within 10 s (${#pending[@]} hosts missing); see $dir/logs/light${pending[0]}.log"
}

light_up() {
  local n=$1 dir="$LAB/light" i f config running=0 todo=() above=() addrs=() start type key
  if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n > LIGHT_MAX)); then
    die "light-up: N must be 1..$LIGHT_MAX, got '$n'"
  fi
  need_tools ssh-keygen awk mktemp
  [[ -x /usr/sbin/sshd ]] || die "missing /usr/sbin/sshd (apt-get install -y openssh-server)"
  start=$(date +%s%N)
  raise_nofile
  mkdir -p "$LAB/inventory" /run/sshd
  chmod 0755 "$LAB"
  config=$(light_config)
  # Another config or missing keys: the running hosts are not what this run would start. Start over.
  if [[ -d $dir ]] && { [[ $(cat "$dir/sshd_config" 2>/dev/null) != "$config" ]] ||
    [[ ! -s $dir/ssh_host_ed25519_key.pub || ! -s $dir/ssh_host_ecdsa_key ]]; }; then
    log "light hosts: configuration or host keys changed; restarting all of them"
    light_down
  fi
  mkdir -p "$dir/pids" "$dir/logs"
  ssh_client_keys
  if [[ ! -s $dir/ssh_host_ed25519_key.pub ]]; then
    ssh_host_keys "$dir"
    printf '%s\n' "$config" > "$dir/sshd_config"
  fi
  for f in "$dir"/pids/light*.pid; do
    [[ -e $f ]] || continue
    i=${f##*/light}
    i=${i%.pid}
    if [[ $i =~ ^[0-9]+$ ]] && ((i > n)); then above+=("$f"); fi
  done
  ((${#above[@]} == 0)) || light_stop "${above[@]}"
  for ((i = 1; i <= n; i++)); do
    if light_pid "$dir/pids/light$i.pid"; then
      running=$((running + 1))
    else
      todo+=("$i")
    fi
  done
  light_check_room "$n" "$running"
  ((${#todo[@]} == 0)) || light_start "${todo[@]}"
  ((${#todo[@]} == 0)) || light_wait "${todo[@]}"
  read -r type key _ < "$dir/ssh_host_ed25519_key.pub"
  for ((i = 1; i <= n; i++)); do
    light_addr_v "addrs[$((i - 1))]" "$i"
  done
  for f in "${addrs[@]}"; do
    printf '%s %s %s\n' "$f" "$type" "$key"
  done > "$dir/known_hosts.tmp"
  mv -f "$dir/known_hosts.tmp" "$dir/known_hosts"
  chmod 0644 "$dir/known_hosts"
  inventory_light "${addrs[@]}"
  log "light hosts up: $n ($running kept, ${#todo[@]} started, ${#above[@]} stopped) in" \
    "$((($(date +%s%N) - start) / 1000000)) ms (inventory $LAB/inventory/light.yml, known_hosts $dir/known_hosts)"
}

# One line for `lab.sh status`, when light hosts exist.
light_status() {
  local dir="$LAB/light" up=0 total=0 f
  [[ -d $dir/pids ]] || return 0
  for f in "$dir"/pids/light*.pid; do
    [[ -e $f ]] || continue
    total=$((total + 1))
    if light_pid "$f"; then up=$((up + 1)); fi
  done
  echo "light hosts: $up of $total sshd running ($dir)"
}
