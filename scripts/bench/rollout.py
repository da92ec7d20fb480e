#!/usr/bin/env python3
"""fleet's own overhead in a rollout: `fleet deploy` of N light hosts whose host scripts do nothing but sleep.

Usage (as root; scripts/bench/run.sh --rollout ... raises the fd limit first):
    scripts/bench/run.sh --rollout --hosts 100 --repeat 3
    scripts/bench/run.sh --rollout --hosts 10,100 --repeat 1 --no-report

The host scripts are stubs with the real scripts' names (so fleet uploads as many files as in a real deploy):
pre-flight sleeps PULL seconds (the image pull), deploy sleeps SWAP seconds (the swap), every stub logs its own
start and end on the host. One batch of all hosts. Each round also runs `fleet exec -- true` on the same hosts:
the cost of opening N SSH sessions on this machine (the handshake floor), which a rollout pays once.

    overhead = deploy wall - exec wall - slowest host's own script time

Figures go to scripts/bench/results/rollout-*.jsonl and docs/benchmarks/rollout.md.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import lighthosts  # noqa: E402
import measure  # noqa: E402
from lighthosts import USER  # noqa: E402

STUB = """#!/usr/bin/env bash
# fleet rollout benchmark stub for {name}: sleeps {sleep} s, logs its own time on the host. Builtins only, apart
# from sleep, so that the stub costs the shared CPU next to nothing.
set -euo pipefail
start=$EPOCHREALTIME
{sleep_line}
echo "{name} $start $EPOCHREALTIME" >> "${{0%/bin/*}}/own.log"
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
    a = p.parse_args()
    a.sizes = sorted({int(x) for x in a.hosts.split(",") if x.strip()})
    if not os.access(a.fleet_binary, os.X_OK):
        p.error(f"no fleet binary at {a.fleet_binary} (build: swift build -c release --scratch-path .build-bench)")
    return a


def write_stubs(folder, pull, swap):
    folder.mkdir(parents=True, exist_ok=True)
    for real in sorted((REPO / "playbooks").glob("*.sh")):
        name = real.stem
        sleep = {"preflight": pull, "deploy": swap}.get(name, 0)
        answer = {"deploy": '{"ok":true,"version":"v2","previous":"v1","changed":true}'}.get(name, '{"ok":true}')
        path = folder / real.name
        path.write_text(STUB.format(name=name, sleep=sleep, json=answer,
                                    sleep_line=f"sleep {sleep}" if sleep else ": no work"))
        path.chmod(0o755)


def ensure_user(work):
    (work / "hosts").mkdir(parents=True, exist_ok=True)
    lighthosts.ensure_user()
    shutil.chown(work / "hosts", USER, USER)


def inventory(work, hosts_ctl, hosts, n):
    path = work / f"rollout-{n}.yml"
    lines = ["app: bench", "image: bench.invalid/none", "ssh:", f"  user: {USER}", "  port: 22",
             f"  identity_files: [{hosts_ctl.key}]", f"  known_hosts: {hosts_ctl.known_hosts}",
             "  host_key_policy: strict", "paths:", f"  root: {work}/hosts/{{host}}/opt",
             f"  state: {work}/hosts/{{host}}/state", "rollout: {batch: \"100%\"}", "verify: []", "hosts:"]
    lines += [f"  h{i + 1:03d}: {addr}" for i, (addr, _) in enumerate(hosts[:n])]
    path.write_text("\n".join(lines) + "\n")
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


def main():
    args = parse_args()
    work = Path(args.base) / "rollout"
    hosts_ctl = lighthosts.LightHosts(args.base)
    os.makedirs(args.base, exist_ok=True)
    playbooks = work / "playbooks"
    write_stubs(playbooks, args.pull, args.swap)
    ensure_user(work)
    env = dict(os.environ, FLEET_PLAYBOOKS=str(playbooks), NO_COLOR="1")
    env.pop("SSH_AUTH_SOCK", None)
    results = HERE / "results" / time.strftime("rollout-%Y%m%d-%H%M.jsonl")
    results.parent.mkdir(parents=True, exist_ok=True)
    print(f"bringing up {args.sizes[-1]} light hosts under {args.base} ...", flush=True)
    hosts = hosts_ctl.up(args.sizes[-1])
    records = []
    with results.open("a") as out:
        for n in args.sizes:
            inv = inventory(work, hosts_ctl, hosts, n)
            pids = [pid for _, pid in hosts[:n]]
            for rep in range(1, args.repeat + 1):
                order = ["exec", "deploy"] + (["before"] if args.before_binary else [])
                order = order[rep % len(order):] + order[:rep % len(order)]
                rec = {"type": "rollout", "hosts": n, "rep": rep, "pull_s": args.pull, "swap_s": args.swap}
                for kind in order:
                    time.sleep(1)
                    binary = args.before_binary if kind == "before" else args.fleet_binary
                    argv = ([binary, "exec", "--inventory", str(inv), "--json", "--", "true"] if kind == "exec"
                            else [binary, "deploy", "--inventory", str(inv), "--force", f"v{rep}"]
                            + ([] if kind == "before" else ["--progress", "plain"]))
                    r = measure.run_measured(argv, pids, env=env)
                    for key in ("exit", "wall_s", "cpu_s", "maxrss_mb", "server_cpu_s", "machine_busy_s"):
                        rec[f"{kind}_{key}"] = r[key]
                    if r["exit"] != 0:
                        rec[f"{kind}_stderr_tail"] = r["stderr"][-1500:]
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
                print(f"N={n:<4} rep={rep} deploy={rec['deploy_wall_s']:6.2f}s (exit {rec['deploy_exit']}) "
                      f"exec={rec['exec_wall_s']:6.2f}s slowest own={rec['slowest_own_s']:5.2f}s "
                      f"overhead={rec['overhead_s']:5.2f}s pulls overlap={rec['pulls_overlap']} "
                      f"cpu={rec['deploy_cpu_s']:5.2f}s", flush=True)
    print(f"results: {results}")
    if not args.keep_hosts:
        hosts_ctl.down()
    if not args.no_report:
        write_report(records, REPO / "docs" / "benchmarks" / "rollout.md", args)
    return 0 if all(r["deploy_exit"] == 0 and r["exec_exit"] == 0 and r.get("before_exit", 0) == 0 for r in records) else 1


def write_report(records, path, args):
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
{args.pull} s (the pull), deploy {args.swap} s (the swap); one batch of all hosts; `--force`. Each round also runs
`fleet exec -- true` on the same hosts, the cost of opening N sessions here (server CPU / cores dominates it).

overhead = deploy wall - exec wall - slowest host's own script time (median, with the range over the rounds).
Target (issue 5): at most 1 s at 100 hosts.{before_note}

| hosts | rounds | deploy wall | exec wall (sessions) | slowest host's own time | fleet overhead | pull starts spread | last pull end to first swap | fleet CPU per host | peak RSS |{before_head}
|---|---|---|---|---|---|---|---|---|---|{before_rule}
""" + "\n".join(rows) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
