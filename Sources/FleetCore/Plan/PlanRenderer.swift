import Foundation
import SSHEngine

/// Prints a plan: `text` for people, `json` for machines (JSONEncoder, sorted keys, pretty-printed, slashes
/// unescaped, trailing newline). Both show the env file only as its key names and count.
public enum PlanRenderer {
    /// The plan (or any part of it) as `fleet plan --json` prints it.
    public static func json<Part: Encodable>(_ plan: Part) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(plan), let text = String(data: data, encoding: .utf8) else { return "{}\n" }
        return text + "\n"
    }

    public static func text(_ plan: Plan) -> String {
        var out = TextOut()
        header(plan, &out)
        connections(plan, &out)
        if !plan.skipped.isEmpty {
            out.line("")
            out.line("Skipped (\(plan.skipped.count))")
            let width = plan.skipped.map(\.name.count).max() ?? 0
            for s in plan.skipped { out.line("  \(s.name.padded(width))  \(s.reason)") }
        }
        if plan.stages.isEmpty {
            out.line("")
            out.line("Nothing to do: no host needs a change.")
            return out.text
        }
        files(plan, &out)
        let hosts = Dictionary(plan.hosts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var number = 0
        for stage in plan.stages {
            number += 1
            out.line("")
            out.line("\(number). " + stageHeading(stage, plan))
            for hs in stage.hosts { hostSteps(hs, hosts[hs.host], &out) }
        }
        if !plan.onFailure.isEmpty {
            out.line("")
            out.line("If the rollout halts (--rollback-on-failure): on each host this run deployed")
            for hs in plan.onFailure { hostSteps(hs, hosts[hs.host], &out) }
        }
        if !plan.finally.isEmpty {
            out.line("")
            out.line("Always, however the run ends: on each host whose lock this run took")
            for hs in plan.finally { hostSteps(hs, hosts[hs.host], &out) }
        }
        return out.text
    }

    static func header(_ plan: Plan, _ out: inout TextOut) {
        let what: String
        switch plan.command {
        case .deploy: what = "deploy \(plan.app) \(plan.version ?? "?") to \(plan.environment)"
        case .rollback: what = "roll back \(plan.app) in \(plan.environment) to \(plan.rollbackTo ?? "the previous release")"
        }
        out.line("Plan: \(what)")
        var rows: [(String, String)] = [("inventory", plan.inventory)]
        rows.append(("image", plan.image + (plan.version.map { ":" + $0 } ?? "")))
        rows.append(("run", "\(plan.run.runId) by \(plan.run.who), pid \(plan.run.pid), started \(plan.run.startedAt)"))
        let selected = plan.hosts.count + plan.skipped.count
        rows.append(("hosts", "\(plan.hosts.count) to change, \(plan.skipped.count) skipped, of \(selected) selected"
            + (plan.leadHost.map { "; lead host \($0) (takes the lock first, runs the image check and hooks)" } ?? "")))
        rows.append(("unreachable", plan.policy.skipUnreachable ? "pre-flight leaves out a host it cannot reach (--skip-unreachable)"
            : "a host pre-flight cannot reach stops the run before anything changes"))
        let p = plan.policy
        let spec = "[" + p.batch.map(\.description).joined(separator: ", ") + "]"
        rows.append(("batches", "\(spec) -> \(p.batchSizes.map(String.init).joined(separator: ", ")) (up to \(p.parallel) hosts in flight)"))
        rows.append(("pause", p.pauseMs > 0 ? "\(formatMs(p.pauseMs)) between batches" : "none"))
        if let limits = plan.hostTime { rows += hostTime(limits, hosts: plan.hosts.count) }
        for p in plan.processes ?? [] { rows.append(("process", processLine(p))) }
        let halt = "halt after the running batch once more than \(p.maxFailures) host\(p.maxFailures == 1 ? "" : "s") failed"
        if plan.command == .deploy {
            rows.append(("on failure", halt + (p.rollbackOnFailure
                ? "; then roll back the hosts this run deployed" : "; hosts already deployed stay on \(plan.version ?? "?")")))
            if let env = plan.envFile, let origins = env.origins {
                let keys = zip(env.keys, origins).map { "\($0) (\($1))" }.joined(separator: ", ")
                rows.append(("env", "\(env.count) key\(env.count == 1 ? "" : "s"): \(keys); values not shown"))
                rows.append(("env file", env.path ?? "none"))
            } else if let env = plan.envFile, let path = env.path {
                rows.append(("env file", "\(path): \(env.count) key\(env.count == 1 ? "" : "s")\(env.keys.isEmpty ? "" : " (" + env.keys.joined(separator: ", ") + ")"), values not shown"))
            } else {
                rows.append(("env file", "none (an empty env file is uploaded)"))
            }
            if let r = plan.registry {
                rows.append(("registry", "\(r.server) as \(r.username)\(r.usernameEnv.map { " ({env: \($0)})" } ?? ""), password {env: \(r.passwordEnv)} "
                    + "(not shown): pre-flight logs in (password on stdin) into the app's own docker config folder, pulls, then removes the login"))
            }
        } else {
            rows.append(("on failure", halt))
        }
        if let config = plan.sshConfig { rows.append(("ssh config", sshConfig(config))) }
        for warning in plan.warnings ?? [] { rows.append(("warning", warning)) }
        for (k, v) in rows { out.line("  \(k.padded(11)) \(v)") }
    }

    /// Inline files (fleet.conf, container.args) shown once per distinct content, with the hosts that get it.
    static func files(_ plan: Plan, _ out: inout TextOut) {
        var order: [UploadSource] = []
        var hostsBySource: [UploadSource: [String]] = [:]
        for stage in plan.stages where stage.kind == .preflight || stage.kind == .lock {
            for hs in stage.hosts {
                for file in hs.steps.flatMap({ $0.files ?? [] }) where file.source.kind == .inline {
                    if hostsBySource[file.source] == nil { order.append(file.source) }
                    hostsBySource[file.source, default: []].append(hs.host)
                }
            }
        }
        for source in order {
            let hosts = hostsBySource[source] ?? []
            let content = source.content ?? ""
            out.line("")
            out.line("\(source.name) for \(hosts.count == plan.hosts.count ? "every host" : hosts.joined(separator: ", ")):")
            if source.name == "container.args" {
                // NUL-separated arguments: shown as the words docker run is given.
                let words = content.split(separator: "\0").map(String.init)
                out.line("    docker run ... " + ShellWords.join(words))
                continue
            }
            if source.name.hasPrefix("process-") {
                // NUL-separated words too (see ProcessSteps.swift).
                let words = content.split(separator: "\0").map(String.init)
                out.line("    " + (words.isEmpty ? "(empty: the image's own command)" : ShellWords.join(words)))
                continue
            }
            for line in content.split(separator: "\n", omittingEmptySubsequences: false).dropLast() { out.line("    \(line)") }
        }
    }

    static func stageHeading(_ stage: Stage, _ plan: Plan) -> String {
        switch stage.kind {
        case .lock:
            return "Pre-flight on \(stage.hosts.first?.host ?? "?") first: its lock decides between runs started at once; the other hosts "
                + "start once it is held (a failure stops the run before anything changes)"
        case .preflight:
            return "Pre-flight on \(stage.hosts.count) host\(stage.hosts.count == 1 ? "" : "s") (in parallel; any failure stops the run before anything changes)"
        case .imageCheck:
            let strict = stage.hosts.first?.steps.first?.check?.strict == true
            return "Image check on \(stage.hosts.first?.host ?? "?"), where pre-flight pulled it ("
                + (strict ? "--strict-image: a problem refuses the run, nothing changed)" : "problems are warnings; --strict-image refuses)")
        case .hook:
            return "Hook \(stage.title) on \(stage.hosts.first?.host ?? "?") (a failure halts the run)"
        case .batch:
            let verifies = stage.hosts.contains { $0.steps.last?.check?.kind == .verify }
            return "Batch \(stage.title.dropFirst("batch ".count)): " + stage.hosts.map(\.host).joined(separator: ", ")
                + (verifies ? " (a host whose endpoints do not answer as expected counts as failed)" : "")
        case .pause:
            return "Pause \(formatMs(stage.pauseMs ?? 0))"
        case .undo, .release:
            return stage.title
        }
    }

    static func hostSteps(_ hs: HostSteps, _ target: PlanHost?, _ out: inout TextOut) {
        var title = "   \(hs.host)"
        if let t = target {
            let via = t.via.map { " via " + $0.map(\.description).joined(separator: ", ") } ?? ""
            title += " (\(t.user)@\(t.address):\(t.port)\(via))"
        }
        if let probe = target?.probe {
            if let e = probe.error { title += " probe: \(e)" } else {
                title += " now: \(probe.release ?? "no release")" + (probe.slot.map { ", \($0)" } ?? "") + (probe.lock.map { ", locked by \($0)" } ?? "")
            }
        }
        if let processes = target?.processes { title += " runs: " + processes.joined(separator: ", ") }
        out.line(title)
        for step in hs.steps { out.line("     - " + describe(step)) }
    }

    static func describe(_ step: Step) -> String {
        switch step.kind {
        case .run:
            let timeout = step.timeoutSeconds.map { ", timeout \($0)s" } ?? ""
            let input = step.stdin.map { "; on stdin: " + envFile($0) } ?? ""
            return "run \(step.command ?? "")\n         (\(step.purpose)\(timeout)\(input)\(step.check.map(expectation) ?? ""))"
        case .install:
            let timeout = step.timeoutSeconds.map { ", timeout \($0)s" } ?? ""
            var text = "install \(step.files?.count ?? 0) files in one tar stream on stdin, each renamed into place whole:"
            for file in step.files ?? [] {
                let what = switch file.source.kind {
                case .inline: "\(file.source.name) (shown above)"
                case .envFile, .registryPassword: envFile(file.source)
                case .playbook: file.source.localPath ?? file.source.name
                }
                text += "\n         \(what) -> \(file.path) (mode \(file.mode))"
            }
            return text + "\n       run \(step.command ?? "")\n         (\(step.purpose)\(timeout))"
        }
    }

    /// The most one host's swap takes, and of what; hosts that run no web process have no nginx health wait.
    static func hostTime(_ t: HostTime, hosts: Int) -> [(String, String)] {
        let workers = t.workers.map { "workers: check \($0.check)s, stop \($0.stop)s before SIGKILL" }
        let web = "the swap takes at most \(t.total)s (health wait \(t.health)s twice, drain \(t.drain)s, stop \(t.stop)s before SIGKILL, "
            + "docker \(t.docker)s" + (workers.map { ", " + $0 } ?? "") + ")"
        guard let only = t.workersOnly else { return [("per host", web)] }
        let bare = "the swap takes at most \(t.workersOnlyTotal)s, no nginx health wait (\(workers.map { $0 + ", " } ?? "")docker \(t.docker)s)"
        if only.count == hosts { return [("per host", "workers only: " + bare)] }
        return [("per host", "with the web process: " + web), ("per host", "workers only (\(only.joined(separator: ", "))): " + bare)]
    }

    /// One process in words: `job (worker) on tags worker: bin/jobs start; check ...; stop_timeout 120s`.
    static func processLine(_ p: ProcessSummary) -> String {
        var text = "\(p.name) (\(p.role.rawValue)) on \(p.hosts): " + (p.cmd.map(ShellWords.join) ?? "the image's command")
        if let check = p.check { text += "; check: \(check)" }
        return text + "; stop_timeout \(p.stopTimeout)s" + (p.role == .worker ? "; docker run ... " + ShellWords.join(p.dockerArgs) : "")
    }

    /// What a check step expects, in words.
    static func expectation(_ check: StepCheck) -> String {
        switch check.kind {
        case .image:
            let size = (check.maxSizeMB ?? 0) > 0 ? "\(check.maxSizeMB ?? 0) MB at most" : "no size budget"
            return "; expects: a non-root USER, a HEALTHCHECK, \(size)"
        case .verify:
            return "; expects: " + (check.endpoints ?? []).map { "\($0.path) \($0.status)" }.joined(separator: ", ")
        }
    }

    /// `ssh.config`'s file and the keywords it ignored: `~/.ssh/config; ignored ForwardAgent (~/.ssh/config:12)`.
    static func sshConfig(_ c: SSHConfigSummary) -> String {
        guard c.found else { return "\(c.file) (not found: nothing applied)" }
        guard !c.ignored.isEmpty else { return "\(c.file); no keyword ignored" }
        return "\(c.file); ignored " + c.ignored.map { "\($0.keyword) (\($0.file):\($0.line))" }.joined(separator: ", ")
    }

    /// The env file by path and key names; its values are never shown. The registry password by its variable.
    static func envFile(_ s: UploadSource) -> String {
        if s.kind == .registryPassword { return "the registry password, {env: \(s.env ?? "?")}, value not shown" }
        let keys = s.keys ?? []
        let list = "[\(s.count ?? keys.count) keys: \(keys.joined(separator: ", ")); values not shown]"
        guard let path = s.localPath else {
            return keys.isEmpty ? "an empty env file" : "the values of env: in the inventory \(list), env file none"
        }
        return "env file \(path) \(list)"
    }

    static func formatMs(_ ms: Int) -> String {
        if ms % 60_000 == 0, ms >= 60_000 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

struct TextOut {
    var text = ""
    mutating func line(_ s: String) { text += s; text += "\n" }
}

extension String {
    func padded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
