"""The tools under test: how each is invoked, and how its output proves every host answered.

Every tool gets the same hosts, the same client key, the same known_hosts with
strict host key checking, the same user (lighthosts.USER, a plain account), all
hosts in flight at once (N), and no connection reuse between runs.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from lighthosts import USER

CONNECT_TIMEOUT = 60  # seconds; generous so a loaded 2-core machine measures speed, not timeouts


class Tool:
    name = ""
    label = ""

    def __init__(self, base, hosts):
        self.base = Path(base)
        self.hosts = [a for a, _ in hosts]
        self.key = self.base / "client" / "id_ed25519"
        self.known_hosts = self.base / "client" / "known_hosts"
        self.work = self.base / "inv"
        self.work.mkdir(parents=True, exist_ok=True)
        # the WAN benchmark (wan.py) points every tool at a delay proxy's port and its known_hosts
        self.port = 22

    def available(self):
        return True, ""

    def env(self):
        return dict(os.environ)

    def argv(self, n, command):
        raise NotImplementedError

    def count_ok(self, result, n):
        raise NotImplementedError


def _ssh_opts(tool):
    return [f"IdentityFile={tool.key}", f"UserKnownHostsFile={tool.known_hosts}",
            "GlobalKnownHostsFile=/dev/null", "StrictHostKeyChecking=yes", "BatchMode=yes",
            "IdentitiesOnly=yes", f"ConnectTimeout={CONNECT_TIMEOUT}", "ControlMaster=no"]


class Fleet(Tool):
    name, label = "fleet", "fleet exec"

    def __init__(self, base, hosts, binary, extra=()):
        super().__init__(base, hosts)
        self.binary = binary
        self.extra = list(extra)  # e.g. ["--parallel", "32"] for an experiment

    def available(self):
        if not self.binary or not os.access(self.binary, os.X_OK):
            return False, f"no fleet binary at {self.binary} (build: swift build -c release --scratch-path .build-bench)"
        probe = subprocess.run([self.binary, "--help"], capture_output=True, text=True, timeout=30)
        if not re.search(r"^\s+exec\b", probe.stdout, re.M):
            return False, f"{self.binary} has no working `exec` subcommand yet"
        return True, ""

    def inventory(self, n):
        path = self.work / f"fleet-{n}-{self.port}.yml"
        lines = ["app: bench", "image: bench.invalid/none", "ssh:", f"  user: {USER}", f"  port: {self.port}",
                 f"  identity_files: [{self.key}]", f"  known_hosts: {self.known_hosts}",
                 "  host_key_policy: strict", "hosts:"]
        lines += [f"  h{i + 1:03d}: {a}" for i, a in enumerate(self.hosts[:n])]
        path.write_text("\n".join(lines) + "\n")
        return path

    def env(self):
        env = dict(os.environ)
        env.pop("SSH_AUTH_SOCK", None)  # the identity file only, like the other tools
        return env

    def argv(self, n, command):
        return ([self.binary, "exec", "--inventory", str(self.inventory(n)), "--json"] + self.extra
                + ["--"] + command)

    @staticmethod
    def durations(result):
        """fleet's own per-host duration_ms, as (min, median, p90, max), or None."""
        d = []
        for line in result["stdout"].splitlines():
            try:
                d.append(int(json.loads(line)["duration_ms"]))
            except (ValueError, KeyError, TypeError):
                continue
        if not d:
            return None
        d.sort()
        return [d[0], d[len(d) // 2], d[min(len(d) - 1, int(len(d) * 0.9))], d[-1]]

    def count_ok(self, result, n):
        ok = 0
        for line in result["stdout"].splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("exit_status") == 0 and not obj.get("error"):
                ok += 1
        return ok


class Pssh(Tool):
    name, label = "pssh", "parallel-ssh default kex"
    kex = None

    def available(self):
        return (shutil.which("parallel-ssh") is not None, "apt-get install -y pssh")

    def argv(self, n, command):
        hosts = self.work / f"pssh-{n}-{self.port}.txt"
        hosts.write_text("".join(f"{USER}@{a}:{self.port}\n" for a in self.hosts[:n]))
        argv = ["parallel-ssh", "-h", str(hosts), "-p", str(n), "-t", "600"]
        opts = _ssh_opts(self) + ([f"KexAlgorithms={self.kex}"] if self.kex else [])
        for o in opts:
            argv += ["-O", o]
        return argv + [" ".join(command)]

    def count_ok(self, result, n):
        return len(re.findall(r"\[SUCCESS\] ", result["stdout"]))


class PsshCurve(Pssh):
    name, label = "pssh-curve", "parallel-ssh curve25519"
    kex = "curve25519-sha256"


class Ansible(Tool):
    name, label = "ansible", "Ansible raw, forks=N"

    def available(self):
        return (shutil.which("ansible") is not None, "pip install ansible-core")

    def env(self):
        env = dict(os.environ)
        home = self.base / "ansible"
        env.update({
            "ANSIBLE_HOME": str(home), "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
            "ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_GATHERING": "explicit", "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_TIMEOUT": str(CONNECT_TIMEOUT), "ANSIBLE_RETRY_FILES_ENABLED": "False",
            # no ControlPersist master may outlive a run and serve the next one
            "ANSIBLE_SSH_ARGS": "-o ControlMaster=no",
            "ANSIBLE_DEPRECATION_WARNINGS": "False", "ANSIBLE_LOCALHOST_WARNING": "False",
        })
        return env

    def argv(self, n, command):
        inv = self.work / f"ansible-{n}-{self.port}.ini"
        common = " ".join(f"-o {o}" for o in _ssh_opts(self)[1:] if not o.startswith("ControlMaster"))
        text = "[bench]\n" + "".join(f"{a}\n" for a in self.hosts[:n])
        text += (f"[bench:vars]\nansible_user={USER}\nansible_port={self.port}\n"
                 f"ansible_ssh_private_key_file={self.key}\n"
                 f"ansible_ssh_common_args={common}\n")
        inv.write_text(text)
        return ["ansible", "-i", str(inv), "bench", "-m", "raw", "-a", " ".join(command),
                "-f", str(n)]

    def count_ok(self, result, n):
        return len(re.findall(r"^\S+ \| CHANGED \| rc=0", result["stdout"], re.M))


class Pyinfra(Tool):
    name, label = "pyinfra", "pyinfra"

    def available(self):
        return (shutil.which("pyinfra") is not None, "pip install pyinfra")

    def argv(self, n, command):
        inv = self.work / f"pyinfra_{n}_{self.port}.py"
        data = {"ssh_user": USER, "ssh_key": str(self.key), "ssh_port": self.port,
                "ssh_known_hosts_file": str(self.known_hosts),
                "ssh_strict_host_key_checking": "yes", "ssh_allow_agent": False,
                "ssh_look_for_keys": False}
        inv.write_text("bench = [\n" + "".join(f"    ({a!r}, {data!r}),\n" for a in self.hosts[:n])
                       + "]\n")
        config = self.work / "pyinfra_config.py"
        config.write_text(f"CONNECT_TIMEOUT = {CONNECT_TIMEOUT}\n")
        return ["pyinfra", "-y", "--config", str(config), "--parallel", str(n), str(inv),
                "exec", "--"] + command

    def count_ok(self, result, n):
        # one "    [host] Success" line per host once the operation ran there
        text = result["stdout"] + result["stderr"]
        return len(set(re.findall(r"^\s+\[(\S+)\]\s+Success\s*$", text, re.M)))


def make_tools(base, hosts, fleet_binary, wanted, fleet_args=()):
    all_tools = {
        "fleet": lambda: Fleet(base, hosts, fleet_binary, fleet_args),
        "pssh": lambda: Pssh(base, hosts),
        "pssh-curve": lambda: PsshCurve(base, hosts),
        "ansible": lambda: Ansible(base, hosts),
        "pyinfra": lambda: Pyinfra(base, hosts),
    }
    unknown = [w for w in wanted if w not in all_tools]
    if unknown:
        sys.exit(f"run.py: unknown tool(s) {', '.join(unknown)}; known: {', '.join(all_tools)}")
    return [all_tools[w]() for w in wanted]
