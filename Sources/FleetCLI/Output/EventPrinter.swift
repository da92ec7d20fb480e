import FleetCore
import Foundation

extension Rollouts {
    /// Output where no terminal redraws it (CI, files, `--progress plain`): timestamped lines per host and
    /// phase, or NDJSON events with `--json`.
    static func printer(_ context: CommandContext, json: Bool) -> @Sendable (ExecutionEvent) -> Void {
        let color = context.useColor
        return { event in
            let time = clockTime()
            if json {
                context.out(eventJSON(event, time: time) + "\n")
                return
            }
            switch event {
            case .stage(let title): context.err("\(time) -- \(title)\n")
            case .note(let text): context.err("\(time) note: \(text)\n")
            case .warning(let text): context.err("\(time) warning: \(text)\n")
            case .phase(let host, let phase, let batch):
                context.err("\(time) \(host) \(phase)\(batch.map { " (batch \($0))" } ?? "")\n")
            case .output(let host, let phase, _, let line):
                context.err("\(time) \(host) \(phase) | \(line)\n")
            case .hostDone(let report):
                let ok = report.outcome == .updated || report.outcome == .skipped
                var text = "\(time) \(report.host) \(report.outcome.rawValue)"
                if let to = report.to { text += " \(report.from ?? "none") -> \(to)" }
                if report.durationMs > 0 { text += String(format: " (%.1f s)", Double(report.durationMs) / 1000) }
                if let error = report.error { text += ": \(error.split(separator: "\n").first ?? "")" }
                context.err((color ? (ok ? "\u{1B}[32m" : "\u{1B}[31m") + text + "\u{1B}[0m" : text) + "\n")
            }
        }
    }

    static func eventJSON(_ event: ExecutionEvent, time: String) -> String {
        var object: [String: Any] = ["time": time]
        switch event {
        case .stage(let title): object["event"] = "stage"; object["title"] = title
        case .note(let text): object["event"] = "note"; object["text"] = text
        case .warning(let text): object["event"] = "warning"; object["text"] = text
        case .phase(let host, let phase, let batch):
            object["event"] = "phase"; object["host"] = host; object["phase"] = phase; object["batch"] = batch ?? NSNull()
        case .output(let host, let phase, let stream, let line):
            object["event"] = "output"; object["host"] = host; object["phase"] = phase; object["stream"] = stream; object["line"] = line
        case .hostDone(let report):
            object["event"] = "host"; object["host"] = report.host; object["outcome"] = report.outcome.rawValue
            object["error"] = report.error ?? NSNull(); object["exit_code"] = report.exitCode.map { Int($0) } ?? NSNull()
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// HH:MM:SS local time, for log lines.
    static func clockTime() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
