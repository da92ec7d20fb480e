"""Run one tool invocation and measure it.

Recorded per run:
  wall_s         spawn to exit of the tool
  cpu_s          user+sys of the tool and every descendant it reaped (os.wait4 rusage)
  maxrss_mb      the largest single process of the tree (wait4's ru_maxrss)
  tree_rss_mb    peak of the summed RSS of the whole tree, sampled every SAMPLE_S
  server_cpu_s   CPU the light sshds spent (their cutime+cstime, before/after)
  machine_busy_s CPU the whole machine spent during the run (/proc/stat), to see other load
With watch_fds (the tool's own process, sampled every SAMPLE_S):
  fds_peak       the most descriptors it held open at once (every FDS_SAMPLE_S: a short peak may be missed)
  nofile_seen    its soft open-file limits seen during the run, in order (a tool may raise its own)
"""

import itertools
import os
import subprocess
import threading
import time
from pathlib import Path

from lighthosts import children_of, sshd_cpu_ticks

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_S = 0.25
FDS_SAMPLE_S = 0.05


def _proc_table():
    """pid -> (ppid, rss bytes) for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        table[int(entry)] = (int(rest[1]), int(rest[21]) * PAGE)
    return table


def machine_busy_ticks():
    """Busy CPU time of the whole machine (all cores), clock ticks, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[:8]) - fields[3] - fields[4]  # total (no guest) less idle and iowait


def tree_rss(root):
    table = _proc_table()
    kids = {}
    for pid, (ppid, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            total += table[pid][1]
        todo.extend(kids.get(pid, ()))
    return total


def soft_nofile(pid):
    """The soft open-file limit of pid from /proc/PID/limits (an int, "unlimited"), or None."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft = line.split()[3]
            return int(soft) if soft.isdigit() else soft
    return None


class _Sampler(threading.Thread):
    def __init__(self, root, watch_fds=None):
        super().__init__(daemon=True)
        self.root, self.peak, self.stop = root, 0, threading.Event()
        # watch_fds: the tool's executable; its descriptors are counted once root runs it (not the shell
        # that starts it, whose limits may differ until its `ulimit`).
        self.watch_fds = os.path.realpath(watch_fds) if watch_fds else None
        self.fds_peak, self.nofile_seen = None, []

    def _fds(self):
        try:
            if os.readlink(f"/proc/{self.root}/exe") != self.watch_fds:
                return
            n = len(os.listdir(f"/proc/{self.root}/fd"))
            soft = soft_nofile(self.root)
        except (OSError, ValueError, IndexError):
            return
        self.fds_peak = max(self.fds_peak or 0, n)
        if soft is not None and soft not in self.nofile_seen:
            self.nofile_seen.append(soft)

    def run(self):
        # descriptors every FDS_SAMPLE_S (cheap: one folder), the tree's RSS every SAMPLE_S (all of /proc)
        for tick in itertools.count(1):
            if self.watch_fds:
                self._fds()
            if self.stop.wait(FDS_SAMPLE_S if self.watch_fds else SAMPLE_S):
                return
            if self.watch_fds and tick % round(SAMPLE_S / FDS_SAMPLE_S):
                continue
            try:
                self.peak = max(self.peak, tree_rss(self.root))
            except (OSError, ValueError):
                pass


def settle(sshd_pids, timeout=30.0):
    """Wait until no per-connection sshd is left (so its CPU has been reaped)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        left = children_of(sshd_pids)
        if not left:
            return 0
        time.sleep(0.1)
    return len(children_of(sshd_pids))


def run_measured(argv, sshd_pids, env=None, cwd=None, timeout=900, popen=None, watch_fds=None):
    """Run argv once; returns a dict of measurements plus stdout/stderr text. popen: more Popen arguments
    (user=, group=, ...); watch_fds: the tool's executable, to sample its descriptors and limit."""
    settle(sshd_pids)
    before = sshd_cpu_ticks(sshd_pids)
    busy0 = machine_busy_ticks()
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=cwd, start_new_session=True, **(popen or {}))
    sampler = _Sampler(proc.pid, watch_fds)
    sampler.start()
    # Drain pipes in threads so a chatty tool never blocks; wait4 reaps and gives rusage.
    bufs = {"out": b"", "err": b""}

    def drain(name, stream):
        bufs[name] = stream.read()

    drains = [threading.Thread(target=drain, args=(name, stream), daemon=True)
              for name, stream in (("out", proc.stdout), ("err", proc.stderr))]
    for d in drains:
        d.start()
    timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, 9))
    timer.start()
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    busy = (machine_busy_ticks() - busy0) / CLK_TCK
    timer.cancel()
    sampler.stop.set()
    sampler.join()
    for d in drains:
        d.join(timeout=10)
    proc.returncode = os.waitstatus_to_exitcode(status)
    leftover = settle(sshd_pids)
    after = sshd_cpu_ticks(sshd_pids)
    return {
        "exit": proc.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "user_s": round(ru.ru_utime, 3),
        "sys_s": round(ru.ru_stime, 3),
        "maxrss_mb": round(ru.ru_maxrss / 1024, 1),
        "tree_rss_mb": round(max(sampler.peak, ru.ru_maxrss * 1024) / 2**20, 1),
        "server_cpu_s": round((after - before) / CLK_TCK, 2),
        # everything the machine ran during the run; less tool and servers = other load
        "machine_busy_s": round(busy, 2),
        "leftover_conns": leftover,
        **({"fds_peak": sampler.fds_peak, "nofile_seen": sampler.nofile_seen} if watch_fds else {}),
        "stdout": bufs["out"].decode(errors="replace"),
        "stderr": bufs["err"].decode(errors="replace"),
    }
