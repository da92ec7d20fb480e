import Foundation

/// The recap of a run as chat text (Slack's `text`): one headline, the counts, and the hosts that need
/// someone's attention with what happened to them. Plain text, no markup beyond Slack's own escaping.
public enum NotifyText {
    /// Hosts listed by name at most; the rest are counted.
    public static let maxListedHosts = 10
    /// Output lines shown per failed host at most.
    public static let maxLastLines = 3

    public static func text(_ event: NotifyEvent) -> String {
        switch event {
        case .started(let s): return started(s)
        case .finished(let r): return finished(r)
        }
    }

    static func started(_ s: RunStart) -> String {
        let target = s.version.map { "\(s.app) \($0)" } ?? "\(s.app) to the previous release"
        let hosts = s.hosts.count == 1 ? "1 host" : "\(s.hosts.count) hosts"
        return escape("fleet \(s.command) of \(target) to \(s.environment) started by \(s.who) (run \(s.runId)): "
            + "\(hosts): \(list(s.hosts))")
    }

    static func finished(_ r: RunReport) -> String {
        let target = r.version.map { "\(r.app) \($0)" } ?? "\(r.app) to the previous release"
        let seconds = MetricsText.number(Double(r.durationMs) / 1000)
        let verdict = r.succeeded ? "succeeded" : "FAILED (exit \(r.exitCode))"
        var lines = ["fleet \(r.command) of \(target) to \(r.environment) \(verdict) in \(seconds) s (run \(r.runId), by \(r.who))"]
        let counts = r.metricOutcomeCounts
        let parts = MetricsText.outcomes.compactMap { name -> String? in
            let n = counts[name] ?? 0
            return n == 0 && name != "ok" ? nil : "\(n) \(name.replacingOccurrences(of: "_", with: " "))"
        }
        lines.append("hosts: " + parts.joined(separator: ", "))
        if let halt = r.haltReason, !halt.isEmpty { lines.append("halted: \(halt)") }
        let attention = r.hosts.filter { [.failed, .unreachable, .rolledBack].contains($0.outcome) }
        for host in attention.prefix(maxListedHosts) {
            var what = "\(MetricsText.label(host.outcome)): \(host.host) (\(host.phase)"
            if let code = host.exitCode { what += ", exit \(code)" }
            what += ")"
            if let error = host.error, !error.isEmpty { what += ": \(error)" }
            if let from = host.from { what += "; serves \(from)" }
            lines.append(what)
            for line in host.lastLines.suffix(maxLastLines) { lines.append("    \(line)") }
        }
        if attention.count > maxListedHosts {
            lines.append("... and \(attention.count - maxListedHosts) more hosts (see the JSON report)")
        }
        let notStarted = r.hosts.filter { $0.outcome == .notStarted }.map(\.host)
        if !notStarted.isEmpty { lines.append("not started: \(list(notStarted))") }
        return escape(lines.joined(separator: "\n"))
    }

    static func list(_ names: [String]) -> String {
        let shown = names.prefix(maxListedHosts).joined(separator: ", ")
        return names.count > maxListedHosts ? "\(shown) and \(names.count - maxListedHosts) more" : shown
    }

    /// Slack's escaping: `&`, `<` and `>` are control characters in message text.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
