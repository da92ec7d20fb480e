#!/usr/bin/env python3
"""fleet's exec benchmark against parallel-ssh, Ansible and pyinfra on light hosts.

Usage (from anywhere; scripts/bench/run.sh raises the fd limit first):
    scripts/bench/run.sh --hosts 10,50,100,250,500 --repeat 3
    scripts/bench/run.sh --hosts 10,50 --repeat 1 --tools pssh,pyinfra --no-report
    scripts/bench/run.sh --down          # stop the light sshds and exit

Each run is recorded as one JSON line in the results file; the report (table in
docs/benchmarks.md, plot docs/benchmarks/exec.png) is written from that file.
"""

import argparse
import fcntl
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import lighthosts  # noqa: E402
import measure  # noqa: E402
import report  # noqa: E402
import tools  # noqa: E402

ALL_TOOLS = "fleet,pssh,pssh-curve,ansible,pyinfra"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hosts", default="10,50,100,250,500", help="comma-separated host counts")
    p.add_argument("--repeat", type=int, default=3, help="runs of each tool at each host count")
    p.add_argument("--start-rep", type=int, default=1,
                   help="number of the first repetition (continues the rotation of an interrupted run)")
    p.add_argument("--tools", default=ALL_TOOLS, help=f"comma-separated subset of {ALL_TOOLS}")
    p.add_argument("--uname", default="fleet", help="tools that also run `uname -a` (comma list, or none)")
    p.add_argument("--fleet-binary", default=str(REPO / ".build-bench" / "release" / "fleet"))
    p.add_argument("--fleet-args", default="", help="extra fleet exec options for an experiment, "
                   "e.g. '--parallel 32' (recorded with each run; keep such runs out of the main table)")
    p.add_argument("--base", default="/tmp/fleet-bench", help="working folder for hosts and inventories")
    p.add_argument("--results", help="JSON lines file (default scripts/bench/results/exec-<time>.jsonl)")
    p.add_argument("--pause", type=float, default=1.0, help="seconds between runs")
    p.add_argument("--keep-hosts", action="store_true", help="leave the light sshds running at the end")
    p.add_argument("--no-report", action="store_true", help="do not rewrite docs/benchmarks.md and the plot")
    p.add_argument("--down", action="store_true", help="stop the light sshds of --base and exit")
    a = p.parse_args()
    try:
        a.sizes = sorted({int(x) for x in a.hosts.split(",") if x.strip()})
    except ValueError:
        p.error(f"--hosts: expected numbers like 10,50,100, got {a.hosts!r}")
    if not a.sizes or a.sizes[0] < 1 or a.sizes[-1] > 1000:
        p.error(f"--hosts: counts must be between 1 and 1000, got {a.hosts!r}")
    if a.repeat < 1:
        p.error(f"--repeat: must be at least 1, got {a.repeat}")
    a.tool_list = [t.strip() for t in a.tools.split(",") if t.strip()]
    a.uname_list = [] if a.uname in ("", "none") else [t.strip() for t in a.uname.split(",")]
    return a


def version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        text = (out.stdout + out.stderr).strip().splitlines()
        return text[0] if text else ""
    except (OSError, subprocess.SubprocessError):
        return "not installed"


def meta(args):
    return {
        "type": "meta", "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cores": os.cpu_count(), "kernel": platform.release(),
        "loadavg": os.getloadavg(), "fd_limit": __import__("resource").getrlimit(
            __import__("resource").RLIMIT_NOFILE),
        "versions": {
            "openssh": version(["ssh", "-V"]), "pssh": version(["parallel-ssh", "--version"]),
            "ansible": version(["ansible", "--version"]), "pyinfra": version(["pyinfra", "--version"]),
            "fleet": version([args.fleet_binary, "--version"]),
        },
        "args": {"hosts": args.sizes, "repeat": args.repeat, "tools": args.tool_list,
                 "uname": args.uname_list, "fleet_args": args.fleet_args},
    }


def plan_runs(tool_objs, uname_list):
    """(tool, command) pairs of one round; rotated every repetition."""
    runs = []
    for t in tool_objs:
        runs.append((t, ["true"]))
        if t.name in uname_list:
            runs.append((t, ["uname", "-a"]))
    return runs


def main():
    args = parse_args()
    hosts_ctl = lighthosts.LightHosts(args.base)
    os.makedirs(args.base, exist_ok=True)
    lock = open(os.path.join(args.base, ".lock"), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"run.py: another benchmark is using {args.base}; wait for it or pass another --base")
    if args.down:
        print(f"stopped {hosts_ctl.down()} light sshd(s) under {args.base}")
        return 0
    results = Path(args.results) if args.results else \
        HERE / "results" / time.strftime("exec-%Y%m%d-%H%M.jsonl")
    results.parent.mkdir(parents=True, exist_ok=True)

    print(f"bringing up {args.sizes[-1]} light hosts under {args.base} ...", flush=True)
    hosts = hosts_ctl.up(args.sizes[-1])
    tool_objs = []
    for t in tools.make_tools(args.base, hosts, args.fleet_binary, args.tool_list,
                                args.fleet_args.split()):
        ok, why = t.available()
        if ok:
            tool_objs.append(t)
        else:
            print(f"skipping {t.name}: {why}", flush=True)
    runs = plan_runs(tool_objs, args.uname_list)
    failures = 0
    with results.open("a") as out:
        out.write(json.dumps(meta(args)) + "\n")
        for n in args.sizes:
            pids = [pid for _, pid in hosts[:n]]
            for rep in range(args.start_rep - 1, args.start_rep - 1 + args.repeat):
                k = rep % max(1, len(runs))
                for tool, command in runs[k:] + runs[:k]:
                    time.sleep(args.pause)
                    load = os.getloadavg()[0]
                    r = measure.run_measured(tool.argv(n, command), pids, env=tool.env())
                    ok_hosts = tool.count_ok(r, n)
                    rec = {"type": "run", "tool": tool.name, "label": tool.label,
                           "command": " ".join(command), "hosts": n, "rep": rep + 1,
                           "ok_hosts": ok_hosts, "correct": r["exit"] == 0 and ok_hosts == n,
                           "load1_before": round(load, 2)}
                    if tool.name == "fleet":
                        rec["host_ms_min_med_p90_max"] = tool.durations(r)
                        if args.fleet_args:
                            rec["fleet_args"] = args.fleet_args
                    rec.update({k2: v for k2, v in r.items() if k2 not in ("stdout", "stderr")})
                    if not rec["correct"]:
                        failures += 1
                        rec["stderr_tail"] = r["stderr"][-2000:]
                        rec["stdout_tail"] = r["stdout"][-1000:]
                    out.write(json.dumps(rec) + "\n")
                    out.flush()
                    print(f"N={n:<4} rep={rep + 1} {tool.name:<10} {rec['command']:<9} "
                          f"wall={r['wall_s']:7.2f}s cpu={r['cpu_s']:6.2f}s "
                          f"server={r['server_cpu_s']:6.2f}s busy={r['machine_busy_s']:6.2f}s rss={r['maxrss_mb']:6.1f}MB "
                          f"tree={r['tree_rss_mb']:7.1f}MB ok={ok_hosts}/{n}"
                          + ("" if rec["correct"] else f"  FAILED (exit {r['exit']})"), flush=True)
    print(f"results: {results}")
    if not args.keep_hosts:
        hosts_ctl.down()
    if not args.no_report:
        report.write_all([results], REPO)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
