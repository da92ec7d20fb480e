import Foundation

/// A lock record as the host scripts write it (`fleet.lock`, `host.holder`), with its age.
public struct LockRecord: Sendable, Codable, Equatable {
    public var who: String?
    public var pid: Int?
    public var command: String?
    public var version: String?
    public var runId: String?
    public var startedAt: String?
    /// Seconds since `startedAt`, when it parses.
    public var ageSeconds: Int?

    public init(who: String? = nil, pid: Int? = nil, command: String? = nil, version: String? = nil,
                runId: String? = nil, startedAt: String? = nil, ageSeconds: Int? = nil) {
        self.who = who
        self.pid = pid
        self.command = command
        self.version = version
        self.runId = runId
        self.startedAt = startedAt
        self.ageSeconds = ageSeconds
    }

    /// Nil for `null` or anything that is not an object.
    public init?(_ json: JSONValue?, now: Date) {
        guard let json, case .object = json else { return nil }
        who = json["who"]?.text
        pid = json["pid"]?.int
        command = json["command"]?.text
        version = json["version"]?.text
        runId = json["run_id"]?.text
        startedAt = json["started_at"]?.text ?? json["since"]?.text
        ageSeconds = startedAt.flatMap(StatusFormat.parseTime).map { max(0, Int(now.timeIntervalSince($0))) }
    }

    /// "alice@laptop (pid 4242, deploy v2, run r-1)": who holds it, without its age.
    public var holder: String {
        var parts: [String] = []
        if let pid { parts.append("pid \(pid)") }
        let what = [command, version].compactMap { $0 }.joined(separator: " ")
        if !what.isEmpty { parts.append(what) }
        if let runId { parts.append("run \(runId)") }
        return (who ?? "someone") + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
    }

    /// "alice@laptop (pid 4242, deploy v2, run r-1), 5m ago"
    public var summary: String {
        holder + (ageSeconds.map { ", \(StatusFormat.age($0)) ago" } ?? "")
    }
}
