import Foundation

/// Pushes a run's metrics to a Prometheus Pushgateway (see docs/monitoring/metrics.md).
public enum MetricsPusher {
    /// Seconds a push may take before it is given up.
    public static let timeout: Double = 5

    /// POSTs `MetricsText.render(report:now:)` to `<url>/metrics/job/fleet/app/<app>/env/<env>/command/<command>`.
    /// POST replaces only the metrics named in the body, so a failed run keeps the last success's timestamp.
    /// Throws `DeliveryError` (bad URL, unreachable, timeout, non-2xx answer).
    public static func push(report: RunReport, to url: String, now: Date = Date()) async throws {
        let target = try groupURL(base: url, report: report)
        let body = Data(MetricsText.render(report: report, now: now).utf8)
        let response = try await HTTPPost.send(body, to: target, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                               timeout: timeout)
        guard (200..<300).contains(response.status) else {
            let detail = HTTPPost.snippet(response.body)
            throw DeliveryError("\(HTTPPost.redact(url)) answered HTTP \(response.status)\(detail.isEmpty ? "" : ": \(detail)")")
        }
    }

    /// `push`, with a failure turned into a warning for the recap: nil when the push worked. A failed push
    /// never fails a deploy; the warning says what to check.
    public static func pushOrWarn(report: RunReport, to url: String, now: Date = Date()) async -> String? {
        do {
            try await push(report: report, to: url, now: now)
            return nil
        } catch {
            return "warning: metrics not pushed to the Pushgateway: \(error); the deploy's result is unchanged. "
                + "Check the URL (--pushgateway or the inventory's metrics.pushgateway) and that the Pushgateway runs."
        }
    }

    /// The grouping-key URL. Label values that are not plain URL path words are sent base64url-encoded
    /// (`label@base64/VALUE`), as the Pushgateway's API allows.
    public static func groupURL(base: String, report: RunReport) throws -> String {
        guard HTTPPost.checkedURL(base) != nil else {
            throw DeliveryError("Pushgateway URL \(HTTPPost.redact(base)) must be http(s)://HOST[:PORT][/PATH]")
        }
        var root = base
        while root.hasSuffix("/") { root.removeLast() }
        let labels = [("app", report.app), ("env", report.environment), ("command", report.command)]
        return root + "/metrics/job/fleet" + labels.map { "/" + segment($0.0, $0.1) }.joined()
    }

    static func segment(_ label: String, _ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy {
            ($0.value < 128 && (CharacterSet.alphanumerics.contains($0))) || "-_.".unicodeScalars.contains($0)
        }
        if plain { return "\(label)/\(value)" }
        let encoded = Data(value.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        return "\(label)@base64/\(encoded.isEmpty ? "=" : encoded)"
    }
}

/// A Pushgateway at `url` (none when empty).
public struct Pushgateway: MetricsSink {
    public var url: String

    public init(url: String) { self.url = url }

    public func push(_ report: RunReport) async -> String? {
        url.isEmpty ? nil : await MetricsPusher.pushOrWarn(report: report, to: url)
    }
}
