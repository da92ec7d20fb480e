#!/usr/bin/env bash
# fleet preflight: check, without changing anything, that this host can take a deploy: docker
# access, nginx rights, fleet's folders and upstream file, disk space, curl. --pull also pulls.
# --login USER only logs in to fleet.conf's REGISTRY (the password on stdin) into STATE_DIR/docker, for
# the --pull that follows; that pull removes the login again, however it ends.
# usage: preflight.sh --config FILE --version V [--pull | --login USER]
set -euo pipefail
SCRIPT_NAME=preflight
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
install_traps

CONFIG="" VERSION="" PULL=0 LOGIN=""
# on_cleanup: a deploy's registry login lasts until its pull, however pre-flight ends.
# shellcheck disable=SC2317 # called by lib.sh's EXIT trap
on_cleanup() { if ((PULL)); then registry_logout; fi; }
parse_args "--config=CONFIG --version=VERSION! --pull:PULL --login=LOGIN" "preflight.sh --config FILE --version V [--pull | --login USER]" "$@"
res_str version "$VERSION"
if [[ -n $LOGIN ]]; then
  ((PULL == 0)) || die 2 "give --login or --pull, not both (the login step comes before the pull)"
  registry_login "$LOGIN"
  exit 0
fi
ME=$(id -un)
PROBLEMS=()
miss() { PROBLEMS+=("$*"); log "missing: $*"; }

# need_space DIR MIB INODES WHAT HINT: exit 17 when DIR's file system has less free (inodes only when it
# counts them). The JSON has the free MiB of docker's folder (free_mib) and of the state folder (state_free_mib).
need_space() {
  local dir=$1 mib=$2 inodes=$3 what=$4 hint=$5 kb free_inodes total_inodes
  kb=$(df -Pk -- "$dir" 2>/dev/null | awk 'NR==2 {print $4}') || kb=""
  [[ $kb =~ ^[0-9]+$ ]] || return 0
  if [[ $dir == "$CFG_STATE_DIR" ]]; then res_num state_free_mib $((kb / 1024)); elif [[ $what == *docker* ]]; then res_num free_mib $((kb / 1024)); fi
  ((kb >= mib * 1024)) ||
    die 17 "only $((kb / 1024)) MiB free in $dir ($what); at least $mib MiB are needed: $hint"
  ((inodes > 0)) || return 0
  read -r total_inodes free_inodes < <(df -Pi -- "$dir" 2>/dev/null | awk 'NR==2 {print $2, $4}') || return 0
  [[ $total_inodes =~ ^[1-9][0-9]*$ && $free_inodes =~ ^[0-9]+$ ]] || return 0
  ((free_inodes >= inodes)) || die 17 "only $free_inodes inodes free in $dir ($what); at least $inodes are needed: $hint"
}

for t in curl:curl flock:util-linux docker:docker.io; do
  command -v "${t%%:*}" >/dev/null 2>&1 || miss "${t%%:*} is not installed (apt-get install -y ${t#*:})"
done

if command -v docker >/dev/null 2>&1; then
  if ! out=$(docker version -f '{{.Server.Version}}' 2>&1); then
    if ((EUID != 0)) && ! id -Gn | grep -qw docker; then
      miss "user $ME cannot use docker ($(printf '%s' "$out" | tail -n 1)): add it to the docker group (usermod -aG docker $ME) and log in again"
    else
      miss "the docker daemon does not answer at ${DOCKER_HOST:-unix:///var/run/docker.sock} ($(printf '%s' "$out" | tail -n 1)): start it (systemctl start docker) or fix DOCKER_HOST"
    fi
  fi
fi

# A host that runs no web process (processes: in the inventory) needs no nginx.
if [[ -z $CFG_WEB_PROCESS ]]; then
  :
elif ! find_nginx; then
  miss "nginx is not installed (apt-get install -y nginx)"
elif ! nginx_run -t; then
  if ((EUID != 0)) && [[ $NGINX_OUT == *"sudo"* ]]; then
    miss "user $ME may not run '$(nginx_cmdline -t)' through sudo -n: add to /etc/sudoers.d/fleet-$CFG_APP: '$ME ALL=(root) NOPASSWD: $(nginx_cmdline -t), $(nginx_cmdline -s reload)'"
  else
    miss "nginx -t fails now, before any change: $(last_lines 2 "$NGINX_OUT"); fix the nginx configuration first"
  fi
fi
# nginx -t passes when nginx is not running: it must also answer where fleet checks health through it.
if [[ -n $NGINX_BIN ]] && ! nginx_answers; then
  miss "nginx does not answer at $CFG_NGINX_URL (no HTTP answer: it is not running, or listens elsewhere): start it (systemctl start nginx), or set nginx.url in the inventory to where it listens"
fi
if ((EUID != 0)) && [[ -n $NGINX_BIN ]]; then
  read -r -a reload_cmd <<<"$(nginx_cmdline -s reload)"
  sudo -n -l "${reload_cmd[@]}" >/dev/null 2>&1 ||
    miss "user $ME may not run '$(nginx_cmdline -s reload)' through sudo -n: add it to /etc/sudoers.d/fleet-$CFG_APP (NOPASSWD)"
fi

for d in "$CFG_ROOT_DIR" "$CFG_ROOT_DIR/incoming" "$CFG_STATE_DIR"; do
  if [[ ! -d $d ]]; then
    miss "folder $d does not exist: run setup.sh, or create it owned by $ME"
  elif [[ ! -w $d ]]; then
    miss "folder $d is not writable by $ME: chown $ME $d"
  fi
done
if [[ -z $CFG_WEB_PROCESS ]]; then
  :
elif [[ -e $CFG_UPSTREAM_FILE ]]; then
  [[ -w $CFG_UPSTREAM_FILE ]] || miss "upstream file $CFG_UPSTREAM_FILE is not writable by $ME: chown $ME $CFG_UPSTREAM_FILE"
  [[ -w $(dirname -- "$CFG_UPSTREAM_FILE") ]] ||
    log "note: $(dirname -- "$CFG_UPSTREAM_FILE") is not writable by $ME: the upstream file is rewritten in place, not renamed"
elif [[ ! -w $(dirname -- "$CFG_UPSTREAM_FILE") ]]; then
  miss "upstream file $CFG_UPSTREAM_FILE does not exist and $(dirname -- "$CFG_UPSTREAM_FILE") is not writable by $ME: run setup.sh"
fi

if ((${#PROBLEMS[@]})); then
  out=""
  for p in "${PROBLEMS[@]}"; do out+="${out:+,}$(json_str "$p")"; done
  res_raw missing "[$out]"
  die 16 "${#PROBLEMS[@]} problem(s): ${PROBLEMS[0]}"
fi

# Disk space: where docker keeps its images (1 GiB), and fleet's own folders (32 MiB and 1000 inodes
# each): the state folder takes the records, env copies and history; a full one after the switch is
# what a deploy cannot undo cleanly.
droot=$(docker info -f '{{.DockerRootDir}}' 2>/dev/null) || droot=/var/lib/docker
[[ -d $droot ]] || droot=/var/lib
need_space "$droot" 1024 0 "docker's images" "prune unused images (docker image prune -a) or grow the disk"
need_space "$CFG_STATE_DIR" 32 1000 "fleet's state folder" "free space there (df -h $CFG_STATE_DIR)"
need_space "$CFG_ROOT_DIR" 32 1000 "fleet's scripts and uploads" "free space there (df -h $CFG_ROOT_DIR)"

# The one pull of a deploy: its image ID is recorded for deploy.sh and hook.sh, which check it.
if ((PULL)); then
  pull_and_record "$CFG_IMAGE" "$VERSION"
  res_raw pulled true
fi
log "ok: $ME can deploy $CFG_APP $VERSION here"
exit 0
