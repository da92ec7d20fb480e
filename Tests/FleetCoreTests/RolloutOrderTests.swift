import Foundation
import Testing
@testable import FleetCore

/// What a rollout's collaborators were asked, in order, by all of them together.
final class CallLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []
    func add(_ entry: String) { lock.lock(); entries.append(entry); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return entries }
}

struct LoggingRecorder: RunRecorder {
    let log: CallLog
    var fails = false
    func record(_ report: RunReport) throws {
        log.add("record")
        if fails { throw DeliveryError("disk full") }
    }
}

struct LoggingNotifier: RunNotifier {
    let log: CallLog
    func started(_ start: RunStart) async -> [String] { log.add("notify started"); return [] }
    func finished(_ report: RunReport) async -> [String] { log.add("notify finished"); return ["warning: webhook down"] }
}

struct LoggingMetrics: MetricsSink {
    let log: CallLog
    func push(_ report: RunReport) async -> String? { log.add("push metrics"); return nil }
}

@Suite("A rollout records its run before it tells anyone it finished")
struct RolloutOrderTests {
    func rollout(_ log: CallLog, recorderFails: Bool = false, events: CallLog) throws -> Rollout {
        let (plan, inventory) = try ExecutorTests.plan(hosts: 2, batch: "1")
        return Rollout(plan: plan, files: ExecutorTests.files(plan),
                       sessions: ExecutorTests.sessions(RecordingTransport(), inventory),
                       recorder: LoggingRecorder(log: log, fails: recorderFails), notifier: LoggingNotifier(log: log),
                       metrics: LoggingMetrics(log: log), onEvent: { event in
                           if case .warning(let text) = event { events.add(text) }
                       })
    }

    /// The record (what `--retry-failed` reads) is written before the finish notification and the metrics push,
    /// so a webhook or a Pushgateway can neither delay it nor lose it.
    @Test func recordedBeforeTheFinishNotification() async throws {
        let log = CallLog()
        let events = CallLog()
        let report = try await rollout(log, events: events).run()
        #expect(report.exitCode == 0)
        #expect(log.all == ["notify started", "record", "notify finished", "push metrics"])
        #expect(events.all == ["webhook down"])
    }

    /// A record that cannot be written is a warning; the notifications still go, after it.
    @Test func aFailedRecordIsAWarningAndTheNotificationsStillGo() async throws {
        let log = CallLog()
        let events = CallLog()
        _ = try await rollout(log, recorderFails: true, events: events).run()
        #expect(log.all == ["notify started", "record", "notify finished", "push metrics"])
        #expect(events.all == ["could not record the run in the history folder: disk full", "webhook down"])
    }
}
