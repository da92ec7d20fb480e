import Foundation
import SSHEngine

/// Runs a plan, stage by stage and step by step, exactly as `fleet plan` printed it.
public struct Executor: Sendable {
    public var plan: Plan
    public var settings: SSHSettings
    public var transport: any Transport
    public var files: UploadFiles
    public var interrupt: Interrupt
    public var skipUnreachable: Bool
    public var onEvent: @Sendable (ExecutionEvent) -> Void
    /// Called after each batch with the hosts it updated; returns a failure message per host that failed the
    /// check (for example `fleet verify`'s endpoints through nginx).
    public var afterBatch: (@Sendable ([String]) async -> [String: String])?
    /// Called once pre-flight passed everywhere, with the first host's session (the image is pulled there);
    /// a message back halts the run before any host changes (exit 4), for example `--strict-image`.
    public var afterPreflight: (@Sendable (any HostSession) async -> String?)?

    public init(plan: Plan, settings: SSHSettings, transport: any Transport, files: UploadFiles,
                interrupt: Interrupt = Interrupt(), skipUnreachable: Bool = false,
                onEvent: @escaping @Sendable (ExecutionEvent) -> Void = { _ in },
                afterBatch: (@Sendable ([String]) async -> [String: String])? = nil) {
        self.plan = plan
        self.settings = settings
        self.transport = transport
        self.files = files
        self.interrupt = interrupt
        self.skipUnreachable = skipUnreachable
        self.onEvent = onEvent
        self.afterBatch = afterBatch
    }

    public func run(now: @Sendable () -> Date = Date.init) async -> RunReport {
        let started = ContinuousClock.now
        let state = RunState(hosts: plan.hosts.map(\.name))
        let runner = StepRunner(files: files)
        var exitCode: Int32 = 0
        var halt: String?
        var batchIndex = 0
        let verb = plan.command == .deploy ? "deploy" : "rollback"

        for stage in plan.stages {
            if halt != nil, stage.kind != .preflight { await skipStage(stage, state: state); continue }
            if let why = interrupt.requested, stage.kind != .preflight {
                halt = halt ?? why
                exitCode = 130
                await skipStage(stage, state: state)
                continue
            }
            switch stage.kind {
            case .preflight:
                onEvent(.stage(stage.title))
                await runHosts(stage.hosts, phase: "pre-flight", batch: nil, state: state, runner: runner)
                let verdict = await preflightVerdict(state)
                if let verdict {
                    exitCode = verdict.code
                    halt = verdict.reason
                } else if let afterPreflight, let first = stage.hosts.first?.host,
                          let session = await state.existingSession(first), let refusal = await afterPreflight(session) {
                    exitCode = 4
                    halt = refusal
                }
            case .hook:
                onEvent(.stage(stage.title))
                let failed = await runHosts(stage.hosts, phase: stage.title, batch: nil, state: state, runner: runner, isHook: true)
                if !failed.isEmpty {
                    halt = "the \(stage.title) hook failed on \(failed.joined(separator: ", "))"
                    exitCode = 1
                }
            case .batch:
                batchIndex += 1
                onEvent(.stage(stage.title))
                let updated = await runHosts(stage.hosts, phase: verb, batch: batchIndex, state: state, runner: runner,
                                             countUpdated: true)
                if let afterBatch, !updated.isEmpty {
                    let problems = await afterBatch(updated)
                    for (host, message) in problems.sorted(by: { $0.key < $1.key }) {
                        await state.fail(host, phase: "verify", exitCode: nil, error: message, lines: [])
                    }
                }
                let failures = await state.failureCount
                if failures > plan.policy.maxFailures {
                    halt = "\(failures) host\(failures == 1 ? "" : "s") failed, more than max_failures (\(plan.policy.maxFailures))"
                    exitCode = 1
                } else if failures > 0 {
                    exitCode = 1
                }
                if let why = interrupt.requested { halt = halt ?? why; exitCode = 130 }
            case .pause:
                onEvent(.stage("pause \(Double(stage.pauseMs ?? 0) / 1000) s"))
                var left = stage.pauseMs ?? 0
                while left > 0 && interrupt.requested == nil {
                    try? await Task.sleep(for: .milliseconds(min(left, 200)))
                    left -= 200
                }
            }
        }

        if halt != nil && exitCode == 1 && plan.policy.rollbackOnFailure {
            let undo = await state.hosts(with: .updated)
            let steps = plan.onFailure.filter { undo.contains($0.host) }
            if !steps.isEmpty {
                onEvent(.stage("rollback on failure"))
                await runHosts(steps, phase: "undo", batch: nil, state: state, runner: runner, isUndo: true)
            }
        }
        onEvent(.stage("release"))
        let releaseHosts = await state.started
        await runHosts(plan.finally.filter { releaseHosts.contains($0.host) }, phase: "release", batch: nil,
                       state: state, runner: runner, isRelease: true)
        await state.closeAll()
        let hosts = await state.reports(skipped: plan.skipped)
        let elapsed = ContinuousClock.now - started
        if exitCode == 0 && hosts.contains(where: { $0.outcome == .failed || $0.outcome == .unreachable }) { exitCode = 1 }
        return RunReport(runId: plan.run.runId, command: plan.command.rawValue, app: plan.app,
                         environment: plan.environment, inventory: plan.inventory, image: plan.image,
                         version: plan.version ?? plan.rollbackTo, who: plan.run.who, startedAt: plan.run.startedAt,
                         finishedAt: ISO8601DateFormatter().string(from: now()),
                         durationMs: Int(elapsed / .milliseconds(1)), exitCode: exitCode, haltReason: halt, hosts: hosts)
    }

    private func skipStage(_ stage: Stage, state: RunState) async {
        for host in stage.hosts.map(\.host) { await state.notStarted(host) }
    }

    /// Exit 3 when a lock is held, 4 when pre-flight failed elsewhere; nil when every host passed (or the
    /// unreachable ones may be skipped).
    private func preflightVerdict(_ state: RunState) async -> (code: Int32, reason: String)? {
        let failed = await state.hosts(with: .failed)
        let unreachable = await state.hosts(with: .unreachable)
        if let locked = await state.lockHeld.first {
            return (3, "the fleet lock is held on \(locked.host): \(locked.message)")
        }
        if !failed.isEmpty || (!unreachable.isEmpty && !skipUnreachable) {
            let names = (failed + unreachable).joined(separator: ", ")
            return (4, "pre-flight failed on \(names); nothing was changed")
        }
        if !unreachable.isEmpty {
            onEvent(.note("skipping unreachable host\(unreachable.count == 1 ? "" : "s"): \(unreachable.joined(separator: ", "))"))
        }
        return nil
    }

    /// Runs each host's steps, hosts in parallel. Returns the hosts that failed (hooks) or were updated (batches).
    @discardableResult
    private func runHosts(_ hosts: [HostSteps], phase: String, batch: Int?, state: RunState, runner: StepRunner,
                          isHook: Bool = false, countUpdated: Bool = false, isUndo: Bool = false,
                          isRelease: Bool = false) async -> [String] {
        let entries = hosts.map { HostEntry(name: $0.host, address: "", port: 0, user: "") }
        let byName = Dictionary(uniqueKeysWithValues: hosts.map { ($0.host, $0.steps) })
        let plan = self.plan
        let transport = self.transport
        let settings = self.settings
        let interrupt = self.interrupt
        let onEvent = self.onEvent
        let results: [String?] = await forEachHost(entries, limit: plan.policy.parallel) { entry -> String? in
            let name = entry.name
            guard await state.usable(name) || isRelease else { return nil }
            if countUpdated, interrupt.requested != nil {
                await state.notStarted(name)
                return nil
            }
            let began = ContinuousClock.now
            onEvent(.phase(host: name, phase: phase, batch: batch))
            let session: any HostSession
            do {
                session = try await state.session(for: name, plan: plan, transport: transport, settings: settings)
            } catch {
                await state.unreachable(name, error: "\(error)")
                onEvent(.hostDone(await state.report(name)))
                return isHook ? name : nil
            }
            do throws(StepFailure) {
                let result = try await runner.run(byName[name] ?? [], on: session)
                let ms = Int((ContinuousClock.now - began) / .milliseconds(1))
                if countUpdated {
                    await state.updated(name, batch: batch, result: result, ms: ms)
                    onEvent(.hostDone(await state.report(name)))
                    return name
                }
                if isUndo { await state.rolledBack(name) }
                return nil
            } catch {
                if isRelease {
                    onEvent(.note("\(name): could not release the lock: \(error.message)"))
                    return nil
                }
                if error.step.script == "lock" && error.exitCode == 3 {
                    await state.lockHeld(name, message: error.message)
                }
                await state.fail(name, phase: phase, exitCode: error.exitCode, error: error.message, lines: error.lastLines,
                                 batch: batch, lost: error.connectionLost)
                onEvent(.hostDone(await state.report(name)))
                return isHook ? name : nil
            }
        }
        return results.compactMap { $0 }
    }
}
