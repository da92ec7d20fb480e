import Foundation
import SSHEngine

/// One kind of stage, as a type: how it runs and what its outcome means for the run. The executor's loop only
/// asks each stage's kind whether it runs now and then runs it; everything a stage decides (what counts as a
/// failure, what halts the run, what a host's success records) is the kind's own.
protocol StageKind: Sendable {
    /// Runs even when the rollout has halted (read-only stages that tell the truth, the lock's release).
    var runsAfterHalt: Bool { get }
    /// Runs even when the user asked to stop (pre-flight changes nothing shared; the release must happen).
    var runsAfterInterrupt: Bool { get }
    func run(_ stage: Stage, _ executor: Executor, _ state: RunState) async
}

extension StageKind {
    var runsAfterHalt: Bool { false }
    var runsAfterInterrupt: Bool { false }
}

extension Stage.Kind {
    /// The type that runs a stage of this kind.
    var runner: any StageKind {
        switch self {
        case .lock: LockStage()
        case .preflight: PreflightStage()
        case .imageCheck: ImageCheckStage()
        case .hook: HookStage()
        case .batch: BatchStage()
        case .pause: PauseStage()
        case .undo: UndoStage()
        case .release: ReleaseStage()
        }
    }
}

/// How a stage judges each of its hosts: what a success records, what a failure or an unreachable host means.
/// The defaults: a success records nothing; a failure counts against `max_failures`; both failures are
/// reported as the host's outcome and name the host in the stage's result.
protocol HostRule: Sendable {
    /// What the host's report names as its phase ("pre-flight", "deploy", the hook's name...).
    var phase: String { get }
    var batch: Int? { get }
    /// Runs on hosts that already failed (the lock's release).
    var touchesFailedHosts: Bool { get }
    /// Closes the host's session once its steps are done (the last stage that uses it).
    var closesSession: Bool { get }
    /// Where the steps' output lines go as they come (a hook's are shown), nil: read only when done.
    func lines(_ executor: Executor) -> (@Sendable (String, OutputKind, String) -> Void)?
    /// Before the host starts: false leaves it out.
    func start(_ host: String, _ executor: Executor, _ state: RunState) async -> Bool
    /// The host's steps succeeded; true names the host in the stage's result.
    func succeeded(_ host: String, _ done: StepRunner.Done, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool
    /// A step failed (the host answered, or the connection was lost mid-step); true names the host.
    func failed(_ host: String, _ failure: StepFailure, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool
    /// No session could be opened; true names the host.
    func unreachable(_ host: String, _ failure: HostFailure, _ executor: Executor, _ state: RunState) async -> Bool
}

extension HostRule {
    var batch: Int? { nil }
    var touchesFailedHosts: Bool { false }
    var closesSession: Bool { false }

    func lines(_ executor: Executor) -> (@Sendable (String, OutputKind, String) -> Void)? { nil }

    func start(_ host: String, _ executor: Executor, _ state: RunState) async -> Bool { true }

    func succeeded(_ host: String, _ done: StepRunner.Done, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool { false }

    func failed(_ host: String, _ failure: StepFailure, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool {
        await record(host, failure, ms: ms, executor, state)
        return true
    }

    func unreachable(_ host: String, _ failure: HostFailure, _ executor: Executor, _ state: RunState) async -> Bool {
        await record(host, failure, executor, state)
        return true
    }

    /// The host failed in this stage's phase: its report says so, and so does an event.
    func record(_ host: String, _ failure: StepFailure, ms: Int, _ executor: Executor, _ state: RunState) async {
        await state.fail(host, phase: phase, exitCode: failure.exitCode, error: failure.message, lines: failure.lastLines,
                         batch: batch, ms: ms)
        executor.onEvent(.hostDone(await state.report(host)))
    }

    /// The host could not be reached: its report says so, and so does an event.
    func record(_ host: String, _ failure: HostFailure, _ executor: Executor, _ state: RunState) async {
        await state.unreachable(host, error: failure.message)
        executor.onEvent(.hostDone(await state.report(host)))
    }
}

extension Executor {
    /// Runs each host's steps, hosts in parallel (at most `policy.parallel`, within the sessions' descriptor
    /// budget), each judged by `rule`. Returns the hosts the rule named, in the stage's order.
    func runEach(_ hosts: [HostSteps], _ rule: some HostRule, state: RunState) async -> [String] {
        let entries = hosts.compactMap { entry(for: $0.host) }
        let byName = Dictionary(hosts.map { ($0.host, $0.steps) }, uniquingKeysWith: { first, _ in first })
        let (sessions, executor) = (self.sessions, self)
        let runner = StepRunner(files: files, onLine: rule.lines(self))
        let results: [String?] = await forEachHost(entries, limit: min(plan.policy.parallel, sessions.budget.inFlight)) { entry -> String? in
            let name = entry.name
            guard await state.usable(name) || rule.touchesFailedHosts else { return nil }
            guard await rule.start(name, executor, state) else { return nil }
            let began = ContinuousClock.now
            executor.onEvent(.phase(host: name, phase: rule.phase, batch: rule.batch))
            let session: any HostSession
            do {
                session = try await sessions.lease(entry)
            } catch {
                let failure = HostFailure(host: name, error: error, unreachable: true)
                return await rule.unreachable(name, failure, executor, state) ? name : nil
            }
            do throws(StepFailure) {
                let done = try await runner.runSteps(byName[name] ?? [], on: session)
                if rule.closesSession { await sessions.close(name) } else { await sessions.giveBack(name) }
                let ms = Int((ContinuousClock.now - began) / .milliseconds(1))
                return await rule.succeeded(name, done, ms: ms, executor, state) ? name : nil
            } catch {
                if error.closesSession || rule.closesSession { await sessions.close(name) } else { await sessions.giveBack(name) }
                let ms = Int((ContinuousClock.now - began) / .milliseconds(1))
                return await rule.failed(name, error, ms: ms, executor, state) ? name : nil
            }
        }
        return results.compactMap { $0 }
    }

    /// Halts the run when the failures so far are more than `max_failures`; any failure fails the run.
    func judgeFailures(_ state: RunState) async {
        let failures = await state.failureCount
        let max = plan.policy.maxFailures
        if failures > max {
            await state.halt("\(failures) host\(failures == 1 ? "" : "s") failed, more than max_failures (\(max))", exit: ExitStatus.hostFailed)
        } else if failures > 0 {
            await state.failed()
        }
        if let why = interrupt.requested { await state.interrupted(why) }
    }
}
