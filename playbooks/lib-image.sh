# shellcheck shell=bash
# fleet host library: the image pull and its record. Pre-flight (preflight.sh --pull) is the one pull of
# a deploy: it records the pulled image's ID in STATE_DIR/pulled/<version>, and deploy.sh and hook.sh
# only check that the local image is still that one. With a REGISTRY in fleet.conf, pre-flight logs in
# first (preflight.sh --login) and pulls with that login. Sourced by lib.sh.

image_present() { docker image inspect "$1" >/dev/null 2>&1; }

# image_id REF: the ID of the local image REF (sha256:...), empty when there is none.
image_id() {
  local id
  id=$(docker image inspect --format '{{.Id}}' "$1" 2>/dev/null) || id=""
  [[ $id =~ ^sha256:[0-9a-f]{64}$ ]] && printf '%s' "$id"
  return 0
}

# image_digest REPO REF: REF's repo digest in REPO (REPO@sha256:...), empty when it has none (built or
# loaded locally, never pulled).
image_digest() {
  local d text
  local -a all=()
  text=$(docker image inspect --format '{{range .RepoDigests}}{{.}} {{end}}' "$2" 2>/dev/null) || text=""
  read -r -a all <<<"$text"
  for d in "${all[@]}"; do
    if [[ $d == "$1@sha256:"* && $d =~ ^[A-Za-z0-9@._:/+-]+$ ]]; then printf '%s' "$d"; return 0; fi
  done
}

pull_image() { # pull_image REF (exit 10 on failure)
  local out
  log "pulling $1"
  if ! out=$(registry_docker pull -q "$1" 2>&1); then
    res_str image "$1"
    die 10 "docker pull $1 failed: $(last_lines 3 "$out"); check the registry address, the tag and the host's registry login"
  fi
}

pulled_record() { printf '%s/pulled/%s' "$CFG_STATE_DIR" "$1"; }

# pull_and_record IMAGE VERSION: pull IMAGE:VERSION (exit 10), then record what was pulled in
# STATE_DIR/pulled/VERSION as KEY=VALUE lines (VERSION, IMAGE, ID, DIGEST, PULLED_AT), written whole
# to a temp file and renamed: a run interrupted before the rename leaves no record, never half a one.
pull_and_record() {
  local image=$1 version=$2 id digest dir
  pull_image "$image:$version"
  id=$(image_id "$image:$version")
  [[ -n $id ]] || die 10 "docker pull $image:$version succeeded but docker image inspect shows no image ID for it - check docker on this host"
  digest=$(image_digest "$image" "$image:$version")
  dir=$CFG_STATE_DIR/pulled
  [[ -d $dir ]] || mkdir -p -- "$dir" 2>/dev/null ||
    die 16 "cannot create $dir: run setup.sh on this host, or chown $CFG_STATE_DIR to $(id -un)"
  write_atomic "$(pulled_record "$version")" 0600 < <(printf 'VERSION=%s\nIMAGE=%s\nID=%s\nDIGEST=%s\nPULLED_AT=%s\n' \
    "$version" "$image" "$id" "$digest" "$(now_iso)")
  res_str image_id "$id"
  [[ -z $digest ]] || res_str digest "$digest"
  log "pulled $image:$version: $id${digest:+ ($digest)}"
}

# use_pulled_image IMAGE VERSION pull|if-missing: deploy.sh and hook.sh never pull what pre-flight
# pulled: IMAGE:VERSION must still be the image recorded in STATE_DIR/pulled/VERSION. A tag moved
# since (another pull, docker tag) or an image removed: exit 19, nothing changed. With no record
# (the script was run by hand, without preflight.sh --pull) it says so, then pulls and records
# ("pull") or pulls only when the image is missing ("if-missing").
use_pulled_image() {
  local image=$1 version=$2 mode=$3 rec want have
  rec=$(pulled_record "$version")
  if [[ ! -f $rec ]]; then
    log "no pre-flight pull of $image:$version is recorded on this host ($rec; preflight.sh --pull did not run)"
    if [[ $mode == pull ]] || ! image_present "$image:$version"; then
      pull_and_record "$image" "$version"
    fi
    return 0
  fi
  want=$(kv_get "$rec" ID)
  have=$(image_id "$image:$version")
  if [[ $(kv_get "$rec" IMAGE) != "$image" || ! $want =~ ^sha256:[0-9a-f]{64}$ ]]; then
    die 19 "the pre-flight record $rec is not for $image:$version (or unreadable); nothing changed - run the deploy again: pre-flight pulls it (by hand: preflight.sh --version $version --pull)"
  fi
  if [[ -z $have ]]; then
    die 19 "$image:$version, which pre-flight pulled ($want), is no longer on this host (removed since); nothing changed - run the deploy again: pre-flight pulls it (by hand: preflight.sh --version $version --pull)"
  fi
  if [[ $have != "$want" ]]; then
    die 19 "$image:$version on this host is now $have, not $want that pre-flight pulled (the tag was moved since, by another pull or docker tag); nothing changed - run the deploy again: pre-flight pulls it (by hand: preflight.sh --version $version --pull)"
  fi
  res_str image_id "$have"
  log "using $image:$version as pre-flight pulled it ($want); not pulling again"
}

# --- the registry login (fleet.conf REGISTRY, the inventory's registry:) -------------------------------
# The app's own docker config folder, STATE_DIR/docker (0700): pre-flight's login lands there, never in
# the user's ~/.docker, so the host's other users and its global login are untouched; the pull uses it.
registry_config() { printf '%s/docker' "$CFG_STATE_DIR"; }

# registry_docker ARG...: docker, with the app's config folder when fleet.conf names a REGISTRY.
registry_docker() {
  if [[ -n $CFG_REGISTRY ]]; then docker --config "$(registry_config)" "$@"; else docker "$@"; fi
}

# registry_login USER: docker login to REGISTRY as USER, the password read by docker from this script's
# standard input (--password-stdin: never on a command line, never in a variable here). Exit 22 when the
# registry refuses it or cannot be reached, 16 when docker or the folder is missing.
registry_login() {
  local user=$1 dir out
  [[ -n $CFG_REGISTRY ]] || die 2 "$CONFIG_FILE: --login needs REGISTRY in fleet.conf (the inventory's registry.server)"
  command -v docker >/dev/null 2>&1 || die 16 "docker is not installed (apt-get install -y docker.io)"
  dir=$(registry_config)
  { (umask 077 && mkdir -p -- "$dir") && chmod 0700 -- "$dir" && rm -f -- "$dir/config.json"; } ||
    die 16 "cannot create $dir (0700): run setup.sh on this host, or chown $CFG_STATE_DIR to $(id -un)"
  res_str registry "$CFG_REGISTRY"
  if ! out=$(docker --config "$dir" login --username "$user" --password-stdin "$CFG_REGISTRY" 2>&1); then
    rm -f -- "$dir/config.json"
    out=$(printf '%s' "$out" | grep -v -e '^WARNING' -e 'credential' | tail -n 2 | tr '\n' ' ')
    if [[ $out == *401* || $out == *nauthorized* || $out == *denied* || $out == *ncorrect* ]]; then
      die 22 "the registry $CFG_REGISTRY refused the login of $user (${out% }): fix registry.username or the password in fleet's environment (registry.password), then deploy again; nothing changed"
    fi
    die 22 "docker login to $CFG_REGISTRY as $user failed (${out% }): check that this host reaches the registry and trusts its certificate, then deploy again; nothing changed"
  fi
  log "logged in to $CFG_REGISTRY as $user (docker config folder $dir)"
}

# registry_logout: the login is kept only from pre-flight's login to its pull.
registry_logout() { [[ -z $CFG_REGISTRY ]] || rm -f -- "$(registry_config)/config.json"; }
