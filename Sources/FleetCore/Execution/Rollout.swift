import Foundation

/// Where a finished run is recorded (the history folder beside the inventory, by default).
public protocol RunRecorder: Sendable {
    func record(_ report: RunReport) throws
}

/// Who is told that a run started and finished (the inventory's webhooks, by default). Returns warnings: a
/// failed delivery never fails a run.
public protocol RunNotifier: Sendable {
    func started(_ start: RunStart) async -> [String]
    func finished(_ report: RunReport) async -> [String]
}

/// Where a finished run's metrics go (a Prometheus Pushgateway, by default). Returns a warning when they did not.
public protocol MetricsSink: Sendable {
    func push(_ report: RunReport) async -> String?
}

/// A deploy or rollback: runs a plan's steps through one session owner, records the run, then tells the
/// notifier and the metrics sink, and returns the run's report. Everything outside is injected, so a program (or a test)
/// can run a rollout without the command line.
public struct Rollout: Sendable {
    public var plan: Plan
    public var files: UploadFiles
    public var sessions: Sessions
    public var interrupt: Interrupt
    public var clock: @Sendable () -> Date
    public var recorder: any RunRecorder
    public var notifier: any RunNotifier
    public var metrics: any MetricsSink
    public var onEvent: @Sendable (ExecutionEvent) -> Void

    public init(plan: Plan, files: UploadFiles, sessions: Sessions, interrupt: Interrupt = Interrupt(),
                clock: @escaping @Sendable () -> Date = Date.init,
                recorder: any RunRecorder, notifier: any RunNotifier, metrics: any MetricsSink,
                onEvent: @escaping @Sendable (ExecutionEvent) -> Void = { _ in }) {
        self.plan = plan
        self.files = files
        self.sessions = sessions
        self.interrupt = interrupt
        self.clock = clock
        self.recorder = recorder
        self.notifier = notifier
        self.metrics = metrics
        self.onEvent = onEvent
    }

    public func run() async -> RunReport {
        let start = RunStart(plan.header, hosts: plan.hosts.map(\.name))
        warn(await notifier.started(start))
        let executor = Executor(plan: plan, sessions: sessions, files: files, interrupt: interrupt,
                                onEvent: onEvent)
        let report = await executor.run(now: clock)
        // Recorded first: the record is what `--retry-failed` reads, and it must not wait on (or be lost with)
        // a webhook or a Pushgateway.
        do {
            try recorder.record(report)
        } catch {
            warn(["could not record the run in the history folder: \(error)"])
        }
        warn(await notifier.finished(report))
        warn(await metrics.push(report).map { [$0] } ?? [])
        return report
    }

    private func warn(_ warnings: [String]) {
        for warning in warnings {
            onEvent(.warning(warning.hasPrefix("warning: ") ? String(warning.dropFirst("warning: ".count)) : warning))
        }
    }
}
