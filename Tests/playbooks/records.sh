# shellcheck shell=bash
# The host-script test cases of the arguments and the records the scripts keep on a host: the version,
# checked once. Sourced by run.sh after lib.sh; run over real SSH like suite.sh.

lock_gone() { as_user "test ! -e $HOST_DIR/state/fleet.lock"; }

# t_version_once: a bad version is refused by every script that takes one, with one message, before
# anything else; the check lives in one place.
t_version_once() {
  local s script bad=bad/tag want
  want="2/1/version '$bad': expected letters, digits, . _ - (a docker tag)"
  for s in "deploy.sh --version $bad --env-file /nonexistent" "rollback.sh --to $bad" "preflight.sh --version $bad --pull" \
    "hook.sh --version $bad --env-file /nonexistent -- true" \
    "lock.sh acquire --run-id run-v --who a@b --pid 1 --command deploy --version $bad"; do
    script=${s%% *}
    run_script "version-${script%.sh}" "$script" "${s#* }"
    check "$script: a bad version exits 2 with one message" \
      eq "$RC/$(grep -c "version '$bad'" "$HOST_OUT/version-${script%.sh}.err")/$(jget .error)" "$want"
  done
  check "lock.sh with a bad version takes no lock" lock_gone
  run_script version-missing preflight.sh --pull
  check "preflight without --version exits 2" eq "$RC/$(jget .error)" "2/missing --version"
  check "the version is checked in one place (check_arg, lib.sh)" \
    eq "$(grep -l 'a docker tag)' "$REPO"/playbooks/*.sh | xargs -n 1 basename | tr '\n' ' ')" "lib.sh "
}
