import Foundation
import SSHEngine

/// Runs a plan, stage by stage and step by step, exactly as `fleet plan` printed it, on sessions owned by one
/// `Sessions`: each host's session is opened once, used for every step of that host (pre-flight, image check,
/// batch, verify, undo, release), and closed when the host's release is done.
public struct Executor: Sendable {
    public var plan: Plan
    public var sessions: Sessions
    public var files: UploadFiles
    public var interrupt: Interrupt
    public var onEvent: @Sendable (ExecutionEvent) -> Void
    let hostsByName: [String: PlanHost]

    public init(plan: Plan, sessions: Sessions, files: UploadFiles, interrupt: Interrupt = Interrupt(),
                onEvent: @escaping @Sendable (ExecutionEvent) -> Void = { _ in }) {
        self.plan = plan
        self.sessions = sessions
        self.files = files
        self.interrupt = interrupt
        self.onEvent = onEvent
        self.hostsByName = Dictionary(plan.hosts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Every stage the plan has, in the order they run: `stages`, then `onFailure` (its kind runs only when the
    /// rollout halted on failures), then `finally` (however the run went).
    var allStages: [Stage] {
        plan.stages + [Stage(kind: .undo, title: "rollback on failure", hosts: plan.onFailure, pauseMs: nil),
                       Stage(kind: .release, title: "release", hosts: plan.finally, pauseMs: nil)]
    }

    public func run(now: @Sendable () -> Date = Date.init) async -> RunReport {
        let started = ContinuousClock.now
        let state = RunState(hosts: plan.hosts.map(\.name))
        for stage in allStages {
            let kind = stage.kind.runner
            if await state.verdict.halt != nil, !kind.runsAfterHalt {
                await skipStage(stage, state: state)
                continue
            }
            if let why = interrupt.requested, !kind.runsAfterInterrupt {
                await state.interrupted(why)
                await skipStage(stage, state: state)
                continue
            }
            await kind.run(stage, self, state)
        }
        await sessions.closeAll()
        let processes = Dictionary(plan.hosts.map { ($0.name, $0.processes) }, uniquingKeysWith: { first, _ in first })
        let hosts = await state.reports(skipped: plan.skipped).map { report in
            var report = report
            report.processes = processes[report.host] ?? nil
            return report
        }
        let elapsed = ContinuousClock.now - started
        var verdict = await state.verdict
        if hosts.contains(where: { $0.outcome == .failed || $0.outcome == .unreachable }) { verdict.failed() }
        return RunReport(plan.header, finishedAt: ISO8601DateFormatter().string(from: now()),
                         durationMs: Int(elapsed / .milliseconds(1)), exitCode: verdict.exitCode, haltReason: verdict.halt, hosts: hosts)
    }

    func skipStage(_ stage: Stage, state: RunState) async {
        for host in stage.hosts.map(\.host) { await state.notStarted(host) }
    }

    /// The plan's host by name, as the transport connects to it (one lookup table for the whole run).
    func entry(for host: String) -> HostEntry? { hostsByName[host]?.entry }
}

extension PlanHost {
    /// The host as the transport connects to it: the plan's resolved connection, as it is.
    public var entry: HostEntry { HostEntry(name: name, connection: connection) }
}
