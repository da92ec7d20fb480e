#!/usr/bin/env python3
"""Load generator for the fleet lab: GET http://ADDR/version on each host, continuously.

Bounded by --seconds and --max-requests (per host); stops by itself or on SIGTERM/SIGINT and prints one
JSON summary: per host the totals, the first few errors and statuses, latency, and the sequence of
versions seen (run-length encoded) with how many times it switched. During an nginx reload, old workers
may still answer for a few milliseconds, so a swap can show as several switches: versions_seen (distinct,
in order) and last_version are the stable facts to assert on.

Only lab addresses are allowed: 10.77.0.0/24 and 127.0.0.0/8.
Exit code: 0 when every request succeeded, 1 when any failed, 2 on bad arguments.
"""

import argparse
import http.client
import ipaddress
import json
import signal
import sys
import threading
import time

ALLOWED = (ipaddress.ip_network("10.77.0.0/24"), ipaddress.ip_network("127.0.0.0/8"))
KEEP_ERRORS = 5


def parse_target(text):
    """'10.77.0.11' or '10.77.0.11:8080' -> (addr, port); refuses anything outside the lab."""
    addr, port = text, 80
    if text.count(":") == 1:
        addr, port_text = text.split(":")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"bad port in '{text}'")
        port = int(port_text)
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise ValueError(f"'{addr}' is not an IP address (names are not resolved)") from None
    if not any(ip in net for net in ALLOWED):
        raise ValueError(f"'{addr}' is outside the lab (allowed: 10.77.0.0/24, 127.0.0.0/8)")
    return str(ip), port


class HostLoad:
    def __init__(self, addr, port, args, stop, started):
        self.addr, self.port, self.args = addr, port, args
        self.stop, self.started = stop, started
        self.total = self.ok = self.failed = 0
        self.errors, self.statuses = [], {}
        self.runs = []  # [version, count, first_at, last_at]
        self.latencies = []

    def record_version(self, version, at):
        if self.runs and self.runs[-1][0] == version:
            run = self.runs[-1]
            run[1] += 1
            run[3] = at
        else:
            self.runs.append([version, 1, at, at])

    def record_failure(self, what, at):
        self.failed += 1
        if len(self.errors) < KEEP_ERRORS:
            self.errors.append({"at": round(at, 3), "error": what})

    def one_request(self, conn):
        begin = time.monotonic()
        at = begin - self.started
        try:
            if conn is None:
                conn = http.client.HTTPConnection(self.addr, self.port, timeout=self.args.timeout)
            headers = {"Connection": "keep-alive" if self.args.keepalive else "close"}
            conn.request("GET", self.args.path, headers=headers)
            resp = conn.getresponse()
            body = resp.read(4096)
            self.latencies.append(time.monotonic() - begin)
            self.statuses[str(resp.status)] = self.statuses.get(str(resp.status), 0) + 1
            if resp.status != 200:
                self.record_failure(f"HTTP {resp.status}", at)
            else:
                self.ok += 1
                self.record_version(body.decode("utf-8", "replace").strip()[:64], at)
            if not self.args.keepalive or resp.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as exc:
            self.record_failure(f"{type(exc).__name__}: {exc}"[:200], at)
            if conn is not None:
                conn.close()
            conn = None
        self.total += 1
        return conn

    def run(self):
        conn = None
        while not self.stop.is_set() and self.total < self.args.max_requests:
            conn = self.one_request(conn)
            if self.args.interval > 0:
                self.stop.wait(self.args.interval)
        if conn is not None:
            conn.close()

    def summary(self):
        lat = sorted(self.latencies)

        def pct(p):
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2) if lat else None

        return {
            "total": self.total,
            "ok": self.ok,
            "failed": self.failed,
            "errors": self.errors,
            "statuses": self.statuses,
            "latency_ms": {"p50": pct(0.50), "p99": pct(0.99), "max": pct(1.0)},
            "versions": [
                {"version": v, "count": c, "first_at": round(f, 3), "last_at": round(last, 3)}
                for v, c, f, last in self.runs
            ],
            "switches": max(0, len(self.runs) - 1),
            "versions_seen": list(dict.fromkeys(v for v, *_ in self.runs)),
            "last_version": self.runs[-1][0] if self.runs else None,
        }


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("hosts", nargs="+", metavar="ADDR[:PORT]", help="lab host addresses, e.g. 10.77.0.11")
    p.add_argument("--seconds", type=float, default=30.0, help="stop after this long (default 30)")
    p.add_argument("--max-requests", type=int, default=100000, help="stop a host after this many requests")
    p.add_argument("--path", default="/version", help="path to request (default /version)")
    p.add_argument("--interval", type=float, default=0.01, help="pause between requests per host (default 0.01 s)")
    p.add_argument("--timeout", type=float, default=2.0, help="per-request timeout in seconds (default 2)")
    p.add_argument("--keepalive", action="store_true", help="reuse connections (default: one per request)")
    args = p.parse_args(argv)
    if args.seconds <= 0 or args.max_requests <= 0 or args.timeout <= 0 or args.interval < 0:
        p.error("--seconds, --max-requests and --timeout must be positive, --interval not negative")
    if not args.path.startswith("/"):
        p.error(f"--path must start with '/', got '{args.path}'")
    targets = []
    for text in args.hosts:
        try:
            targets.append(parse_target(text))
        except ValueError as exc:
            p.error(str(exc))

    stop = threading.Event()
    signals = {}

    def on_signal(signum, _frame):
        signals.setdefault("name", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = time.monotonic()
    loads = [HostLoad(addr, port, args, stop, started) for addr, port in targets]
    threads = [threading.Thread(target=load.run, daemon=True) for load in loads]
    for t in threads:
        t.start()
    deadline = started + args.seconds
    while not stop.is_set() and any(t.is_alive() for t in threads):
        stop.wait(min(0.1, max(0.0, deadline - time.monotonic())))
        if time.monotonic() >= deadline:
            stop.set()
    stop.set()
    for t in threads:
        t.join(args.timeout + 1)
    result = {
        "seconds": round(time.monotonic() - started, 3),
        "stopped_by": signals.get("name") or ("time" if time.monotonic() >= deadline else "max-requests"),
        "path": args.path,
        "hosts": {
            (f"{load.addr}:{load.port}" if load.port != 80 else load.addr): load.summary() for load in loads
        },
    }
    result["ok"] = all(load.failed == 0 and load.total > 0 for load in loads)
    print(json.dumps(result, indent=2))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
