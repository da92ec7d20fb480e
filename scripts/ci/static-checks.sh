#!/usr/bin/env bash
# static-checks.sh: the project's static checks. Each prints one PASS or FAIL line (with its time); a failing
# check's output follows its FAIL line. Exit 0 when all pass, 1 when any fails.
#   usage: scripts/ci/static-checks.sh [--only NAME[,NAME...]] [--list]
#   checks: shellcheck actionlint markdown promtool runbook-urls doc-snippets nginx commit-lint file-length
# Needs (scripts/ci/debian-packages.txt, python-requirements.txt): shellcheck, nginx, openssl, curl, python3,
# prometheus (promtool), git; pymarkdownlnt and actionlint from PyPI. Runs offline; network only on 127.0.0.1.
# FLEET_COMMIT_RANGE (default HEAD) is the revision range that commit-lint checks.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
readonly ALL="shellcheck actionlint markdown promtool runbook-urls doc-snippets nginx commit-lint file-length"
readonly MAX_LINES=300

only="$ALL"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --only) only="${2:?--only needs a list of checks}"; only="${only//,/ }"; shift 2 ;;
        --list) echo "$ALL"; exit 0 ;;
        -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "static-checks: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for name in $only; do
    [[ " $ALL " == *" $name "* ]] || { echo "static-checks: unknown check '$name'; checks: $ALL" >&2; exit 2; }
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

failed=()
passed=0

need() { # need TOOL... : fail with a hint when a tool is missing
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "'$tool' is not installed: install scripts/ci/debian-packages.txt and python-requirements.txt"
            return 1
        fi
    done
}

now_ms() { local t="${EPOCHREALTIME/[.,]/}"; echo $((t / 1000)); }
seconds_since() { # seconds_since START_MS -> "1.2"
    local ms=$(($(now_ms) - $1))
    printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

run_check() { # run_check NAME FUNCTION: the function runs in a subshell with errexit on (not in an if)
    local name="$1" fn="$2" start rc log="$tmp/$1.log"
    [[ " $only " == *" $name "* ]] || return 0
    start="$(now_ms)"
    set +e
    (set -e; "$fn") >"$log" 2>&1
    rc=$?
    set -e
    if [[ $rc -eq 0 ]]; then
        printf 'PASS %-13s %5ss  %s\n' "$name" "$(seconds_since "$start")" "$(tail -n 1 "$log")"
        passed=$((passed + 1))
    else
        printf 'FAIL %-13s %5ss  (exit %d)\n' "$name" "$(seconds_since "$start")" "$rc"
        sed 's/^/    /' "$log" | head -n 60
        failed+=("$name")
    fi
}

check_shellcheck() {
    need shellcheck
    local files=()
    mapfile -t files < <(find playbooks scripts Tests -type f -name '*.sh' 2>/dev/null | sort)
    [[ -f .ci/run ]] && files+=(.ci/run)
    if [[ ${#files[@]} -eq 0 ]]; then echo "no shell scripts found"; return 0; fi
    # Scripts that source libraries are slow to check (the library is parsed again for each): in parallel.
    printf '%s\0' "${files[@]}" | xargs -0 -n 4 -P "$(nproc)" \
        shellcheck --severity=style --external-sources --source-path=SCRIPTDIR
    echo "${#files[@]} scripts clean"
}

check_actionlint() {
    need actionlint shellcheck
    local files=() work="$tmp/actionlint"
    mapfile -t files < <(find .github/workflows -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)
    actionlint "${files[@]}"
    # The example is checked as a workflow of its own (actionlint wants it under .github/workflows/).
    mkdir -p "$work/.github/workflows"
    cp docs/examples/deploy.yml "$work/.github/workflows/deploy.yml"
    (cd "$work" && actionlint .github/workflows/deploy.yml) 2>&1 | sed 's#^.github/workflows/deploy.yml#docs/examples/deploy.yml#'
    echo "$((${#files[@]} + 1)) workflows clean (incl. docs/examples/deploy.yml)"
}

check_markdown() {
    need pymarkdown
    local targets=(docs)
    [[ -f README.md ]] && targets+=(README.md)
    pymarkdown --strict-config --config scripts/ci/pymarkdown.json scan -r "${targets[@]}"
    echo "$(find "${targets[@]}" -name '*.md' | wc -l) Markdown files clean"
}

check_promtool() {
    need promtool
    promtool check config docs/monitoring/prometheus.yml
    promtool check rules docs/monitoring/alerts.yml
    (cd docs/monitoring && promtool test rules alerts_test.yml)
    local alert missing=0
    # Every alert must have unit tests.
    while IFS= read -r alert; do
        if ! grep -q "alertname: $alert\$" docs/monitoring/alerts_test.yml; then
            echo "docs/monitoring/alerts.yml: alert $alert has no test in alerts_test.yml"
            missing=1
        fi
    done < <(grep -E '^ *- alert: ' docs/monitoring/alerts.yml | awk '{print $3}')
    [[ $missing -eq 0 ]]
    echo "config, rules and rule unit tests pass"
}

check_runbook_urls() {
    local url file bad=0 count=0
    while IFS= read -r url; do
        count=$((count + 1))
        file="docs/runbooks/${url##*/docs/runbooks/}"
        if [[ "$url" != */docs/runbooks/*.md || ! -f "$file" ]]; then
            echo "docs/monitoring/alerts.yml: runbook_url $url names no file in docs/runbooks/"
            bad=1
        fi
    done < <(grep -E '^ *runbook_url: ' docs/monitoring/alerts.yml | awk '{print $2}')
    local alerts
    alerts="$(grep -cE '^ *- alert: ' docs/monitoring/alerts.yml)"
    if [[ "$count" -ne "$alerts" ]]; then
        echo "docs/monitoring/alerts.yml: $alerts alerts but $count runbook_url annotations"
        bad=1
    fi
    [[ $bad -eq 0 ]]
    echo "$count runbook links resolve"
}

check_doc_snippets() {
    need python3 shellcheck
    local files=()
    mapfile -t files < <(find docs/runbooks -name '*.md' | sort)
    python3 scripts/ci/doc-snippets.py "$tmp/snippets" "${files[@]}"
    local snippets=()
    mapfile -t snippets < <(find "$tmp/snippets" -name '*.sh' | sort)
    if [[ ${#snippets[@]} -gt 0 ]]; then
        shellcheck --shell=bash --severity=style "${snippets[@]}"
    fi
    echo "${#snippets[@]} runbook blocks pass shellcheck; fleet commands well-formed"
}

check_nginx() {
    need nginx openssl curl python3
    bash scripts/ci/nginx-template-check.sh
}

check_commit_lint() {
    need git
    bash scripts/ci/commit-lint.sh "${FLEET_COMMIT_RANGE:-HEAD}"
}

check_file_length() {
    local files=() file lines bad=0
    # Code (C too: scripts/lab/wanproxy.c, Sources/CFleetTLS) and the documentation, generated pages included.
    mapfile -t files < <({
        find Sources Tests playbooks scripts -type f \
            \( -name '*.swift' -o -name '*.sh' -o -name '*.py' -o -name '*.c' \)
        find docs -type f -name '*.md'
    } 2>/dev/null | sort)
    [[ -f README.md ]] && files+=(README.md)
    [[ -f .ci/run ]] && files+=(.ci/run)
    for file in "${files[@]}"; do
        lines="$(wc -l <"$file")"
        if [[ "$lines" -gt "$MAX_LINES" ]]; then
            echo "$file: $lines lines, over the limit of $MAX_LINES; split it along a real seam"
            bad=1
        fi
    done
    [[ $bad -eq 0 ]]
    echo "${#files[@]} files within $MAX_LINES lines"
}

total_start="$(now_ms)"
run_check shellcheck check_shellcheck
run_check actionlint check_actionlint
run_check markdown check_markdown
run_check promtool check_promtool
run_check runbook-urls check_runbook_urls
run_check doc-snippets check_doc_snippets
run_check nginx check_nginx
run_check commit-lint check_commit_lint
run_check file-length check_file_length
total="$(seconds_since "$total_start")"

if [[ ${#failed[@]} -gt 0 ]]; then
    printf 'static-checks: %d passed, %d failed (%s) in %ss\n' "$passed" "${#failed[@]}" "${failed[*]}" "$total"
    exit 1
fi
printf 'static-checks: %d passed, 0 failed in %ss\n' "$passed" "$total"
