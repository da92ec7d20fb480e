#!/usr/bin/env python3
"""Write fleet's man page (roff, section 1) from the help the binary itself carries.

usage: manpage.py FLEET_BINARY > fleet.1

Reads `FLEET_BINARY --experimental-dump-help` (swift-argument-parser's description of every command, option and
help text, the same that `fleet help COMMAND` prints) and `FLEET_BINARY --version`, so the page never says
anything the binary does not. The date is the last commit's (SOURCE_DATE_EPOCH when set): the same tree gives
the same page.
"""
import datetime
import json
import os
import subprocess
import sys


def roff(text):
    """Escape text for roff: backslashes, leading dots and quotes, and hyphens in option names."""
    text = text.replace("\\", "\\e")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def option_names(arg):
    names = []
    for name in arg.get("names", []):
        prefix = "-" if name["kind"] == "short" else "--"
        names.append("\\fB" + prefix.replace("-", "\\-") + name["name"].replace("-", "\\-") + "\\fR")
    return names


def describe_argument(arg, out):
    kind = arg["kind"]
    value = arg.get("valueName", "value").upper()
    if kind == "positional":
        head = "\\fI" + value + "\\fR" + ("..." if arg.get("isRepeating") else "")
    else:
        head = ", ".join(option_names(arg))
        if kind == "option":
            head += " \\fI" + value + "\\fR"
    out.append(".TP")
    out.append(head)
    out.append(roff(arg.get("abstract", "")) or "\\&")
    if arg.get("discussion"):
        out.append(roff(arg["discussion"] if isinstance(arg["discussion"], str) else ""))


def command_section(command, path, out):
    name = " ".join(path)
    out.append(".SS " + roff(name))
    if command.get("abstract"):
        out.append(roff(command["abstract"]))
    if command.get("discussion"):
        out.append(".PP")
        out.append(roff(command["discussion"]))
    shown = [a for a in command.get("arguments", []) if a.get("shouldDisplay", True)
             and not (a["kind"] == "flag" and a.get("preferredName", {}).get("name") in ("help", "version"))]
    if shown:
        out.append(".RS")
        for arg in shown:
            describe_argument(arg, out)
        out.append(".RE")
    for sub in command.get("subcommands", []):
        if sub["commandName"] != "help" and sub.get("shouldDisplay", True):
            command_section(sub, path + [sub["commandName"]], out)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    binary = argv[1]
    info = json.loads(subprocess.run([binary, "--experimental-dump-help"], check=True,
                                     capture_output=True, text=True).stdout)["command"]
    version = subprocess.run([binary, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    epoch = os.environ.get("SOURCE_DATE_EPOCH") or subprocess.run(
        ["git", "log", "-1", "--format=%ct"], capture_output=True, text=True).stdout.strip() or "0"
    date = datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime("%Y-%m-%d")
    out = [f'.TH FLEET 1 "{date}" "{roff(version)}" "User Commands"',
           ".SH NAME", "fleet \\- " + roff(info.get("abstract", "")),
           ".SH SYNOPSIS", "\\fBfleet\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]",
           ".br", "\\fBfleet\\fR \\fBhelp\\fR \\fICOMMAND\\fR",
           ".br", "\\fBfleet\\fR \\fB\\-\\-version\\fR",
           ".SH DESCRIPTION", roff(info.get("abstract", ""))]
    out.append(".SH COMMANDS")
    for sub in info.get("subcommands", []):
        if sub["commandName"] != "help" and sub.get("shouldDisplay", True):
            command_section(sub, ["fleet", sub["commandName"]], out)
    out += [".SH EXIT STATUS", roff(info.get("discussion", "").replace("Exit status: ", "")),
            ".SH ENVIRONMENT",
            ".TP", "\\fBFLEET_ENV\\fR", "The environment when \\fB\\-\\-env\\fR is not given.",
            ".TP", "\\fBFLEET_PLAYBOOKS\\fR",
            "A folder of host scripts to install instead of the ones built into fleet (as \\fB\\-\\-playbooks\\fR).",
            ".TP", "\\fBSSL_CERT_FILE\\fR, \\fBSSL_CERT_DIR\\fR",
            "The CA certificates that https webhooks and the Pushgateway must chain to (default: the system's bundle).",
            ".TP", "\\fBNO_COLOR\\fR", "Turns colour off.",
            ".SH SHELL COMPLETION",
            "\\fBfleet \\-\\-generate\\-completion\\-script bash\\fR (or \\fBzsh\\fR, \\fBfish\\fR) prints a completion script;",
            "the release tarball carries all three under \\fIshare/\\fR.",
            ".SH SEE ALSO", "The documentation in the docs/ folder of fleet's repository."]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
