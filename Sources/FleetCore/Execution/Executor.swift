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
    public var skipUnreachable: Bool
    public var onEvent: @Sendable (ExecutionEvent) -> Void
    let hostsByName: [String: PlanHost]

    public init(plan: Plan, sessions: Sessions, files: UploadFiles, interrupt: Interrupt = Interrupt(),
                skipUnreachable: Bool = false, onEvent: @escaping @Sendable (ExecutionEvent) -> Void = { _ in }) {
        self.plan = plan
        self.sessions = sessions
        self.files = files
        self.interrupt = interrupt
        self.skipUnreachable = skipUnreachable
        self.onEvent = onEvent
        self.hostsByName = Dictionary(plan.hosts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func run(now: @Sendable () -> Date = Date.init) async -> RunReport {
        let started = ContinuousClock.now
        let state = RunState(hosts: plan.hosts.map(\.name))
        var exitCode = ExitStatus.ok
        var halt: String?
        var batchIndex = 0
        var lastBatch: [String] = []
        let verb = plan.command == .deploy ? "deploy" : "rollback"

        for stage in plan.stages {
            // A halted run still verifies the hosts its last batch switched: that is read-only and tells the truth.
            if halt != nil, stage.kind != .verify { await skipStage(stage, state: state); continue }
            if let why = interrupt.requested, stage.kind != .preflight, stage.kind != .verify {
                halt = halt ?? why
                exitCode = ExitStatus.interrupted
                await skipStage(stage, state: state)
                continue
            }
            switch stage.kind {
            case .preflight:
                onEvent(.stage(stage.title))
                await runHosts(stage.hosts, phase: "pre-flight", batch: nil, state: state)
                if let verdict = await preflightVerdict(state) {
                    (exitCode, halt) = verdict
                }
            case .imageCheck:
                onEvent(.stage(stage.title))
                if let refusal = await imageCheck(stage) {
                    (exitCode, halt) = (ExitStatus.preflight, refusal)
                }
            case .hook:
                onEvent(.stage(stage.title))
                let failed = await runHosts(stage.hosts, phase: stage.title, batch: nil, state: state, isHook: true)
                if !failed.isEmpty {
                    halt = "the \(stage.title) hook failed on \(failed.joined(separator: ", "))"
                    exitCode = ExitStatus.hostFailed
                }
            case .batch, .verify:
                if stage.kind == .batch {
                    batchIndex += 1
                    onEvent(.stage(stage.title))
                    lastBatch = await runHosts(stage.hosts, phase: verb, batch: batchIndex, state: state, countUpdated: true)
                } else {
                    let targets = stage.hosts.filter { lastBatch.contains($0.host) }
                    if !targets.isEmpty { onEvent(.stage(stage.title)) }
                    await verify(targets, batch: batchIndex, state: state)
                }
                let failures = await state.failureCount
                if failures > plan.policy.maxFailures {
                    halt = halt ?? "\(failures) host\(failures == 1 ? "" : "s") failed, more than max_failures (\(plan.policy.maxFailures))"
                    if exitCode == ExitStatus.ok { exitCode = ExitStatus.hostFailed }
                } else if failures > 0, exitCode == ExitStatus.ok {
                    exitCode = ExitStatus.hostFailed
                }
                if let why = interrupt.requested { halt = halt ?? why; exitCode = ExitStatus.interrupted }
            case .pause:
                onEvent(.stage("pause \(Double(stage.pauseMs ?? 0) / 1000) s"))
                var left = stage.pauseMs ?? 0
                while left > 0 && interrupt.requested == nil {
                    try? await Task.sleep(for: .milliseconds(min(left, 200)))
                    left -= 200
                }
            }
        }

        if halt != nil && exitCode == ExitStatus.hostFailed && plan.policy.rollbackOnFailure {
            let undo = await state.hosts(with: .updated)
            let steps = plan.onFailure.filter { undo.contains($0.host) }
            if !steps.isEmpty {
                onEvent(.stage("rollback on failure"))
                await runHosts(steps, phase: "undo", batch: nil, state: state, isUndo: true)
            }
        }
        onEvent(.stage("release"))
        let releaseHosts = await state.locked
        await runHosts(plan.finally.filter { releaseHosts.contains($0.host) }, phase: "release", batch: nil,
                       state: state, isRelease: true)
        await sessions.closeAll()
        let processes = Dictionary(plan.hosts.map { ($0.name, $0.processes) }, uniquingKeysWith: { first, _ in first })
        let hosts = await state.reports(skipped: plan.skipped).map { report in
            var report = report
            report.processes = processes[report.host] ?? nil
            return report
        }
        let elapsed = ContinuousClock.now - started
        if exitCode == ExitStatus.ok && hosts.contains(where: { $0.outcome == .failed || $0.outcome == .unreachable }) {
            exitCode = ExitStatus.hostFailed
        }
        return RunReport(runId: plan.run.runId, command: plan.command.rawValue, app: plan.app,
                         environment: plan.environment, inventory: plan.inventory, image: plan.image,
                         version: plan.version ?? plan.rollbackTo, who: plan.run.who, startedAt: plan.run.startedAt,
                         finishedAt: ISO8601DateFormatter().string(from: now()),
                         durationMs: Int(elapsed / .milliseconds(1)), exitCode: exitCode, haltReason: halt, hosts: hosts)
    }

    func skipStage(_ stage: Stage, state: RunState) async {
        for host in stage.hosts.map(\.host) { await state.notStarted(host) }
    }

    /// Exit 3 when a lock is held, 4 when pre-flight failed elsewhere; nil when every host passed (or the
    /// unreachable ones may be skipped).
    func preflightVerdict(_ state: RunState) async -> (Int32, String)? {
        let failed = await state.hosts(with: .failed)
        let unreachable = await state.hosts(with: .unreachable)
        if let locked = await state.lockHeld.first {
            return (ExitStatus.lockHeld, "the fleet lock is held on \(locked.host): \(locked.message)")
        }
        if !failed.isEmpty || (!unreachable.isEmpty && !skipUnreachable) {
            let names = (failed + unreachable).joined(separator: ", ")
            return (ExitStatus.preflight, "pre-flight failed on \(names); nothing was changed")
        }
        if !unreachable.isEmpty {
            onEvent(.note("skipping unreachable host\(unreachable.count == 1 ? "" : "s"): \(unreachable.joined(separator: ", "))"))
        }
        return nil
    }
}
