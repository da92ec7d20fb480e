#!/usr/bin/env python3
"""fleet's own overhead in a rollout: `fleet deploy` of N light hosts whose host scripts do nothing but sleep.

Usage (as root; scripts/bench/run.sh --rollout ... raises the fd limit first):
    scripts/bench/run.sh --rollout --hosts 100 --repeat 3
    scripts/bench/run.sh --rollout --hosts 10,100 --repeat 1 --no-report
    scripts/bench/run.sh --rollout --hosts 600 --repeat 1 --nofile 1024 --keep-hosts

The host scripts are stubs with the real scripts' names (so fleet uploads as many files as in a real deploy):
pre-flight sleeps PULL seconds (the image pull), deploy sleeps SWAP seconds (the swap), every stub logs its own
start and end on the host. One batch of all hosts. Each round also runs `fleet exec -- true` on the same hosts:
the cost of opening N SSH sessions on this machine (the handshake floor), which a rollout pays once.

fleet runs as the plain user fleetbench (asuser.py), started from a bash that `exec`s it; --nofile N sets that
shell's soft open-file limit to N first (the hard limit stays). The limits fleet started with, the soft limits
seen on it while it ran, its peak descriptors and hosts per outcome go into every record.

    overhead = deploy wall - exec wall - slowest host's own script time

Figures go to scripts/bench/results/rollout-*.jsonl and docs/benchmarks/rollout.md: the table at the top only
when every run succeeded and no --nofile was given; with --nofile, one row per run (failed ones too) in the
section "N hosts under a S soft limit". The full output of a failed run is kept in BASE/rollout/logs/.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import lighthosts  # noqa: E402
import measure  # noqa: E402
import rollout_report as report  # noqa: E402
from asuser import PlainUser, read_limits  # noqa: E402
from lighthosts import USER  # noqa: E402

STUB = """#!/usr/bin/env bash
# fleet rollout benchmark stub for {name}: sleeps {sleep} s, logs its own time on the host. Builtins only, apart
# from sleep, so that the stub costs the shared CPU next to nothing.
set -euo pipefail
start=$EPOCHREALTIME
{sleep_line}
# ROOT/bin/NAME, or ROOT/.fleet-install.XXXXXX/0/NAME when run from the unpacked copy (the lock, status).
root=${{0%/bin/*}}
[[ $root != "$0" ]] || root=${{0%/.fleet-install.*}}
echo "{name} $start $EPOCHREALTIME" >> "$root/own.log"
echo '{json}'
"""

def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hosts", default="100", help="comma-separated host counts")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--pull", type=float, default=0.5, help="seconds each host's pre-flight (pull) sleeps")
    p.add_argument("--swap", type=float, default=1.0, help="seconds each host's deploy (swap) sleeps")
    p.add_argument("--fleet-binary", default=str(REPO / ".build-bench" / "release" / "fleet"))
    p.add_argument("--before-binary", help="an older fleet build to run in the same rounds (a before/after record)")
    p.add_argument("--before-label", default="an older build", help="what --before-binary is, for the report")
    p.add_argument("--base", default="/tmp/fleet-bench")
    p.add_argument("--keep-hosts", action="store_true")
    p.add_argument("--no-report", action="store_true", help="do not rewrite docs/benchmarks/rollout.md")
    p.add_argument("--nofile", type=int, help="soft open-file limit of the shell that starts fleet (hard limit kept)")
    a = p.parse_args()
    a.sizes = sorted({int(x) for x in a.hosts.split(",") if x.strip()})
    if not os.access(a.fleet_binary, os.X_OK):
        p.error(f"no fleet binary at {a.fleet_binary} (build: swift build -c release --scratch-path .build-bench)")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if a.nofile is not None and not 1 <= a.nofile <= (hard if hard != resource.RLIM_INFINITY else 2**31):
        p.error(f"--nofile: must be 1..{hard} (the hard limit, which a plain user cannot raise), got {a.nofile}")
    return a


def fleet_build(binary):
    """The binary's --version and what it was built from (the fleet.source file next to it, if any)."""
    try:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        version = "?"
    source = Path(binary).with_name("fleet.source")
    return {"version": version, "source": source.read_text().strip() if source.exists() else None,
            "mtime": time.strftime("%Y-%m-%d %H:%M", time.localtime(os.stat(binary).st_mtime))}


def write_stubs(folder, pull, swap):
    folder.mkdir(parents=True, exist_ok=True)
    for real in sorted((REPO / "playbooks").glob("*.sh")):
        name = real.stem
        sleep = {"preflight": pull, "deploy": swap}.get(name, 0)
        answer = {"deploy": '{"ok":true,"version":"v2","previous":"v1","changed":true}',
                  "status": '{"ok":true,"current":{"version":"v1","image":"bench"},"slot":"blue",'
                            '"health":"healthy","nginx":{"status":200},"consistent":true}'}.get(name, '{"ok":true}')
        path = folder / real.name
        path.write_text(STUB.format(name=name, sleep=sleep, json=answer,
                                    sleep_line=f"sleep {sleep}" if sleep else ": no work"))
        path.chmod(0o755)


def ensure_user(work):
    """The folders the user writes: hosts/ (the stubs, through SSH) and user/ (fleet itself)."""
    (work / "hosts").mkdir(parents=True, exist_ok=True)
    user = PlainUser(work / "user")
    user.own(work / "hosts")
    return user


def inventory(work, user, key, hosts_ctl, hosts, n):
    path = user.folder / f"rollout-{n}.yml"
    lines = ["app: bench", "image: bench.invalid/none", "ssh:", f"  user: {USER}", "  port: 22",
             f"  identity_files: [{key}]", f"  known_hosts: {hosts_ctl.known_hosts}",
             "  host_key_policy: strict", "paths:", f"  root: {work}/hosts/{{host}}/opt",
             f"  state: {work}/hosts/{{host}}/state", "rollout: {batch: \"100%\"}", "verify: []", "hosts:"]
    lines += [f"  h{i + 1:03d}: {addr}" for i, (addr, _) in enumerate(hosts[:n])]
    user.write(path, "\n".join(lines) + "\n")
    return path


def own_times(work, n):
    """Per host: {script: (start_s, end_s)} from the stubs' logs (cleared after reading)."""
    hosts = {}
    for i in range(1, n + 1):
        log = work / "hosts" / f"h{i:03d}" / "opt" / "own.log"
        spans = {}
        if log.exists():
            for line in log.read_text().splitlines():
                name, start, end = line.split()
                spans.setdefault(name, []).append((float(start), float(end)))
            log.unlink()
        hosts[f"h{i:03d}"] = spans
    return hosts


def analyse(spans):
    own = {h: sum(e - s for runs in by.values() for s, e in runs) for h, by in spans.items()}
    pulls = [runs[0] for by in spans.values() for name, runs in by.items() if name == "preflight"]
    swaps = [runs[0] for by in spans.values() for name, runs in by.items() if name == "deploy"]
    return {
        "slowest_own_s": round(max(own.values(), default=0), 3),
        "pull_start_spread_s": round(max(s for s, _ in pulls) - min(s for s, _ in pulls), 3) if pulls else None,
        "pulls_overlap": bool(pulls) and max(s for s, _ in pulls) < min(e for _, e in pulls),
        "swap_start_spread_s": round(max(s for s, _ in swaps) - min(s for s, _ in swaps), 3) if swaps else None,
        "pull_end_to_swap_start_s": round(min(s for s, _ in swaps) - max(e for _, e in pulls), 3)
        if pulls and swaps else None,
        "hosts_logged": sum(1 for by in spans.values() if "deploy" in by),
    }


def run_fleet(kind, binary, argv, user, env, pids, args, work, tag):
    """One fleet run as the plain user; the measurements, prefixed with kind."""
    limits = user.folder / f"limits-{kind}"
    t0 = time.time()
    r = measure.run_measured(user.wrap([binary] + argv, args.nofile, limits), pids, env=env, cwd=user.folder,
                             popen=user.popen(), watch_fds=binary)
    rec = {f"{kind}_{key}": r[key] for key in ("exit", "wall_s", "cpu_s", "maxrss_mb", "server_cpu_s",
                                                  "machine_busy_s", "fds_peak", "nofile_seen")}
    rec[f"{kind}_nofile_soft"], rec[f"{kind}_nofile_hard"] = read_limits(limits)
    if kind == "exec":
        rec["exec_hosts_ok"] = report.exec_ok(r["stdout"])
    else:
        rec[f"{kind}_outcomes"], rec[f"{kind}_outcomes_from"] = report.outcomes(
            r["stderr"], user.folder / ".fleet" / "history", t0)
    rec[f"{kind}_error_lines"] = report.error_lines(r["stderr"])
    if r["exit"] != 0:
        rec[f"{kind}_stderr_tail"] = r["stderr"][-1500:]
        logs = work / "logs"
        logs.mkdir(exist_ok=True)
        for stream in ("stdout", "stderr"):
            (logs / f"{tag}-{kind}.{stream}").write_text(r[stream])
        rec[f"{kind}_log"] = str(logs / f"{tag}-{kind}.stderr")
    return rec


def main():
    args = parse_args()
    work = Path(args.base) / "rollout"
    hosts_ctl = lighthosts.LightHosts(args.base)
    os.makedirs(args.base, exist_ok=True)
    playbooks = work / "playbooks"
    write_stubs(playbooks, args.pull, args.swap)
    user = ensure_user(work)
    env = user.env({"FLEET_PLAYBOOKS": str(playbooks), "NO_COLOR": "1"})
    results = HERE / "results" / time.strftime("rollout-%Y%m%d-%H%M.jsonl")
    results.parent.mkdir(parents=True, exist_ok=True)
    build = fleet_build(args.fleet_binary)
    print(f"bringing up {args.sizes[-1]} light hosts under {args.base} ...", flush=True)
    hosts = hosts_ctl.up(args.sizes[-1])
    key = user.prepare(hosts_ctl.key)
    records = []
    with results.open("a") as out:
        for n in args.sizes:
            inv = inventory(work, user, key, hosts_ctl, hosts, n)
            pids = [pid for _, pid in hosts[:n]]
            for rep in range(1, args.repeat + 1):
                order = ["exec", "deploy"] + (["before"] if args.before_binary else [])
                order = order[rep % len(order):] + order[:rep % len(order)]
                rec = {"type": "rollout", "hosts": n, "rep": rep, "pull_s": args.pull, "swap_s": args.swap,
                       "started": time.strftime("%Y-%m-%d %H:%M"), "user": USER, "nofile": args.nofile,
                       "fleet": build, "harness_nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE))}
                for kind in order:
                    time.sleep(1)
                    binary = args.before_binary if kind == "before" else args.fleet_binary
                    argv = (["exec", "--inventory", str(inv), "--json", "--", "true"] if kind == "exec"
                            else ["deploy", "--inventory", str(inv), f"v{rep}"]
                            + ([] if kind == "before" else ["--progress", "plain"]))
                    rec.update(run_fleet(kind, binary, argv, user, env, pids, args, work,
                                         time.strftime(f"%Y%m%d-%H%M%S-n{n}-r{rep}")))
                    if kind == "deploy":
                        rec.update(analyse(own_times(work, n)))
                    elif kind == "before":
                        rec["before_slowest_own_s"] = analyse(own_times(work, n))["slowest_own_s"]
                rec["overhead_s"] = round(rec["deploy_wall_s"] - rec["exec_wall_s"] - rec["slowest_own_s"], 3)
                if args.before_binary:
                    rec["before_overhead_s"] = round(rec["before_wall_s"] - rec["exec_wall_s"] - rec["before_slowest_own_s"], 3)
                out.write(json.dumps(rec) + "\n")
                out.flush()
                records.append(rec)
                print(f"N={n:<4} rep={rep} deploy={rec['deploy_wall_s']:6.2f}s (exit {report.exit_text(rec['deploy_exit'])}, "
                      f"hosts {rec['deploy_outcomes'] or 'none reported'}) exec={rec['exec_wall_s']:6.2f}s "
                      f"(exit {rec['exec_exit']}, {rec['exec_hosts_ok']} ok) slowest own={rec['slowest_own_s']:5.2f}s "
                      f"overhead={rec['overhead_s']:5.2f}s cpu={rec['deploy_cpu_s']:5.2f}s "
                      f"nofile at start {rec['deploy_nofile_soft']}/{rec['deploy_nofile_hard']} "
                      f"fds peak {rec['deploy_fds_peak']}", flush=True)
                for e in rec["deploy_error_lines"]:
                    print(f"    deploy stderr ({e['count']}x): {e['line']}", flush=True)
    print(f"results: {results}")
    if not args.keep_hosts:
        hosts_ctl.down()
    failed = [r for r in records if not (r["deploy_exit"] == 0 and r["exec_exit"] == 0 and r.get("before_exit", 0) == 0)]
    page = REPO / "docs" / "benchmarks" / "rollout.md"
    if args.no_report:
        pass
    elif args.nofile is not None:
        report.write_limit_section(records, page, args, f"{build['version']}, {build['source'] or 'built ' + build['mtime']}")
    elif failed:
        print(f"not rewriting {page}: {len(failed)} of {len(records)} rounds failed (see {results})")
    else:
        report.write_main(records, page, args)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
