#!/usr/bin/env python3
"""The WAN benchmark: one command on N hosts behind a round-trip delay, fleet against its peers.

Usage (scripts/bench/run.sh --wan raises the fd limit first):
    scripts/bench/run.sh --wan --hosts 50,200,500 --rtt 0,50,150 --repeat 1
    scripts/bench/run.sh --wan --hosts 50 --rtt 150 --tools fleet --no-report   # a quick look

The benchmark's own light hosts (lighthosts.py, 127.0.101.x ...) stay as they are; for each delay one
wanproxy process (scripts/lab/wanproxy.c, built here with cc) listens on every host's address at port
20000 + RTT_MS and forwards to its sshd on port 22, holding every chunk RTT/2 in each direction (and the
connection 1.5 RTT, the TCP handshake loopback skips). 0 ms goes through the proxy too, so every delay pays the
same proxy cost. Every tool gets the same known_hosts ([addr]:port lines), user, key and all hosts in flight.
The delay is checked (connect to the server's first byte) and recorded; each proxy also records, per
connection, the round trips the client waited for ("turns").
"""

import argparse
import fcntl
import json
import os
import statistics
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))

import lighthosts  # noqa: E402
import measure  # noqa: E402
import tools  # noqa: E402
from run import meta, version  # noqa: E402,F401

WAN_TOOLS = "fleet,fleet-all,pssh-curve,pyinfra,ansible"
PORT_BASE = 20000


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--wan", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--hosts", default="50,200,500")
    p.add_argument("--rtt", default="0,50,150", help="round trips in ms, comma-separated")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--tools", default=WAN_TOOLS)
    p.add_argument("--timeout", type=float, default=180, help="seconds a run may take before it is killed")
    p.add_argument("--fleet-binary", default=str(REPO / ".build-bench" / "release" / "fleet"))
    p.add_argument("--fleet-args", default="")
    p.add_argument("--base", default="/tmp/fleet-bench")
    p.add_argument("--results")
    p.add_argument("--pause", type=float, default=1.0)
    p.add_argument("--no-report", action="store_true")
    a = p.parse_args()
    a.sizes = sorted({int(x) for x in a.hosts.split(",") if x.strip()})
    a.rtts = sorted({int(x) for x in a.rtt.split(",") if x.strip()})
    if not a.sizes or a.sizes[0] < 1 or a.sizes[-1] > 1000 or any(r < 0 or r > 2000 for r in a.rtts):
        p.error("--hosts: 1..1000 each; --rtt: 0..2000 ms each")
    a.tool_list = [t.strip() for t in a.tools.split(",") if t.strip()]
    a.uname_list = []
    return a


class FleetAllInFlight(tools.Fleet):
    """fleet with every host in flight (`--parallel N`), as the peers run: ssh.parallel (100) is the default."""
    name, label = "fleet-all", "fleet exec --parallel N"

    def argv(self, n, command):
        argv = super().argv(n, command)
        return argv[:-len(command) - 1] + ["--parallel", str(n), "--"] + command


class Proxy:
    """One wanproxy for one delay, in front of every host."""

    def __init__(self, base, rtt, addrs):
        self.dir = Path(base) / "wan"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.rtt, self.port = rtt, PORT_BASE + rtt
        self.stats = self.dir / f"stats-{rtt}.txt"
        self.map = self.dir / f"map-{rtt}.txt"
        self.map.write_text("".join(f"{a} {self.port} {a} 22\n" for a in addrs))
        self.bin = self.dir / "wanproxy"
        src = REPO / "scripts" / "lab" / "wanproxy.c"
        if not self.bin.exists() or src.stat().st_mtime > self.bin.stat().st_mtime:
            subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", str(self.bin), str(src)], check=True)
        log = open(self.dir / f"wanproxy-{rtt}.log", "w")
        self.proc = subprocess.Popen([str(self.bin), str(rtt), str(self.map), str(self.stats)],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.time() + 10
        while "listeners" not in (self.dir / f"wanproxy-{rtt}.log").read_text():
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"wan.py: the proxy for {rtt} ms did not start; see {self.dir}/wanproxy-{rtt}.log")
            time.sleep(0.05)

    def offset(self):
        return self.stats.stat().st_size if self.stats.exists() else 0

    def turns_since(self, offset):
        """(median turns, median connection ms, connections) recorded since offset."""
        with open(self.stats) as f:
            f.seek(offset)
            rows = [line.split() for line in f if line.strip()]
        if not rows:
            return None, None, 0
        return (statistics.median(int(r[5]) for r in rows), statistics.median(int(r[6]) for r in rows), len(rows))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def first_byte_ms(addr, port):
    t = time.monotonic()
    with socket.create_connection((addr, port), timeout=30) as s:
        s.recv(64)
    return (time.monotonic() - t) * 1000


def known_hosts(base, addrs, ports):
    path = Path(base) / "client" / "known_hosts_wan"
    lines = []
    for a in addrs:
        kind, key = (Path(base) / "hosts" / a / "ssh_host_ed25519_key.pub").read_text().split()[:2]
        lines += [f"[{a}]:{p} {kind} {key}\n" for p in ports]
    path.write_text("".join(lines))
    return path


def main():
    args = parse_args()
    os.makedirs(args.base, exist_ok=True)
    lock = open(os.path.join(args.base, ".lock"), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"wan.py: another benchmark is using {args.base}; wait for it or pass another --base")
    results = Path(args.results) if args.results else HERE / "results" / time.strftime("wan-%Y%m%d-%H%M.jsonl")
    results.parent.mkdir(parents=True, exist_ok=True)
    print(f"bringing up {args.sizes[-1]} light hosts under {args.base} ...", flush=True)
    hosts = lighthosts.LightHosts(args.base).up(args.sizes[-1])
    addrs = [a for a, _ in hosts]
    proxies = {r: Proxy(args.base, r, addrs) for r in args.rtts}
    kh = known_hosts(args.base, addrs, [p.port for p in proxies.values()])
    tool_objs = []
    wanted = [t for t in args.tool_list if t != "fleet-all"]
    made = tools.make_tools(args.base, hosts, args.fleet_binary, wanted, args.fleet_args.split())
    if "fleet-all" in args.tool_list:
        made.insert(args.tool_list.index("fleet-all"), FleetAllInFlight(args.base, hosts, args.fleet_binary))
    for t in made:
        ok, why = t.available()
        if ok:
            t.known_hosts = kh
            tool_objs.append(t)
        else:
            print(f"skipping {t.name}: {why}", flush=True)
    failures = 0
    try:
        with results.open("a") as out:
            m = meta(args)
            m["kind"], m["args"]["rtts"], m["args"]["timeout"] = "wan", args.rtts, args.timeout
            out.write(json.dumps(m) + "\n")
            for r, proxy in proxies.items():
                ms = [first_byte_ms(a, proxy.port) for a in addrs[:5]] + [first_byte_ms(a, 22) for a in addrs[:5]]
                rec = {"type": "delay", "rtt_ms": r, "first_byte_ms": round(statistics.median(ms[:5]), 1),
                       "direct_ms": round(statistics.median(ms[5:]), 1)}
                out.write(json.dumps(rec) + "\n")
                print(f"delay check {r} ms: connect to first byte {rec['first_byte_ms']} ms through the proxy "
                      f"(direct {rec['direct_ms']} ms; expected +{2 * r} ms)", flush=True)
            for rep in range(args.repeat):
                for n in args.sizes:
                    pids = [pid for _, pid in hosts[:n]]
                    for r, proxy in proxies.items():
                        k = (rep + args.rtts.index(r) + args.sizes.index(n)) % len(tool_objs)
                        for tool in tool_objs[k:] + tool_objs[:k]:
                            tool.port = proxy.port
                            time.sleep(args.pause)
                            load = os.getloadavg()[0]
                            offset = proxy.offset()
                            res = measure.run_measured(tool.argv(n, ["true"]), pids, env=tool.env(),
                                                       timeout=args.timeout)
                            time.sleep(r / 1000 + 0.2)
                            turns, conn_ms, conns = proxy.turns_since(offset)
                            ok_hosts = tool.count_ok(res, n)
                            timed_out = res["wall_s"] >= args.timeout - 0.5
                            rec = {"type": "run", "tool": tool.name, "label": tool.label, "command": "true",
                                   "hosts": n, "rtt_ms": r, "rep": rep + 1, "ok_hosts": ok_hosts,
                                   "correct": res["exit"] == 0 and ok_hosts == n, "timed_out": timed_out,
                                   "load1_before": round(load, 2), "turns_median": turns,
                                   "conn_ms_median": conn_ms, "proxied_conns": conns}
                            if tool.name.startswith("fleet"):
                                rec["host_ms_min_med_p90_max"] = tool.durations(res)
                            rec.update({k2: v for k2, v in res.items() if k2 not in ("stdout", "stderr")})
                            if not rec["correct"]:
                                failures += 1
                                rec["stderr_tail"] = res["stderr"][-2000:]
                                rec["stdout_tail"] = res["stdout"][-1000:]
                            out.write(json.dumps(rec) + "\n")
                            out.flush()
                            print(f"N={n:<4} rtt={r:<4} rep={rep + 1} {tool.name:<10} wall={res['wall_s']:7.2f}s "
                                  f"cpu={res['cpu_s']:6.2f}s server={res['server_cpu_s']:6.2f}s turns={turns} "
                                  f"ok={ok_hosts}/{n} load={load:.1f}"
                                  + ("" if rec["correct"] else f"  FAILED (exit {res['exit']})")
                                  + ("  TIMED OUT" if timed_out else ""), flush=True)
    finally:
        for p in proxies.values():
            p.stop()
    print(f"results: {results}")
    if not args.no_report:
        import wan_report
        wan_report.write_all([results], REPO)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
