#!/usr/bin/env bash
# shellcheck shell=bash
# sshd per lab host: host keys, config, start/stop, client keys, known_hosts, the fleetlab user.

# Client keys are kept across runs (tests may cache them); made once, no passphrase.
ssh_client_keys() {
  local dir="$LAB/client" t
  mkdir -p "$dir"
  chmod 0700 "$dir"
  for t in ed25519 ecdsa rsa; do
    if [[ ! -s $dir/id_$t || ! -s $dir/id_$t.pub ]]; then
      rm -f "$dir/id_$t" "$dir/id_$t.pub"
      ssh-keygen -q -t "$t" -N '' -C "fleet-lab-client-$t" -f "$dir/id_$t"
    fi
  done
  cat "$dir/id_ed25519.pub" "$dir/id_ecdsa.pub" "$dir/id_rsa.pub" > "$LAB/authorized_keys.tmp"
  chmod 0644 "$LAB/authorized_keys.tmp"
  mv -f "$LAB/authorized_keys.tmp" "$LAB/authorized_keys"
}

# The non-root user that logs in with the same client keys (AuthorizedKeysFile is the lab file).
ssh_lab_user() {
  if ! id "$LAB_USER" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$LAB_USER"
  fi
  # With UsePAM no, sshd refuses accounts whose password starts with '!' (locked): set an unusable one.
  usermod -p '*' "$LAB_USER"
}

# ssh_host_keys DIR: a fresh ed25519 and ecdsa host key pair in DIR.
ssh_host_keys() {
  local dir=$1 t
  for t in ed25519 ecdsa; do
    rm -f "$dir/ssh_host_${t}_key" "$dir/ssh_host_${t}_key.pub"
    ssh-keygen -q -t "$t" -N '' -C "fleet-lab-host" -f "$dir/ssh_host_${t}_key"
  done
}

# ssh_write_config FILE HOSTKEY_DIR [SETENV]: the settings every lab sshd shares. ListenAddress and
# PidFile are given per host (in the file or with -o) by the caller.
ssh_write_config() {
  local file=$1 keydir=$2 setenv=${3:-}
  {
    echo "# fleet lab sshd; written by scripts/lab/lab.sh"
    echo "Port 22"
    echo "HostKey $keydir/ssh_host_ed25519_key"
    echo "HostKey $keydir/ssh_host_ecdsa_key"
    echo "AuthorizedKeysFile $LAB/authorized_keys"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "PermitRootLogin prohibit-password"
    echo "StrictModes no"
    echo "UsePAM no"
    echo "UseDNS no"
    echo "MaxStartups 100:30:200"
    echo "MaxSessions 50"
    echo "LogLevel VERBOSE"
    echo "Subsystem sftp internal-sftp"
    [[ -z $setenv ]] || echo "SetEnv $setenv"
  } > "$file"
}

# ssh_prepare_host I: keys and sshd_config for lab host I.
ssh_prepare_host() {
  local i=$1 dir
  dir=$(host_dir "$i")
  mkdir -p "$dir"
  ssh_host_keys "$dir"
  ssh_write_config "$dir/sshd_config" "$dir" "DOCKER_HOST=unix://$LAB_RUN/docker-web$i.sock"
  {
    echo "ListenAddress $(host_addr "$i"):22"
    echo "PidFile $dir/sshd.pid"
  } >> "$dir/sshd_config"
}

ssh_start_host() {
  local i=$1 dir
  dir=$(host_dir "$i")
  if pid_alive "$dir/sshd.pid" "$dir/sshd_config" >/dev/null; then
    log "web$i: sshd already running"
    return 0
  fi
  mkdir -p /run/sshd
  ip netns exec "$(host_ns "$i")" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" ||
    die "web$i: sshd did not start; see $dir/sshd.log"
}

# Wait until sshd of host I wrote its pid file (it does so once it listens).
ssh_wait_host() {
  local i=$1 dir
  dir=$(host_dir "$i")
  wait_for 10 pid_alive "$dir/sshd.pid" "$dir/sshd_config" ||
    die "web$i: sshd did not come up within 10 s; see $dir/sshd.log"
}

ssh_stop_host() {
  local i=$1 dir
  dir=$(host_dir "$i")
  kill_pidfile "$dir/sshd.pid" "$dir/sshd_config"
}

# known_hosts lines as OpenSSH writes them: "ADDR TYPE KEY".
ssh_known_line() {
  local addr=$1 pub=$2 type key
  read -r type key _ < "$pub"
  printf '%s %s %s\n' "$addr" "$type" "$key"
}

# known_hosts (ed25519 only), known_hosts.hashed (same, hashed) and known_hosts.all (ed25519 + ecdsa).
ssh_known_hosts() {
  local n=$1 i dir addr
  : > "$LAB/known_hosts.tmp"
  : > "$LAB/known_hosts.all.tmp"
  for ((i = 1; i <= n; i++)); do
    dir=$(host_dir "$i")
    addr=$(host_addr "$i")
    ssh_known_line "$addr" "$dir/ssh_host_ed25519_key.pub" >> "$LAB/known_hosts.tmp"
    ssh_known_line "$addr" "$dir/ssh_host_ed25519_key.pub" >> "$LAB/known_hosts.all.tmp"
    ssh_known_line "$addr" "$dir/ssh_host_ecdsa_key.pub" >> "$LAB/known_hosts.all.tmp"
  done
  mv -f "$LAB/known_hosts.tmp" "$LAB/known_hosts"
  mv -f "$LAB/known_hosts.all.tmp" "$LAB/known_hosts.all"
  cp "$LAB/known_hosts" "$LAB/known_hosts.hashed"
  ssh-keygen -q -H -f "$LAB/known_hosts.hashed" >/dev/null 2>&1
  rm -f "$LAB/known_hosts.hashed.old"
  chmod 0644 "$LAB/known_hosts" "$LAB/known_hosts.all" "$LAB/known_hosts.hashed"
}
