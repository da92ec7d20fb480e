import Foundation
import SSHEngine

/// Takes each host's lock (the first thing its command does), puts the files in place and checks the host. A failure here
/// changed nothing shared, so it does not count against `max_failures`; any failure (or an unreachable host,
/// unless the plan skips them) stops the run before a host changes.
struct PreflightStage: StageKind {
    var runsAfterInterrupt: Bool { true }

    struct Rule: HostRule {
        var phase: String { "pre-flight" }

        func succeeded(_ host: String, _ done: StepRunner.Done, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool {
            await state.lockTaken(host)
            return false
        }

        /// Pre-flight's command takes the lock first: its exit 3 says another run holds it, and its exit 97 that
        /// nothing was taken (the files could not be unpacked, or the lock script failed otherwise); any other
        /// failure came after the lock was taken, and a command cut off (no exit) may have taken it.
        func failed(_ host: String, _ failure: StepFailure, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool {
            if failure.exitCode == ExitStatus.lockHeld {
                await state.lockHeld(host, message: failure.message)
            } else if failure.exitCode != StepFactory.installFailed {
                await state.lockTaken(host)
            }
            await state.fail(host, phase: phase, exitCode: failure.exitCode, error: failure.message, lines: failure.lastLines,
                             ms: ms, counts: false)
            executor.onEvent(.hostDone(await state.report(host)))
            return true
        }
    }

    func run(_ stage: Stage, _ executor: Executor, _ state: RunState) async {
        executor.onEvent(.stage(stage.title))
        _ = await executor.runEach(stage.hosts, Rule(), state: state)
        await state.finishPending()
        await Self.judge(executor, state)
    }

    /// Exit 3 when a lock is held, 4 when pre-flight failed anywhere (or could not reach a host the plan does
    /// not skip); nothing when every host passed.
    static func judge(_ executor: Executor, _ state: RunState) async {
        let failed = await state.hosts(with: .failed)
        let unreachable = await state.hosts(with: .unreachable)
        if let locked = await state.lockHeld.first {
            await state.halt("the fleet lock is held on \(locked.host): \(locked.message)", exit: ExitStatus.lockHeld)
        } else if !failed.isEmpty || (!unreachable.isEmpty && !executor.plan.policy.skipUnreachable) {
            let names = (failed + unreachable).joined(separator: ", ")
            await state.halt("pre-flight failed on \(names); nothing was changed", exit: ExitStatus.preflight)
        } else if !unreachable.isEmpty {
            executor.onEvent(.note("skipping unreachable host\(unreachable.count == 1 ? "" : "s"): \(unreachable.joined(separator: ", "))"))
        }
    }
}

/// The lead host's pre-flight, first: its lock decides between runs started at once. The stage ends as soon as
/// that lock is held (the line its command prints), and the lead's pull goes on beside the next pre-flight,
/// which waits for it; a lead that ends before (its lock held by another run, a failure) is judged at once.
struct LockStage: StageKind {
    var runsAfterInterrupt: Bool { true }

    struct Rule: HostRule {
        var phase: String { "pre-flight" }
        let held: LockHeld

        func lines(_ executor: Executor) -> (@Sendable (String, OutputKind, String) -> Void)? {
            let held = self.held
            return { _, kind, line in
                if kind == .stdout, line == StepFactory.lockHeldLine { Task { await held.fire(ended: false) } }
            }
        }

        func succeeded(_ host: String, _ done: StepRunner.Done, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool {
            await PreflightStage.Rule().succeeded(host, done, ms: ms, executor, state)
        }

        func failed(_ host: String, _ failure: StepFailure, ms: Int, _ executor: Executor, _ state: RunState) async -> Bool {
            await PreflightStage.Rule().failed(host, failure, ms: ms, executor, state)
        }
    }

    func run(_ stage: Stage, _ executor: Executor, _ state: RunState) async {
        executor.onEvent(.stage(stage.title))
        let held = LockHeld()
        let lead = Task {
            _ = await executor.runEach(stage.hosts, Rule(held: held), state: state)
            await held.fire(ended: true)
        }
        if await held.wait() {
            await PreflightStage.judge(executor, state)
        } else {
            await state.setPending(lead)
        }
    }
}

/// Fired once: when the lead's lock is held (`ended` false), or when its pre-flight ended first.
actor LockHeld {
    private var ended: Bool?
    private var waiters: [CheckedContinuation<Bool, Never>] = []

    func fire(ended: Bool) {
        guard self.ended == nil else { return }
        self.ended = ended
        for waiter in waiters { waiter.resume(returning: ended) }
        waiters = []
    }

    /// True when the pre-flight ended before its lock line (it failed, or its command printed none).
    func wait() async -> Bool {
        if let ended { return ended }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
