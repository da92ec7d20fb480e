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
    /// How the run ends so far: its exit code and why it halted.
    private(set) var verdict = RunVerdict()
    /// The batches started so far.
    private var batchIndex = 0
    /// The lead host's pre-flight, still running (its pull) while the other hosts' pre-flight starts.
    private var pending: Task<Void, Never>?

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

    /// The host failed in `phase`; `counts`: against `max_failures` (not pre-flight's, which changed nothing).
    func fail(_ host: String, phase: String, exitCode: Int32?, error: String, lines: [String], batch: Int? = nil,
              ms: Int? = nil, counts: Bool = true) {
        guard var record = records[host] else { return }
        if record.outcome != .failed && counts { failureCount += 1 }
        record.outcome = .failed
        record.phase = phase
        record.exitCode = exitCode
        record.error = error
        record.lastLines = lines
        if let batch { record.batch = batch }
        if let ms { record.durationMs = ms }
        records[host] = record
    }

    func halt(_ reason: String, exit: Int32) { verdict.halt(reason, exit: exit) }
    func failed() { verdict.failed() }
    func interrupted(_ why: String) { verdict.interrupted(why) }

    func setPending(_ task: Task<Void, Never>) { pending = task }

    /// Waits for the lead host's pre-flight when it still runs.
    func finishPending() async {
        let task = pending
        pending = nil
        await task?.value
    }

    func batchStarted() -> Int {
        batchIndex += 1
        return batchIndex
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

/// How a run ends: the first halt's reason, and its exit code (the first non-zero one; an interrupt's wins).
struct RunVerdict: Sendable {
    var exitCode = ExitStatus.ok
    var halt: String?

    mutating func halt(_ reason: String, exit: Int32) {
        halt = halt ?? reason
        if exitCode == ExitStatus.ok { exitCode = exit }
    }

    mutating func failed() {
        if exitCode == ExitStatus.ok { exitCode = ExitStatus.hostFailed }
    }

    mutating func interrupted(_ why: String) {
        halt = halt ?? why
        exitCode = ExitStatus.interrupted
    }
}
