import Foundation

/// The start of a deploy or rollback, as sent to webhooks. Holds no secret.
public struct RunStart: Sendable, Codable, Equatable {
    public var runId: String
    /// "deploy" or "rollback".
    public var command: String
    public var app: String
    public var environment: String
    public var image: String
    /// Target version (deploy) or `--to` (rollback), nil for "the previous release".
    public var version: String?
    public var who: String
    public var startedAt: String
    /// The hosts this run targets, in rollout order.
    public var hosts: [String]

    public init(runId: String, command: String, app: String, environment: String, image: String, version: String?,
                who: String, startedAt: String, hosts: [String]) {
        self.runId = runId
        self.command = command
        self.app = app
        self.environment = environment
        self.image = image
        self.version = version
        self.who = who
        self.startedAt = startedAt
        self.hosts = hosts
    }
}

/// What a webhook is told.
public enum NotifyEvent: Sendable, Equatable {
    case started(RunStart)
    case finished(RunReport)
}

/// The payload's shape: fleet's JSON, or Slack-compatible `{"text": "..."}` (Slack, Mattermost, Rocket.Chat,
/// Discord's `/slack` endpoints, Teams workflows that read `text`).
public enum NotifyFormat: String, Sendable, Equatable, CaseIterable {
    case json
    case slack
}

/// Sends deploy and rollback events to webhooks. A failed delivery is a warning, never a failed run.
public enum Notifier {
    /// Seconds one delivery may take.
    public static let timeout: Double = 5

    /// POSTs the event to every URL in parallel. Returns one warning per failed delivery (empty: all went
    /// through). `redacting` holds values that must never leave this machine (the env file's values): they
    /// are masked in the report's free text (errors, last lines, halt reason) before anything is sent.
    public static func send(event: NotifyEvent, to urls: [String], format: NotifyFormat,
                            redacting secrets: [String] = [], timeout: Double = Notifier.timeout) async -> [String] {
        guard !urls.isEmpty else { return [] }
        let body = payload(event: event, format: format, redacting: secrets)
        let warnings = await withTaskGroup(of: (Int, String?).self) { group in
            for (index, url) in urls.enumerated() {
                group.addTask {
                    do {
                        let response = try await HTTPPost.send(body, to: url, contentType: "application/json", timeout: timeout)
                        guard (200..<300).contains(response.status) else {
                            let detail = HTTPPost.snippet(response.body)
                            return (index, "\(HTTPPost.redact(url)) answered HTTP \(response.status)\(detail.isEmpty ? "" : ": \(detail)")")
                        }
                        return (index, nil)
                    } catch {
                        return (index, "\(error)")
                    }
                }
            }
            var found: [(Int, String)] = []
            for await (index, warning) in group { if let warning { found.append((index, warning)) } }
            return found.sorted { $0.0 < $1.0 }
        }
        return warnings.map { index, message in
            "warning: webhook \(index + 1) of \(urls.count) (\(eventName(event))) not delivered: \(message); "
                + "the run's result is unchanged. Check notify.webhooks in the inventory and that the receiver answers 2xx."
        }
    }

    /// The exact bytes sent for an event.
    public static func payload(event: NotifyEvent, format: NotifyFormat, redacting secrets: [String] = []) -> Data {
        let event = redact(event, secrets: secrets)
        switch format {
        case .slack:
            return encode(["text": NotifyText.text(event)])
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            switch event {
            case .started(let start):
                return (try? encoder.encode(Envelope(event: "started", start: start, report: nil))) ?? Data()
            case .finished(let report):
                return (try? encoder.encode(Envelope(event: "finished", start: nil, report: report))) ?? Data()
            }
        }
    }

    struct Envelope: Encodable {
        var event: String
        var start: RunStart?
        var report: RunReport?
    }

    static func eventName(_ event: NotifyEvent) -> String {
        switch event {
        case .started(let s): return "\(s.command) started"
        case .finished(let r): return "\(r.command) finished"
        }
    }

    static func encode(_ object: [String: String]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    /// Values this short are not masked: they would mangle every number and word of the text.
    public static let shortestMaskedValue = 4

    static func redact(_ event: NotifyEvent, secrets: [String]) -> NotifyEvent {
        let values = Set(secrets.filter { $0.count >= shortestMaskedValue }).sorted { $0.count > $1.count }
        guard !values.isEmpty, case .finished(var report) = event else { return event }
        func mask(_ text: String) -> String {
            values.reduce(text) { $0.replacingOccurrences(of: $1, with: "[hidden]") }
        }
        report.haltReason = report.haltReason.map(mask)
        for i in report.hosts.indices {
            report.hosts[i].error = report.hosts[i].error.map(mask)
            report.hosts[i].lastLines = report.hosts[i].lastLines.map(mask)
        }
        return .finished(report)
    }
}

/// The inventory's webhooks (`notify`), with the env file's values and the registry password masked in what is sent.
public struct Webhooks: RunNotifier {
    public var urls: [String]
    public var format: NotifyFormat
    public var secrets: [String]

    public init(_ inventory: Inventory) {
        urls = inventory.notify.webhooks
        format = inventory.notify.format
        secrets = (inventory.envFile?.secretValues ?? []) + (inventory.registry.map { [$0.password.reveal()] } ?? [])
    }

    public func started(_ start: RunStart) async -> [String] {
        await Notifier.send(event: .started(start), to: urls, format: format, redacting: secrets)
    }

    public func finished(_ report: RunReport) async -> [String] {
        await Notifier.send(event: .finished(report), to: urls, format: format, redacting: secrets)
    }
}
