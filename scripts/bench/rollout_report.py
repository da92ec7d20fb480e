"""What a rollout benchmark run proves, and docs/benchmarks/rollout.md from its records (used by rollout.py).

- outcomes(): hosts per outcome of one `fleet deploy`, from the run's report in `.fleet/history/` or, when
  fleet wrote none (it crashed), from its `--progress plain` lines;
- error_lines(): the distinct error lines of a run's stderr, with how often each came (hosts differ only in
  numbers, so lines are grouped with their digits masked);
- write_main(): the overhead table at the top of the page (everything above the first `## ` heading); the
  sections below it are kept. rollout.py calls it only when every run succeeded;
- write_limit_section(): one row per run, appended to the section "## N hosts under a S soft limit" (made when
  missing), for `--nofile` runs, failed ones included: that section records before and after.
"""

import json
import os
import re
import signal
import statistics
import time
from pathlib import Path

OUTCOME = re.compile(r"^\d\d:\d\d:\d\d (\S+) (updated|skipped|failed|not_started|unreachable|rolled_back)\b")
RECAP = re.compile(r"^(failed: |unreachable \(\d+\)|not started \(\d+\))")
ERROR = re.compile(r"(?i)error|fatal|too many open files|illegal|abort|crash|signal|EMFILE|failed|unreachable")


def outcomes(stderr, history, since):
    """({outcome: hosts}, source) of one deploy; source is "report", "progress lines" or None."""
    reports = sorted((p for p in Path(history).glob("*/*.json") if p.stat().st_mtime >= since - 1),
                     key=lambda p: p.stat().st_mtime)
    for path in reversed(reports):
        try:
            rep = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if rep.get("command") == "deploy":
            counts = {}
            for h in rep.get("hosts", []):
                counts[h["outcome"]] = counts.get(h["outcome"], 0) + 1
            return counts, "report"
    last = {}
    for line in stderr.splitlines():
        m = OUTCOME.match(line)
        if m:
            last[m.group(1)] = m.group(2)
    if not last:
        return {}, None
    counts = {}
    for outcome in last.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts, "progress lines"


def exec_ok(stdout):
    """Hosts that answered `fleet exec --json` with exit status 0."""
    ok = 0
    for line in stdout.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and obj.get("exit_status") == 0 and not obj.get("error"):
            ok += 1
    return ok


def error_lines(stderr, limit=8):
    """[{"line": first such line, "count": n}] for the distinct error lines, most frequent first. Lines that
    differ only in numbers (hosts, addresses, times) or key fingerprints are one group."""
    groups = {}
    for line in stderr.splitlines():
        text = re.sub(r"^\d\d:\d\d:\d\d ", "", line.strip())
        # the recap at the end repeats the host lines: "failed: h1, h2 (connect)", then indented details
        if not text or not ERROR.search(text) or line[:1].isspace() or RECAP.match(text):
            continue
        key = re.sub(r"\d+", "#", re.sub(r"SHA256:\S+", "SHA256:", text))
        groups.setdefault(key, {"line": text[:300], "count": 0})["count"] += 1
    return sorted(groups.values(), key=lambda g: -g["count"])[:limit]


def exit_text(code):
    """0, 1, ... or "SIGILL (a shell shows 132)" for a tool killed by a signal."""
    if code is None or code >= 0:
        return f"{code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"killed by {name} (a shell shows {128 - code})"


def _split(path):
    """(the part above the first `## ` heading, the rest) of the page."""
    old = path.read_text() if path.exists() else ""
    if "\n## " in old:
        i = old.index("\n## ")
        return old[:i + 1], old[i + 1:]
    return old, ""


def write_main(records, path, args):
    rows = []
    for n in sorted({r["hosts"] for r in records}):
        rs = [r for r in records if r["hosts"] == n]

        def med(key):
            return statistics.median(r[key] for r in rs)
        rows.append(f"| {n} | {len(rs)} | {med('deploy_wall_s'):.2f} s | {med('exec_wall_s'):.2f} s | "
                    f"{med('slowest_own_s'):.2f} s | **{med('overhead_s'):.2f} s** "
                    f"({min(r['overhead_s'] for r in rs):.2f} to {max(r['overhead_s'] for r in rs):.2f}) | "
                    f"{med('pull_start_spread_s'):.2f} s, {'all' if all(r['pulls_overlap'] for r in rs) else 'not all'} "
                    f"at once | {med('pull_end_to_swap_start_s'):.2f} s | {1000 * med('deploy_cpu_s') / n:.1f} ms | "
                    f"{med('deploy_maxrss_mb'):.0f} MB |"
                    + (f" {med('before_wall_s'):.2f} s, overhead {med('before_overhead_s'):.2f} s |" if "before_wall_s" in rs[0] else ""))
    before_head = " before: deploy wall, overhead |" if args.before_binary else ""
    before_rule = "---|" if args.before_binary else ""
    before_note = f"\nBefore: {args.before_label},\nrun in the same rounds on the same hosts." if args.before_binary else ""
    text = f"""# Rollout overhead: a no-op deploy of light hosts

Generated by `scripts/bench/run.sh --rollout` on {time.strftime('%Y-%m-%d')} ({os.cpu_count()} cores; the hosts are
OpenSSH sshds on loopback addresses of this machine). Each host's scripts are stubs that only sleep: pre-flight
{args.pull} s (the pull), deploy {args.swap} s (the swap); one batch of all hosts. Each round also runs
`fleet exec -- true` on the same hosts, the cost of opening N sessions here (server CPU / cores dominates it).
fleet runs as the plain user `fleetbench`, with the open-file limit of the harness (soft {records[0].get('deploy_nofile_soft')}).

overhead = deploy wall - exec wall - slowest host's own script time (median, with the range over the rounds).
Target (issue 5): at most 1 s at 100 hosts.{before_note}

| hosts | rounds | deploy wall | exec wall (sessions) | slowest host's own time | fleet overhead | pull starts spread | last pull end to first swap | fleet CPU per host | peak RSS |{before_head}
|---|---|---|---|---|---|---|---|---|---|{before_rule}
""" + "\n".join(rows) + "\n"
    _, rest = _split(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + ("\n" + rest if rest else ""))
    print(f"wrote {path}")


LIMIT_HEAD = """| run | fleet | limits at start (soft / hard) | deploy exit | hosts updated / other | deploy wall | fleet's peak fds (soft limits seen) | exec: exit, hosts ok, wall | error lines (times seen) |
|---|---|---|---|---|---|---|---|---|"""


def _short(line, width=110):
    line = line.replace("|", "/").replace("`", "'")
    return line if len(line) <= width else line[:width - 3] + "..."


def limit_row(r, fleet):
    counts = r.get("deploy_outcomes") or {}
    updated = counts.get("updated", 0)
    other = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "updated") or "none"
    hosts = f"{updated} / {other}" + (" (progress lines)" if r.get("deploy_outcomes_from") == "progress lines" else "")
    if r.get("deploy_outcomes_from") is None:
        hosts = f"no report, no host line; {r.get('hosts_logged', 0)} hosts ran their swap"
    errors = "; ".join(f"`{_short(e['line'])}` ({e['count']})" for e in r.get("deploy_error_lines", [])[:3]) or "none"
    seen = ", ".join(str(s) for s in r.get("deploy_nofile_seen") or []) or "n/a"
    return (f"| {r['started']} | {fleet} | {r.get('deploy_nofile_soft')} / {r.get('deploy_nofile_hard')} | "
            f"{exit_text(r['deploy_exit'])} | {hosts} | {r['deploy_wall_s']:.2f} s | "
            f"{r.get('deploy_fds_peak')} ({seen}) | {exit_text(r['exec_exit'])}, {r.get('exec_hosts_ok')} of "
            f"{r['hosts']}, {r['exec_wall_s']:.2f} s | {errors} |")


def write_limit_section(records, path, args, fleet):
    head, rest = _split(path)
    head = head.rstrip("\n") + "\n\n"
    sections = [s for s in re.split(r"(?m)^(?=## )", rest) if s.strip()]
    for n in sorted({r["hosts"] for r in records}):
        title = f"## {n:,} hosts under a {args.nofile:,} soft limit"
        rows = "\n".join(limit_row(r, fleet) for r in records if r["hosts"] == n)
        for i, s in enumerate(sections):
            if s.splitlines()[0].strip() == title:
                sections[i] = s.rstrip("\n") + "\n" + rows + "\n"
                break
        else:
            sections.append(f"""{title}

`scripts/bench/run.sh --rollout --hosts {n} --repeat 1 --nofile {args.nofile}`: the rollout above, on {n} hosts, with
fleet started by the plain user `fleetbench` from `bash -c 'ulimit -S -n {args.nofile}; exec fleet ...'` (the hard
limit left as it is), as a user whose shell has a soft open-file limit of {args.nofile:,} would run it. It should
succeed on every host. One row per run, appended by the harness; hosts are counted from fleet's report in
`.fleet/history/` (or, when fleet wrote none, from its progress lines); fds sampled every 50 ms.

{LIMIT_HEAD}
{rows}
""")
    path.write_text(head + "\n".join(s.rstrip("\n") + "\n" for s in sections))
    print(f"wrote the soft-limit section of {path}")
