#!/usr/bin/env bash
# commit-lint.sh: check that commit subjects follow the conventional-commit form.
#   usage: scripts/ci/commit-lint.sh [REVISION-RANGE]     (default: every commit reachable from HEAD)
#   e.g.   scripts/ci/commit-lint.sh origin/main..HEAD
# Form: type(scope)?!?: subject, with type one of the list below. Merge commits are skipped, and so are
# git's own revert subjects ('Revert "feat: x"'). Exit 0 when all pass, 1 when one fails, 2 on usage errors.
set -euo pipefail

readonly TYPES='feat|fix|test|docs|perf|refactor|ci|chore|build|style|revert'
readonly PATTERN="^(${TYPES})(\([A-Za-z0-9._/,-]+\))?!?: [^ ].*$"

usage() {
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
}

range="HEAD"
case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    "") ;;
    -*) echo "commit-lint: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *) range="$1" ;;
esac
if [[ $# -gt 1 ]]; then
    echo "commit-lint: expected at most one revision range, got $#" >&2
    exit 2
fi

if ! git rev-parse --git-dir >/dev/null 2>&1; then
    echo "commit-lint: $(pwd) is not inside a git repository" >&2
    exit 2
fi
if ! commits="$(git rev-list --no-merges "$range" 2>/dev/null)"; then
    echo "commit-lint: '$range' is not a revision range git knows (try HEAD or origin/main..HEAD)" >&2
    exit 2
fi

checked=0
bad=0
while IFS= read -r sha; do
    [[ -n "$sha" ]] || continue
    subject="$(git log -1 --format=%s "$sha")"
    checked=$((checked + 1))
    if [[ "$subject" =~ $PATTERN ]] || [[ "$subject" =~ ^Revert\ \".+\"$ ]]; then
        continue
    fi
    bad=$((bad + 1))
    printf 'commit-lint: %s "%s" is not a conventional commit\n' "${sha:0:10}" "$subject" >&2
done <<<"$commits"

if [[ $bad -gt 0 ]]; then
    printf 'commit-lint: %d of %d commits fail; write subjects as "type(scope): subject" with type one of %s\n' \
        "$bad" "$checked" "${TYPES//|/, }" >&2
    printf 'commit-lint: fix unpushed ones with "git rebase -i" (reword); never rewrite published history\n' >&2
    exit 1
fi
echo "commit-lint: $checked commits OK"
