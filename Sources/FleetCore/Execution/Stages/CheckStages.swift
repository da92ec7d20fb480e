import Foundation

/// The pulled image inspected on the plan's lead host: findings are warnings; with `--strict-image` any
/// finding refuses the rollout before a host changes.
struct ImageCheckStage: StageKind {
    func run(_ stage: Stage, _ executor: Executor, _ state: RunState) async {
        executor.onEvent(.stage(stage.title))
        guard let hostSteps = stage.hosts.first, let step = hostSteps.steps.first, let check = step.check,
              let entry = executor.entry(for: hostSteps.host) else { return }
        let image = check.image ?? executor.plan.image
        var warnings: [String]
        let runner = StepRunner(files: executor.files)
        do {
            let result = try await executor.sessions.using(entry) { session in try await runner.check(step, on: session) }
            warnings = ImageCheck.judge(result, host: entry.name, image: image, maxSizeMB: check.maxSizeMB ?? 0).map(\.description)
        } catch {
            warnings = ["\(entry.name): \(image): could not inspect the image: \(HostFailure(host: entry.name, error: error, unreachable: nil).message)"]
        }
        for warning in warnings { executor.onEvent(.warning(warning)) }
        guard check.strict == true, !warnings.isEmpty else { return }
        await state.halt("--strict-image: the image has \(warnings.count) problem\(warnings.count == 1 ? "" : "s") (above); nothing was changed",
                         exit: ExitStatus.preflight)
    }
}

/// The last batch's updated hosts checked through their own nginx; a host that fails counts as failed (phase
/// "verify"). Read-only, so it runs even when the rollout halted: it tells the truth about the hosts switched.
struct VerifyStage: StageKind {
    var runsAfterHalt: Bool { true }
    var runsAfterInterrupt: Bool { true }

    func run(_ stage: Stage, _ executor: Executor, _ state: RunState) async {
        let lastBatch = await state.lastBatch
        let batch = await state.batchIndex
        let targets = stage.hosts.filter { lastBatch.contains($0.host) }
        if !targets.isEmpty { executor.onEvent(.stage(stage.title)) }
        let entries = targets.compactMap { executor.entry(for: $0.host) }
        let steps = Dictionary(targets.compactMap { hs in hs.steps.first.map { (hs.host, $0) } }, uniquingKeysWith: { first, _ in first })
        let (sessions, files, onEvent) = (executor.sessions, executor.files, executor.onEvent)
        _ = await forEachHost(entries, limit: min(executor.plan.policy.parallel, sessions.budget.inFlight)) { entry -> Bool in
            guard let step = steps[entry.name], let check = step.check else { return true }
            var problem: String?
            do {
                let runner = StepRunner(files: files)
                let result = try await sessions.using(entry) { session in try await runner.check(step, on: session) }
                problem = Verifier.problem(result, endpoints: check.endpoints ?? [], host: entry.name)
            } catch {
                problem = "verify through nginx could not run: \(HostFailure(host: entry.name, error: error, unreachable: nil).message)"
            }
            guard let problem else { return true }
            await state.fail(entry.name, phase: "verify", exitCode: nil, error: problem, lines: [], batch: batch)
            onEvent(.hostDone(await state.report(entry.name)))
            return false
        }
        await executor.judgeFailures(state)
    }
}

/// `rollout.pause` between batches; cut short when the user asks to stop.
struct PauseStage: StageKind {
    func run(_ stage: Stage, _ executor: Executor, _ state: RunState) async {
        executor.onEvent(.stage("pause \(Double(stage.pauseMs ?? 0) / 1000) s"))
        var left = stage.pauseMs ?? 0
        while left > 0 && executor.interrupt.requested == nil {
            try? await Task.sleep(for: .milliseconds(min(left, 200)))
            left -= 200
        }
    }
}
