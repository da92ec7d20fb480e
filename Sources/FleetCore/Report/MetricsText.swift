import Foundation

/// The metrics of one deploy or rollback in Prometheus's text exposition format (version 0.0.4), as
/// `docs/monitoring/metrics.md` names them. Pure: the same report and clock give the same text.
public enum MetricsText {
    /// Every `outcome` label value, in push order. The first five are the contract of metrics.md (the alerts
    /// rely on them); `not_started` makes the counts add up to the run's hosts when a rollout halted.
    public static let outcomes = ["ok", "failed", "rolled_back", "skipped", "unreachable", "not_started"]

    /// The body pushed to the Pushgateway. `now` is the end of the run (the timestamps' value).
    public static func render(report: RunReport, now: Date) -> String {
        let ended = number(now.timeIntervalSince1970)
        var lines: [String] = []
        lines.append("# HELP fleet_deploy_duration_seconds Wall time of the last fleet run, from start to the last host's end.")
        lines.append("# TYPE fleet_deploy_duration_seconds gauge")
        lines.append("fleet_deploy_duration_seconds \(number(Double(report.durationMs) / 1000))")

        lines.append("# HELP fleet_deploy_hosts Hosts of the last fleet run, by outcome.")
        lines.append("# TYPE fleet_deploy_hosts gauge")
        let counts = report.metricOutcomeCounts
        for outcome in outcomes {
            lines.append("fleet_deploy_hosts{outcome=\"\(outcome)\"} \(counts[outcome] ?? 0)")
        }

        let releases = report.servedReleases
        if !releases.isEmpty {
            lines.append("# HELP fleet_release_info The release each host serves after the last fleet run (always 1).")
            lines.append("# TYPE fleet_release_info gauge")
            for (host, version) in releases {
                lines.append("fleet_release_info{host=\"\(escape(host))\",version=\"\(escape(version))\"} 1")
            }
        }

        lines.append("# HELP fleet_deploy_last_run_timestamp_seconds When the last fleet run ended, success or not.")
        lines.append("# TYPE fleet_deploy_last_run_timestamp_seconds gauge")
        lines.append("fleet_deploy_last_run_timestamp_seconds \(ended)")
        if report.succeeded {
            lines.append("# HELP fleet_deploy_last_success_timestamp_seconds When the last fleet run that exited 0 ended.")
            lines.append("# TYPE fleet_deploy_last_success_timestamp_seconds gauge")
            lines.append("fleet_deploy_last_success_timestamp_seconds \(ended)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `outcome` label of a host outcome.
    public static func label(_ outcome: HostOutcome) -> String {
        switch outcome {
        case .updated: return "ok"
        case .failed: return "failed"
        case .rolledBack: return "rolled_back"
        case .skipped: return "skipped"
        case .unreachable: return "unreachable"
        case .notStarted: return "not_started"
        }
    }

    /// A label value escaped as the text format wants: backslash, double quote and newline.
    public static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// A sample value: whole numbers without a fraction, others with at most 3 decimals.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf") }
        let rounded = (value * 1000).rounded() / 1000
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        var text = String(format: "%.3f", rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}

extension RunReport {
    /// Hosts per `outcome` label of the metrics, every label present (0 where none).
    public var metricOutcomeCounts: [String: Int] {
        var counts = Dictionary(uniqueKeysWithValues: MetricsText.outcomes.map { ($0, 0) })
        for (outcome, n) in self.counts { counts[MetricsText.label(outcome), default: 0] += n }
        return counts
    }

    /// The release each host serves after this run, in the report's host order, for hosts where it is known:
    /// updated hosts serve `to`; skipped hosts `from` (or `to` when only that is known: already on it); hosts
    /// that failed, rolled back or never started still serve `from`. Unreachable hosts are left out.
    public var servedReleases: [(host: String, version: String)] {
        hosts.compactMap { host -> (host: String, version: String)? in
            let version: String?
            switch host.outcome {
            case .updated: version = host.to
            case .skipped: version = host.from ?? host.to
            case .failed, .rolledBack, .notStarted: version = host.from
            case .unreachable: version = nil
            }
            guard let version, !version.isEmpty else { return nil }
            return (host.host, version)
        }
    }
}
