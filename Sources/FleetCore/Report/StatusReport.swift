import Foundation

/// One host's state as `status.sh` reports it, or why it could not be read.
public struct HostStatus: Sendable, Codable, Equatable {
    public var host: String
    /// False when the host could not be reached or the script could not run.
    public var answered: Bool
    public var error: String?
    public var current: String?
    public var previous: String?
    public var image: String?
    /// blue or green: the live slot.
    public var slot: String?
    /// The live container: healthy, unhealthy, stopped, missing.
    public var container: String?
    /// HTTP status of the health path through nginx (0: no answer).
    public var nginxStatus: Int?
    /// Answered, and the health path through nginx gives the inventory's `health.status`.
    public var healthy: Bool
    /// The fleet lock record on this host, if one is held.
    public var lock: LockRecord?
    /// A host script running right now (it holds the host lock).
    public var running: LockRecord?
    public var deployedAt: String?
    public var deployedBy: String?
    /// The last run this host recorded (its own history), whoever ran it.
    public var lastRun: HostRun?
    /// Why what nginx points at disagrees with the recorded current release (a run cut short after its switch);
    /// nil when they agree. The next deploy or rollback repairs it.
    public var inconsistency: String?
    /// The fleet version whose scripts are installed on the host (`FLEET_VERSION` of its fleet.conf; `+custom`:
    /// from a folder of the user's); nil before the first deploy, or when an earlier fleet installed them.
    public var fleetVersion: String?

    /// True when the host was never reached (connection, host key, authentication).
    public var unreachable: Bool = false
    /// With `processes:`: this host's workers (nil without), and its web process (nil: none on this host).
    public var workers: [WorkerStatus]?
    public var web: String?
    /// "workers only" on a host that runs no web process (it has no slot and no health through nginx; `healthy`
    /// is then its workers'); nil on a host with the web process.
    public var health: String?
    /// Every container of the app on the host (nil from an earlier fleet's scripts, or when docker did not answer),
    /// and those among them the host should not run (nil: none).
    public var appContainers: [AppContainer]?
    public var unexpected: [AppContainer]?

    public init(host: String, error: String, unreachable: Bool) {
        self.host = host
        self.answered = false
        self.error = error
        self.unreachable = unreachable
        self.healthy = false
    }

    /// From `status.sh`'s JSON line.
    public init(host: String, json: JSONValue, expectedStatus: Int, now: Date) {
        self.host = host
        answered = true
        current = json["current"]?["version"]?.text
        previous = json["previous"]?["version"]?.text
        image = json["current"]?["image"]?.text
        slot = json["slot"]?.text ?? json["upstream"]?["slot"]?.text
        container = json["health"]?.text
        nginxStatus = json["nginx"]?["status"]?.int
        healthy = nginxStatus == expectedStatus
        lock = LockRecord(json["lock"]?["fleet"], now: now)
        running = LockRecord(json["lock"]?["host"], now: now)
        deployedAt = json["deployed_at"]?.text
        deployedBy = json["deployed_by"]?.text
        fleetVersion = json["fleet_version"]?.text.flatMap { $0.isEmpty ? nil : $0 }
        lastRun = HostRun(json["last"])
        if json["consistent"]?.bool == false {
            inconsistency = json["inconsistency"]?.text ?? "nginx and the recorded current release disagree"
        }
        if let inconsistency {
            healthy = false
            error = "NGINX AND CURRENT DISAGREE: \(inconsistency); see docs/runbooks/host-disagrees.md"
        } else if !healthy {
            error = "health through nginx answered \(nginxStatus.map(String.init) ?? "nothing") (expected \(expectedStatus))"
                + (current == nil ? "; no release deployed yet: fleet deploy" : "; see docs/runbooks/failed-health-check.md")
        }
        readProcesses(json)
        readContainers(json)
    }
}

/// Table and time formatting shared by status, lock, verify and history.
public enum StatusFormat {
    /// "45s", "12m", "3h05m", "2d04h".
    public static func age(_ seconds: Int) -> String {
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m"
        case ..<86_400: return String(format: "%dh%02dm", seconds / 3600, seconds % 3600 / 60)
        default: return String(format: "%dd%02dh", seconds / 86_400, seconds % 86_400 / 3600)
        }
    }

    /// A message on one line (for a table cell).
    public static func oneLine(_ text: String) -> String {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
    }

    /// Parses `2026-11-27T10:40:00Z` (the host scripts' `date -u` form), with or without fractions.
    public static func parseTime(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// Left-aligned columns separated by two spaces; the last column is not padded.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        return all.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}

extension HostStatus {
    /// The table for people: one row per host; unreachable hosts show their error.
    public static func table(_ statuses: [HostStatus], now: Date) -> String {
        let rows = statuses.flatMap { s -> [[String]] in [row(s, now: now)] + s.processRows() + s.unexpectedRows() }
        return StatusFormat.table(["HOST", "RELEASE", "PREVIOUS", "SLOT", "HEALTH", "LOCK", "FLEET", "LAST DEPLOY"], rows)
    }

    static func row(_ s: HostStatus, now: Date) -> [String] {
        guard s.answered else {
            return [s.host, "-", "-", "-", s.unreachable ? "UNREACHABLE" : "NO ANSWER", "-", "-", StatusFormat.oneLine(s.error ?? "")]
        }
        let health = s.inconsistency != nil ? "DISAGREES (nginx vs current)"
            : s.health == workersOnly ? (s.healthy ? workersOnly : "FAILING (workers)")
            : s.healthy ? "ok" : "FAILING (nginx \(s.nginxStatus.map(String.init) ?? "-"), container \(s.container ?? "-"))"
        var lock = s.lock.map { "held by " + $0.summary } ?? "-"
        if let running = s.running { lock += "; running: " + running.summary }
        var last = s.deployedAt ?? "-"
        if let at = s.deployedAt, let date = StatusFormat.parseTime(at) {
            last += " (\(StatusFormat.age(max(0, Int(now.timeIntervalSince(date))))) ago)"
        }
        if let by = s.deployedBy { last += " by \(by)" }
        return [s.host, s.current ?? "none", s.previous ?? "-", s.slot ?? "-", health, lock, s.fleetVersion ?? "-", last]
    }

    /// One line for the end: how many answered, healthy, locked.
    public static func summary(_ statuses: [HostStatus]) -> String {
        let unreachable = statuses.filter { !$0.answered && $0.unreachable }.count
        let silent = statuses.filter { !$0.answered && !$0.unreachable }.count
        let failing = statuses.filter { $0.answered && !$0.healthy }.count
        let locked = statuses.filter { $0.lock != nil }.count
        let odd = statuses.filter(\.unexpectedProblem).count
        let versions = Set(statuses.compactMap(\.current)).sorted()
        var text = "\(statuses.count) hosts: \(statuses.count - unreachable - silent - failing) healthy"
        if failing > 0 { text += ", \(failing) failing health" }
        if unreachable > 0 { text += ", \(unreachable) unreachable" }
        if silent > 0 { text += ", \(silent) without an answer" }
        if odd > 0 { text += ", \(odd) with unexpected containers" }
        if locked > 0 { text += ", \(locked) locked (see `fleet lock status`)" }
        if !versions.isEmpty { text += "; releases: " + versions.joined(separator: ", ") }
        return text + "\n"
    }
}
