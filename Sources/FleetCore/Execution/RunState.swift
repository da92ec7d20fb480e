import Foundation
import SSHEngine

/// The executor's bookkeeping: each host's report as the run goes (sessions belong to `Sessions`).
actor RunState {
    private var records: [String: HostReport] = [:]
    private let order: [String]
    /// Hosts whose lock this run took (or may have: its lock step was cut off), released however the run ends;
    /// never a host whose lock another run holds.
    private(set) var locked: Set<String> = []
    private(set) var lockHeld: [(host: String, message: String)] = []
    private(set) var failureCount = 0

    init(hosts: [String]) {
        order = hosts
        for host in hosts { records[host] = HostReport(host: host, outcome: .notStarted, phase: "") }
    }

    func lockTaken(_ host: String) {
        locked.insert(host)
    }

    /// False once a host failed or was unreachable: no further stage touches it (but its lock is released).
    func usable(_ host: String) -> Bool {
        guard let outcome = records[host]?.outcome else { return false }
        return outcome != .failed && outcome != .unreachable
    }

    func unreachable(_ host: String, error: String) {
        records[host]?.outcome = .unreachable
        records[host]?.phase = "connect"
        records[host]?.error = error
    }

    func fail(_ host: String, phase: String, exitCode: Int32?, error: String, lines: [String], batch: Int? = nil,
              ms: Int? = nil) {
        guard var record = records[host] else { return }
        if record.outcome != .failed && phase != "pre-flight" { failureCount += 1 }
        record.outcome = .failed
        record.phase = phase
        record.exitCode = exitCode
        record.error = error
        record.lastLines = lines
        if let batch { record.batch = batch }
        if let ms { record.durationMs = ms }
        records[host] = record
    }

    func lockHeld(_ host: String, message: String) {
        lockHeld.append((host, message))
    }

    func updated(_ host: String, batch: Int?, result: JSONValue?, ms: Int) {
        let unchanged = result?["changed"]?.bool == false
        records[host]?.outcome = unchanged ? .skipped : .updated
        if unchanged { records[host]?.lastLines = ["already on \(result?["version"]?.text ?? "the target"), healthy"] }
        records[host]?.phase = "done"
        records[host]?.batch = batch
        records[host]?.durationMs = ms
        records[host]?.from = result?["previous"]?.text
        records[host]?.to = result?["version"]?.text
    }

    func rolledBack(_ host: String) {
        records[host]?.outcome = .rolledBack
        records[host]?.phase = "undo"
    }

    func notStarted(_ host: String) {
        if records[host]?.outcome == .notStarted { records[host]?.phase = "not started" }
    }

    func hosts(with outcome: HostOutcome) -> [String] {
        order.filter { records[$0]?.outcome == outcome }
    }

    func report(_ host: String) -> HostReport {
        records[host] ?? HostReport(host: host, outcome: .notStarted, phase: "")
    }

    func reports(skipped: [SkippedHost]) -> [HostReport] {
        order.compactMap { records[$0] } + skipped.map { HostReport(host: $0.name, outcome: .skipped, phase: "skipped", error: nil, lastLines: [$0.reason]) }
    }
}
