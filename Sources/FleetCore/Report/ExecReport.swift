import Foundation

/// How `fleet exec` shows results: a block per host for people, a JSON object per host for machines.
public enum ExecReport {
    public static func text(_ result: ExecResult, color: Bool) -> String {
        let seconds = String(format: "%.2fs", Double(result.durationMs) / 1000)
        var status: String
        if result.unreachable {
            status = "UNREACHABLE"
        } else if let signal = result.signal {
            status = "killed by signal \(signal)"
        } else if let code = result.exitStatus {
            status = "exit \(code)"
        } else {
            status = "FAILED"
        }
        let bad = !result.succeeded
        let head = "== \(result.host) (\(status), \(seconds))"
        var lines = [color ? (bad ? "\u{1B}[31m\(head)\u{1B}[0m" : "\u{1B}[32m\(head)\u{1B}[0m") : head]
        lines += split(result.stdout).map { String($0) }
        lines += split(result.stderr).map { "  stderr| \($0)" }
        if let error = result.error {
            lines += error.split(separator: "\n").map { "  error| \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func summary(_ results: [ExecResult]) -> String {
        let ok = results.filter(\.succeeded).count
        let unreachable = results.filter(\.unreachable).count
        let failed = results.count - ok - unreachable
        var parts = ["\(ok) ok"]
        if failed > 0 { parts.append("\(failed) failed") }
        if unreachable > 0 { parts.append("\(unreachable) unreachable") }
        var text = "\(results.count) host\(results.count == 1 ? "" : "s"): " + parts.joined(separator: ", ") + "\n"
        let failing = results.filter { !$0.succeeded }.map(\.host)
        if !failing.isEmpty { text += "failed or unreachable: \(failing.joined(separator: ","))\n" }
        return text
    }

    /// One line of JSON: host, exit_status, signal, stdout, stderr, duration_ms, error.
    public static func json(_ result: ExecResult) -> String {
        var object: [String: Any] = [
            "host": result.host, "stdout": result.stdout, "stderr": result.stderr, "duration_ms": result.durationMs,
        ]
        object["exit_status"] = result.exitStatus.map { Int($0) } ?? NSNull()
        object["signal"] = result.signal ?? NSNull()
        object["error"] = result.error ?? NSNull()
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private static func split(_ text: String) -> [Substring] {
        guard !text.isEmpty else { return [] }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }
}
