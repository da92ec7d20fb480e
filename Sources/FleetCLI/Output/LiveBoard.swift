import FleetCore
import Foundation

/// What the live view shows, as plain state and pure rendering (no terminal, no clock of its own), so a test
/// can check every frame.
struct LiveBoard {
    struct Style: Equatable {
        var color: Bool
        var unicode: Bool
    }

    enum Tone { case dim, good, bad, busy }

    struct Row {
        var phase: String?
        var batch: Int?
        var since: ContinuousClock.Instant?
        /// In a phase now (a new stage ends every phase: the executor's stages are barriers).
        var active = false
        var report: HostReport?
    }

    let hosts: [String]
    let style: Style
    let started: ContinuousClock.Instant
    private(set) var rows: [String: Row]
    private(set) var stageTitle = ""
    private let nameWidth: Int

    init(hosts: [String], style: Style, started: ContinuousClock.Instant) {
        self.hosts = hosts
        self.style = style
        self.started = started
        rows = Dictionary(uniqueKeysWithValues: hosts.map { ($0, Row()) })
        nameWidth = min(24, hosts.map(\.count).max() ?? 4)
    }

    mutating func stage(_ title: String, now: ContinuousClock.Instant) {
        stageTitle = title
        for host in hosts where rows[host]?.active == true { rows[host]?.active = false }
    }

    mutating func phase(_ host: String, _ phase: String, batch: Int?, now: ContinuousClock.Instant) {
        var row = rows[host] ?? Row()
        // Releasing the lock is bookkeeping: a host that is done stays shown as done.
        if phase == "release", row.report != nil { return }
        row.phase = phase
        row.batch = batch ?? row.batch
        row.since = now
        row.active = true
        rows[host] = row
    }

    mutating func done(_ report: HostReport) {
        var row = rows[report.host] ?? Row()
        row.report = report
        row.active = false
        rows[report.host] = row
    }

    var doneCount: Int { hosts.filter { rows[$0]?.report != nil }.count }
    var failedCount: Int {
        hosts.filter { [.failed, .unreachable].contains(rows[$0]?.report?.outcome) }.count
    }

    /// Host lines (as many as fit, hosts at work first) and the progress bar, each at most `columns - 1` wide.
    func frame(now: ContinuousClock.Instant, columns: Int, rows terminalRows: Int) -> [String] {
        let width = max(20, columns - 1)
        let room = max(1, terminalRows - 2)
        var shown = hosts
        var more = ""
        if hosts.count > room {
            let busy = hosts.filter { rows[$0]?.active == true }
            let failed = hosts.filter { !(rows[$0]?.active ?? false) && [.failed, .unreachable].contains(rows[$0]?.report?.outcome) }
            shown = Array((busy + failed).prefix(room - 1))
            let hidden = hosts.count - shown.count
            let waiting = hosts.filter { !shown.contains($0) && rows[$0]?.report == nil }.count
            more = styled(clip("\(style.unicode ? "…" : "...") \(hidden) more: \(hidden - waiting) done, \(waiting) waiting", width), .dim)
        }
        var lines = shown.map { hostLine($0, now: now, width: width) }
        if !more.isEmpty { lines.append(more) }
        lines.append(progressLine(now: now, width: width))
        return lines
    }

    func hostLine(_ host: String, now: ContinuousClock.Instant, width: Int) -> String {
        let row = rows[host] ?? Row()
        if let report = row.report, !row.active { return doneLine(report, width: width) }
        let name = host.padding(toLength: max(nameWidth, host.count), withPad: " ", startingAt: 0)
        guard row.active, let phase = row.phase else {
            let state = row.phase.map { "\($0) done, waiting" } ?? "waiting"
            return styled(clip("  \(name)  \(state)", width), .dim)
        }
        let batch = row.batch.map { "batch \($0)  " } ?? ""
        let elapsed = row.since.map { Self.seconds(now - $0) } ?? ""
        let mark = style.unicode ? "›" : ">"
        return styled(clip("\(mark) \(name)  \(batch)\(phase.padding(toLength: max(12, phase.count), withPad: " ", startingAt: 0)) \(elapsed)", width), .busy)
    }

    func doneLine(_ report: HostReport, width: Int) -> String {
        let ok = report.outcome == .updated || report.outcome == .skipped || report.outcome == .rolledBack
        let mark = ok ? (style.unicode ? "✓" : "+") : (style.unicode ? "✗" : "x")
        let name = report.host.padding(toLength: max(nameWidth, report.host.count), withPad: " ", startingAt: 0)
        var text = "\(mark) \(name)  \(report.outcome.rawValue.replacingOccurrences(of: "_", with: " "))"
        if let to = report.to, report.outcome == .updated { text += " \(report.from ?? "none") -> \(to)" }
        if report.durationMs > 0 { text += String(format: " (%.1f s)", Double(report.durationMs) / 1000) }
        if !ok {
            text += " in \(report.phase)"
            if let code = report.exitCode { text += ", exit \(code)" }
            if let error = report.error?.split(separator: "\n").first { text += ": \(error)" }
        }
        return styled(clip(text, width), ok ? .good : .bad)
    }

    /// `[#####.....] 6/10 hosts done, 1 failed  batch 2 of 2 (web5, web6)  0:23`
    func progressLine(now: ContinuousClock.Instant, width: Int, final: Bool = false) -> String {
        let total = max(1, hosts.count)
        let cells = 20
        let filled = doneCount * cells / total
        let (full, empty) = style.unicode ? ("█", "░") : ("#", ".")
        let bar = "[" + String(repeating: full, count: filled) + String(repeating: empty, count: cells - filled) + "]"
        var text = "\(bar) \(doneCount)/\(hosts.count) hosts done"
        if failedCount > 0 { text += ", \(failedCount) failed" }
        text += "  \(Self.clock(now - started))"
        if !stageTitle.isEmpty && !final { text += "  \(stageTitle)" }
        return styled(clip(text, width), failedCount > 0 ? .bad : .dim)
    }

    func styled(_ text: String, _ tone: Tone) -> String {
        guard style.color else { return text }
        let code = switch tone {
        case .dim: "2"
        case .good: "32"
        case .bad: "31"
        case .busy: "36"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    private func clip(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : String(text.prefix(max(0, width - 1))) + (style.unicode ? "…" : "~")
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.0fs", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    static func clock(_ duration: Duration) -> String {
        let total = Int(duration.components.seconds)
        return String(format: "%d:%02d", total / 60, total % 60)
    }
}
