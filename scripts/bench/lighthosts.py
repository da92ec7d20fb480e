"""Light benchmark hosts: one OpenSSH sshd per loopback address, no namespace.

Everything lives under BENCH_DIR (default /tmp/fleet-bench):
  client/id_ed25519{,.pub}   the client key every tool uses
  client/known_hosts         ed25519 lines only (what OpenSSH itself writes)
  sshd_config                one config shared by every host (equal for all tools)
  hosts/<addr>/              host keys, pid file and log of one sshd

Hosts are 127.0.101.1 ... 127.0.101.250, then 127.0.102.1 ... (250 per /24): apart from the lab's light
hosts (scripts/lab/lab.sh light-up, 127.0.1.x to 127.0.8.x), so both can run at once.
Only sshds whose pid file is ours and whose command line names our config are
ever signalled; nothing is killed by name.
"""

import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

# Every tool logs in as this plain account: each command then costs the servers a plain shell's start-up, the
# same for every tool (root's ~/.bashrc on some machines, this one included, runs `pyenv init`, which takes a
# lock and made many simultaneous root logins slower and dearer in ways that depended on each tool's pacing).
USER = "fleetbench"

PER_NET = 250
# 127.0.1.x .. 127.0.8.x belong to the lab's light hosts (lab.sh light-up, up to 2,000 of them).
FIRST_NET = 101
SSHD = "/usr/sbin/sshd"


def ensure_user():
    """Create USER (no password, not locked: sshd with UsePAM no refuses locked accounts even with a key)."""
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--create-home", "--shell", "/bin/bash", USER], check=True)
    subprocess.run(["usermod", "-p", "*", USER], check=True)


def address(i):
    """Address of host number i (1-based)."""
    net, idx = divmod(i - 1, PER_NET)
    return f"127.0.{FIRST_NET + net}.{idx + 1}"


class LightHosts:
    def __init__(self, base):
        self.base = Path(base)
        self.client = self.base / "client"
        self.key = self.client / "id_ed25519"
        self.known_hosts = self.client / "known_hosts"
        self.config = self.base / "sshd_config"
        self.hosts_dir = self.base / "hosts"

    # ---- files -------------------------------------------------------
    def _ensure_client_key(self):
        self.client.mkdir(parents=True, exist_ok=True)
        if not self.key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleet-bench",
                            "-f", str(self.key)], check=True)

    def _write_config(self):
        text = "\n".join([
            "# fleet benchmark light host: the same config for every host and every tool",
            "Port 22",
            f"AuthorizedKeysFile {self.key}.pub",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            "StrictModes no",
            "UsePAM no",
            "UseDNS no",
            "PrintMotd no",
            "LogLevel INFO",
            "",
        ])
        if not self.config.exists() or self.config.read_text() != text:
            self.config.write_text(text)

    def _host_dir(self, addr):
        d = self.hosts_dir / addr
        d.mkdir(parents=True, exist_ok=True)
        for kind in ("ed25519", "ecdsa"):
            f = d / f"ssh_host_{kind}_key"
            if not f.exists():
                subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", addr,
                                "-f", str(f)], check=True)
        return d

    # ---- processes ---------------------------------------------------
    def _own_pid(self, addr):
        """The pid of our sshd for addr, or None (stale pid files are ignored)."""
        pidfile = self.hosts_dir / addr / "sshd.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
            # sshd rewrites its title into one string: match on the joined text
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            return None
        if f"-f {self.config} " in cmdline and f"-o ListenAddress={addr} -o " in cmdline:
            return pid
        return None

    def _start(self, addr):
        d = self._host_dir(addr)
        cmd = [SSHD, "-f", str(self.config),
               "-h", str(d / "ssh_host_ed25519_key"), "-h", str(d / "ssh_host_ecdsa_key"),
               "-o", f"ListenAddress={addr}", "-o", f"PidFile={d / 'sshd.pid'}",
               "-E", str(d / "sshd.log")]
        subprocess.run(cmd, check=True)

    def up(self, n):
        """Start (or reuse) hosts 1..n; returns a list of (addr, sshd pid)."""
        os.makedirs("/run/sshd", exist_ok=True)
        ensure_user()
        self._ensure_client_key()
        self._write_config()
        addrs = [address(i) for i in range(1, n + 1)]
        for addr in addrs:
            if self._own_pid(addr) is None:
                self._start(addr)
        hosts, deadline = [], time.time() + 30
        for addr in addrs:
            pid = self._own_pid(addr)
            while pid is None and time.time() < deadline:
                time.sleep(0.05)
                pid = self._own_pid(addr)
            if pid is None:
                raise RuntimeError(f"sshd for {addr} did not start; see {self.hosts_dir / addr / 'sshd.log'}")
            hosts.append((addr, pid))
        self._write_known_hosts(addrs)
        return hosts

    def _write_known_hosts(self, addrs):
        """Lines for addrs and every other host still running, replaced atomically."""
        wanted = dict.fromkeys(list(addrs) + [a for a, _ in self.running()])
        lines = []
        for addr in wanted:
            pub = (self.hosts_dir / addr / "ssh_host_ed25519_key.pub").read_text().split()
            lines.append(f"{addr} {pub[0]} {pub[1]}\n")
        tmp = self.known_hosts.with_name(f".known_hosts.{os.getpid()}")
        tmp.write_text("".join(lines))
        os.replace(tmp, self.known_hosts)

    def running(self):
        """Every (addr, pid) of ours that is alive now."""
        out = []
        if self.hosts_dir.is_dir():
            for d in sorted(self.hosts_dir.iterdir()):
                pid = self._own_pid(d.name)
                if pid is not None:
                    out.append((d.name, pid))
        return out

    def down(self):
        """Stop every sshd of ours (by pid file, checked against its command line)."""
        pids = [pid for _, pid in self.running()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + 10
        while time.time() < deadline and any(Path(f"/proc/{p}").exists() for p in pids):
            time.sleep(0.05)
        return len(pids)


def sshd_cpu_ticks(pids):
    """utime+stime+cutime+cstime of the listening sshds, summed (clock ticks).

    A listening sshd reaps its per-connection children, so their CPU lands in
    its cutime/cstime once they have exited and been waited for."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += sum(int(x) for x in fields[11:15])
    return total


def children_of(pids):
    """Pids of live processes whose parent is one of pids (open connections)."""
    wanted, found = {str(p) for p in pids}, []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if stat[stat.rindex(")") + 2:].split()[1] in wanted:
            found.append(int(entry))
    return found
