#!/usr/bin/env python3
"""Keep-alive clients as common HTTP libraries behave, for the keep-alive measurement (keepalive.sh).

usage: kaclient.py ADDR:PORT... [--seconds S]

Per address, two clients that each reuse one connection and GET /version every 20 ms:
- "check": before reusing its connection it checks whether the server closed it (readable at EOF), and
  opens a new one if so (what urllib3, and so requests, do for a pooled connection);
- "retry": it sends on the connection as it is, and when the server closed it before any byte of the
  answer, sends the request once more on a new connection (allowed for idempotent requests, RFC 9110 9.2.2).
Stops after --seconds or on SIGTERM; prints one JSON object: per client the answered, failed and reopened
counts. Only lab addresses (10.77.0.0/24, 127.0.0.0/8).
"""

import argparse
import http.client
import ipaddress
import json
import select
import signal
import threading

CLOSED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def client(addr, port, mode, stop, out):
    conn, ok, failed, reopened = None, 0, 0, 0
    while not stop.is_set():
        try:
            # (sock is None when the server said "Connection: close": http.client then reconnects itself.)
            sock = conn.sock if conn is not None else None
            if mode == "check" and sock is not None and select.select([sock], [], [], 0)[0]:
                conn.close()
                conn, reopened = None, reopened + 1
            if conn is None:
                conn = http.client.HTTPConnection(addr, port, timeout=2)
            try:
                conn.request("GET", "/version")
                resp = conn.getresponse()
            except CLOSED:
                if mode != "retry":
                    raise
                conn.close()
                conn, reopened = http.client.HTTPConnection(addr, port, timeout=2), reopened + 1
                conn.request("GET", "/version")
                resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                ok += 1
            else:
                failed += 1
        except (OSError, http.client.HTTPException):
            failed += 1
            if conn is not None:
                conn.close()
            conn = None
        stop.wait(0.02)
    out[f"{addr}:{port} {mode}"] = {"ok": ok, "failed": failed, "reopened": reopened}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="+", metavar="ADDR:PORT")
    p.add_argument("--seconds", type=float, default=600)
    args = p.parse_args()
    targets = []
    for text in args.targets:
        addr, _, port = text.partition(":")
        ip = ipaddress.ip_address(addr)
        if not (ip in ipaddress.ip_network("10.77.0.0/24") or ip in ipaddress.ip_network("127.0.0.0/8")):
            p.error(f"{addr} is outside the lab")
        targets.append((addr, int(port or 80)))
    stop, out = threading.Event(), {}
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [threading.Thread(target=client, args=(a, pt, m, stop, out))
               for a, pt in targets for m in ("check", "retry")]
    for t in threads:
        t.start()
    stop.wait(args.seconds)
    stop.set()
    for t in threads:
        t.join(5)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
