"""Start a tool the way a plain user does: as lighthosts.USER, from a shell, with that shell's open-file limit.

The harness runs as root (the light sshds bind port 22). A user does not: fleet then starts with the user's
environment, in a folder the user owns (fleet writes `.fleet/history/` next to the inventory), with a key the
user can read, and with whatever `ulimit -n` the user's shell has. PlainUser sets all of that up:

    user = PlainUser(work / "user")
    key = user.prepare(client_key)                    # a copy of the key, owned by the user, mode 0600
    argv = user.wrap([fleet, "deploy", ...], nofile=1024, limits_file=...)
    measure.run_measured(argv, pids, env=user.env({...}), cwd=user.folder, popen=user.popen(), watch_fds=fleet)
    soft, hard = read_limits(limits_file)             # the limits fleet started with

The wrapper is `bash -c`: it sets only the *soft* limit (`ulimit -S -n N`; a plain `ulimit -n N` would set
the hard limit too, and a plain user could never raise it again), writes `ulimit -S -n` and `ulimit -H -n`,
then `exec`s the tool, so the tool keeps the shell's pid (wait4's rusage and the samplers see the tool).
"""

import os
import pwd
import shutil
from pathlib import Path

from lighthosts import USER, ensure_user

# $1: the soft limit to set, or "-" to keep the harness's; $2: where to write "SOFT HARD"; then the tool.
SHELL = r"""n=$1 out=$2
shift 2
if [ "$n" != - ]; then
  ulimit -S -n "$n" || { echo "fleet-bench-shell: cannot set the soft open-file limit to $n" >&2; exit 125; }
fi
printf '%s %s\n' "$(ulimit -S -n)" "$(ulimit -H -n)" > "$out" || exit 125
exec "$@"
"""


def read_limits(path):
    """(soft, hard) the wrapped tool started with: ints, or "unlimited"; (None, None) if not written."""
    try:
        words = Path(path).read_text().split()
    except OSError:
        return None, None
    if len(words) != 2:
        return None, None
    return tuple(int(w) if w.isdigit() else w for w in words)


class PlainUser:
    def __init__(self, folder):
        ensure_user()
        self.pw = pwd.getpwnam(USER)
        self.folder = Path(folder)

    def own(self, path, mode=None):
        shutil.chown(path, self.pw.pw_uid, self.pw.pw_gid)
        if mode is not None:
            os.chmod(path, mode)

    def prepare(self, key):
        """The user's folder (made and owned by the user) and a copy of the client key in it; returns the copy."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.own(self.folder, 0o755)
        # Every folder above must be searchable by the user (they are 0755 when the harness made them).
        for parent in self.folder.parents:
            if parent.exists() and not os.stat(parent).st_mode & 0o001:
                raise SystemExit(f"{parent} is not searchable by {USER}; make it 0755 or pass another --base")
        copy = self.folder / "id_ed25519"
        shutil.copyfile(key, copy)
        self.own(copy, 0o600)
        return copy

    def write(self, path, text):
        """A file in the user's folder, owned by the user."""
        Path(path).write_text(text)
        self.own(path, 0o644)

    def wrap(self, argv, nofile, limits_file):
        """argv started from the user's shell with the soft open-file limit nofile (None: left as is)."""
        limits = Path(limits_file)
        limits.unlink(missing_ok=True)
        return ["/bin/bash", "-c", SHELL, "fleet-bench-shell", str(nofile) if nofile else "-", str(limits)] + list(argv)

    def env(self, extra=None):
        """The environment of a login as the user (nothing of root's), plus extra."""
        env = {"HOME": self.pw.pw_dir, "USER": USER, "LOGNAME": USER, "SHELL": self.pw.pw_shell or "/bin/bash",
               "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": os.environ.get("LANG", "C.UTF-8")}
        env.update(extra or {})
        return env

    def popen(self):
        """Popen arguments that drop to the user (its own group, no supplementary groups)."""
        return {"user": self.pw.pw_uid, "group": self.pw.pw_gid, "extra_groups": []}
