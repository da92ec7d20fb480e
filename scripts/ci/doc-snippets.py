#!/usr/bin/env python3
"""Extract the command blocks of Markdown files so they can be checked (and later run).

usage: doc-snippets.py OUT_DIR FILE.md...

- A ```sh block becomes OUT_DIR/<file>-<n>.sh as it is.
- A ```console block: each line starting with "$ " is a command; they become OUT_DIR/<file>-<n>.sh with a bash
  shebang, and every one must be a fleet command of the documented form (subcommand and options below).
Exit 0 when every console command is valid, 1 otherwise (each problem names the file and line).
"""
import os
import re
import shlex
import sys

# fleet's commands as the runbooks may use them: subcommand -> options (True: takes a value).
COMMANDS = {
    ("plan",): {"--env": True, "--probe": False},
    ("deploy",): {"--env": True, "--hosts": True, "--rollback-on-failure": False,
                  "--skip-unreachable": False, "--retry-failed": False, "--json": False},
    ("rollback",): {"--env": True, "--host": True, "--hosts": True, "--to": True},
    ("status",): {"--env": True, "--json": False},
    ("lock", "status"): {"--env": True},
    ("lock", "release"): {"--env": True},
    ("exec",): {"--env": True, "--hosts": True},
    ("verify",): {"--env": True},
    ("history",): {"--env": True},
}
POSITIONAL = {("plan",): 1, ("deploy",): 1}  # VERSION


def check_fleet(words):
    """Return a problem string, or None when the command is a valid fleet command."""
    if not words or words[0] != "fleet":
        return "does not start with 'fleet'"
    rest = words[1:]
    key = tuple(rest[:2]) if rest[:1] == ["lock"] else tuple(rest[:1])
    if key not in COMMANDS:
        return f"unknown subcommand '{' '.join(key)}'"
    options, args = COMMANDS[key], rest[len(key):]
    if key == ("exec",):
        if "--" not in args or args.index("--") == len(args) - 1:
            return "fleet exec needs '-- CMD'"
        args = args[:args.index("--")]
    positional, i = [], 0
    while i < len(args):
        word = args[i]
        if word in (">", ">>") or word.startswith(">"):
            break  # redirection of the output
        if word.startswith("--"):
            if word not in options:
                return f"'{word}' is not an option of 'fleet {' '.join(key)}'"
            if options[word]:
                if i + 1 >= len(args) or args[i + 1].startswith("--"):
                    return f"'{word}' needs a value"
                i += 1
        else:
            positional.append(word)
        i += 1
    if "--env" not in args:
        return "every fleet command in a runbook names its environment with --env"
    want = POSITIONAL.get(key, 0)
    if len(positional) != want:
        return f"'fleet {' '.join(key)}' takes {want} positional argument(s), got {positional}"
    return None


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out, problems, count = argv[1], [], 0
    os.makedirs(out, exist_ok=True)
    for path in argv[2:]:
        base = re.sub(r"[^A-Za-z0-9]+", "-", os.path.splitext(path)[0]).strip("-")
        lang, start, lines, n = None, 0, [], 0
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                fence = re.match(r"^```(\w*)\s*$", line)
                if fence and lang is None:
                    lang, start, lines = fence.group(1), number, []
                    continue
                if fence and lang is not None:
                    if lang in ("sh", "console"):
                        n += 1
                        body = lines
                        if lang == "console":
                            body = [f"# {path}:{start + k + 1}\n{l[2:]}" for k, l in enumerate(lines)
                                    if l.startswith("$ ")]
                            body.insert(0, "#!/usr/bin/env bash\n")
                            for k, l in enumerate(lines):
                                if l.startswith("$ "):
                                    count += 1
                                    try:
                                        problem = check_fleet(shlex.split(l[2:], comments=True))
                                    except ValueError as error:
                                        problem = f"cannot be parsed: {error}"
                                    if problem:
                                        problems.append(f"{path}:{start + k + 1}: {l[2:].strip()}: {problem}")
                        with open(os.path.join(out, f"{base}-{n}.sh"), "w", encoding="utf-8") as snippet:
                            snippet.writelines(body)
                    lang = None
                    continue
                if lang is not None:
                    lines.append(line)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"doc-snippets: {count} fleet commands checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
