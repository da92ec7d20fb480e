import Foundation
import SSHEngine

/// A hook on the plan's lead host, its output shown as it comes: its failure (or the host unreachable, or a
/// host that failed before the hook's turn) halts the run.
struct HookStage: StageKind {
    struct Rule: HostRule {
        var phase: String

        func lines(_ executor: Executor) -> (@Sendable (String, OutputKind, String) -> Void)? {
            HookOutput.forwarder(phase: phase, to: executor.onEvent)
        }
    }

    func run(_ stage: Stage, _ executor: Executor, _ state: RunState) async {
        executor.onEvent(.stage(stage.title))
        for host in stage.hosts.map(\.host) where !(await state.usable(host)) {
            await state.halt("the \(stage.title) hook could not run: its host \(host) failed earlier in this run", exit: ExitStatus.hostFailed)
            return
        }
        let failed = await executor.runEach(stage.hosts, Rule(phase: stage.title), state: state)
        if !failed.isEmpty {
            await state.halt("the \(stage.title) hook failed on \(failed.joined(separator: ", "))", exit: ExitStatus.hostFailed)
        }
    }
}

/// A batch of hosts switched to the target: each success is an updated host (or one already there), unless the
/// endpoints its command then checked through nginx did not answer as `verify` expects (a failure, phase
/// "verify"); each failure counts against `max_failures`; once the user asked to stop, hosts not yet started
/// are left alone.
struct BatchStage: StageKind {
    struct Rule: HostRule {
        var phase: String
        var batch: Int?

        func start(_ host: String, _ executor: Executor, _ state: RunState) async -> Bool {
            guard executor.interrupt.requested == nil else {
                await state.notStarted(host)
                return false
            }
            return true
        }

        func succeeded(_ host: String, _ done: StepRunner.Done, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool {
            await state.updated(host, batch: batch, result: done.json, ms: ms)
            if let check = done.step?.check, check.kind == .verify, let output = done.output,
               let problem = Verifier.problemAfterSwap(output, endpoints: check.endpoints ?? [], host: host) {
                await state.fail(host, phase: "verify", exitCode: nil, error: problem, lines: [], batch: batch)
                executor.onEvent(.hostDone(await state.report(host)))
                return false
            }
            executor.onEvent(.hostDone(await state.report(host)))
            return true
        }

        /// A failed or unreachable host is reported, and is not among the batch's finished hosts.
        func failed(_ host: String, _ failure: StepFailure, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool {
            await record(host, failure, ms: ms, executor, state)
            return false
        }

        func unreachable(_ host: String, _ failure: HostFailure, _ executor: Executor, _ state: RunState) async -> Bool {
            await record(host, failure, executor, state)
            return false
        }
    }

    func run(_ stage: Stage, _ executor: Executor, _ state: RunState) async {
        let index = await state.batchStarted()
        executor.onEvent(.stage(stage.title))
        _ = await executor.runEach(stage.hosts, Rule(phase: executor.plan.command.rawValue, batch: index), state: state)
        await executor.judgeFailures(state)
    }
}

/// `onFailure`: this run's updated hosts switched back when the rollout halted on failures.
struct UndoStage: StageKind {
    var runsAfterHalt: Bool { true }

    struct Rule: HostRule {
        var phase: String { "undo" }

        func succeeded(_ host: String, _ done: StepRunner.Done, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool {
            await state.rolledBack(host)
            return false
        }
    }

    /// Only when the rollout halted on failures (not on an interrupt, a held lock or pre-flight).
    func run(_ stage: Stage, _ executor: Executor, _ state: RunState) async {
        let verdict = await state.verdict
        guard verdict.halt != nil, verdict.exitCode == ExitStatus.hostFailed else { return }
        let updated = await state.hosts(with: .updated)
        let hosts = stage.hosts.filter { updated.contains($0.host) }
        guard !hosts.isEmpty else { return }
        executor.onEvent(.stage(stage.title))
        _ = await executor.runEach(hosts, Rule(), state: state)
    }
}

/// `finally`: the lock released on every host whose lock this run took, however the run went; a release that
/// fails is a note (the host's outcome stands), and each host's session is closed after it.
struct ReleaseStage: StageKind {
    var runsAfterHalt: Bool { true }
    var runsAfterInterrupt: Bool { true }

    struct Rule: HostRule {
        var phase: String { "release" }
        var touchesFailedHosts: Bool { true }
        var closesSession: Bool { true }

        func failed(_ host: String, _ failure: StepFailure, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool {
            executor.onEvent(.note("\(host): could not release the lock: \(failure.message)"))
            return false
        }

        func unreachable(_ host: String, _ failure: HostFailure, _ executor: Executor, _ state: RunState) async -> Bool {
            executor.onEvent(.note("\(host): could not release the lock: \(failure.description)"))
            return false
        }
    }

    func run(_ stage: Stage, _ executor: Executor, _ state: RunState) async {
        await state.finishPending()
        executor.onEvent(.stage(stage.title))
        let locked = await state.locked
        _ = await executor.runEach(stage.hosts.filter { locked.contains($0.host) }, Rule(), state: state)
    }
}
