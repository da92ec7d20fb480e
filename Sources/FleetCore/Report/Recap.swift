import Foundation

/// The end-of-run recap for people: hosts grouped by outcome, identical errors merged, each failure with its
/// host, phase, exit code and the last lines of its output, then what to do next.
public enum Recap {
    public static func text(_ report: RunReport, color: Bool = false) -> String {
        var lines: [String] = []
        let title = "\(report.command) \(report.version ?? "previous release") of \(report.app) to \(report.environment)"
        let seconds = String(format: "%.1f s", Double(report.durationMs) / 1000)
        lines.append(paint("== \(title): \(verdict(report)) in \(seconds) (run \(report.runId))", report.succeeded ? 32 : 31, color))
        if let reason = report.haltReason { lines.append("halted: \(reason)") }
        for outcome in HostOutcome.allCases {
            let hosts = report.hosts.filter { $0.outcome == outcome }
            guard !hosts.isEmpty else { continue }
            lines.append("\(label(outcome)) (\(hosts.count)): \(hosts.map(\.host).joined(separator: ", "))")
        }
        // Failures, identical ones merged.
        let failing = report.hosts.filter { $0.error != nil && ($0.outcome == .failed || $0.outcome == .unreachable) }
        var groups: [(key: String, hosts: [HostReport])] = []
        for host in failing {
            let key = "\(host.phase)|\(host.exitCode.map(String.init) ?? "-")|\(normalise(host.error ?? "", host: host.host))"
            if let index = groups.firstIndex(where: { $0.key == key }) { groups[index].hosts.append(host) } else { groups.append((key, [host])) }
        }
        for group in groups {
            let first = group.hosts[0]
            let names = group.hosts.map(\.host).joined(separator: ", ")
            let code = first.exitCode.map { ", exit \($0)" } ?? ""
            lines.append(paint("failed: \(names) (\(first.phase)\(code))", 31, color))
            let message = normalise(first.error ?? "", host: first.host)
            lines += message.split(separator: "\n").map { "  \($0)" }
            lines += first.lastLines.map { "  | \($0)" }
            if let runbook = runbook(exitCode: first.exitCode) { lines.append("  runbook: \(runbook)") }
        }
        if let next = nextSteps(report) { lines.append(next) }
        return lines.joined(separator: "\n") + "\n"
    }

    static func verdict(_ report: RunReport) -> String {
        switch report.exitCode {
        case 0: return "done"
        case 3: return "refused, lock held"
        case 4: return "pre-flight failed, nothing changed"
        case 130: return "interrupted"
        default: return report.haltReason == nil ? "finished with failures (within max_failures)" : "halted"
        }
    }

    /// The runbook for a host script's exit status (docs/playbooks.md lists them), when one covers it.
    static func runbook(exitCode: Int32?) -> String? {
        switch exitCode {
        case 11, 14, 18: return "docs/runbooks/failed-health-check.md"
        case 20, 21: return "docs/runbooks/host-disagrees.md"
        default: return nil
        }
    }

    static func label(_ outcome: HostOutcome) -> String {
        switch outcome {
        case .updated: return "updated"
        case .skipped: return "skipped"
        case .failed: return "failed"
        case .notStarted: return "not started"
        case .unreachable: return "unreachable"
        case .rolledBack: return "rolled back"
        }
    }

    /// Drops the leading "host: " so the same error on many hosts reads once.
    static func normalise(_ error: String, host: String) -> String {
        error.hasPrefix("\(host): ") ? String(error.dropFirst(host.count + 2)) : error
    }

    /// How the next command names this run's inventory: `--env NAME` for `inventory/NAME.yml` (what `--env`
    /// reads), else `--inventory PATH` (the run used `-i FILE`, and `--env` would name another file).
    static func inventoryOption(_ report: RunReport) -> String {
        let folder = ((report.inventory as NSString).deletingLastPathComponent as NSString).lastPathComponent
        let file = (report.inventory as NSString).lastPathComponent
        if folder == "inventory", file == report.environment + ".yml" { return "--env \(report.environment)" }
        return "--inventory \(ShellWords.quote(report.inventory))"
    }

    static func nextSteps(_ report: RunReport) -> String? {
        let env = inventoryOption(report)
        switch report.exitCode {
        case 0: return nil
        case 3: return "next: wait for the other run, or if it is gone: fleet lock status \(env); fleet lock release \(env)"
        case 4: return "next: fix the hosts above (or add --skip-unreachable) and run the same command again"
        case 130: return "next: fleet status \(env) shows where each host is; run the same command again to continue"
        default:
            let moved = report.hosts.filter { $0.outcome == .updated }.map(\.host)
            var text = report.command == "deploy"
                ? "next: fleet status \(env); fleet deploy \(env) --retry-failed \(report.version ?? "")"
                : "next: fleet status \(env); once fixed: fleet rollback \(env) --hosts "
                    + report.hosts.filter { $0.outcome == .failed || $0.outcome == .unreachable }.map(\.host).joined(separator: ",")
            if !moved.isEmpty && report.command == "deploy" {
                text += "; or go back: fleet rollback \(env) --hosts \(moved.joined(separator: ","))"
            }
            return text
        }
    }

    private static func paint(_ text: String, _ code: Int, _ color: Bool) -> String {
        color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
