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
            let result = try await executor.sessions.using(entry) { session in try await runner.execute(step, on: session) }
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
