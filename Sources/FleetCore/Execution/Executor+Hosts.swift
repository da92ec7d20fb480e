import Foundation
import SSHEngine

extension Executor {
    /// Runs each host's steps, hosts in parallel (at most the sessions' in-flight budget). Returns the hosts that
    /// failed (hooks) or were done (batches).
    @discardableResult
    func runHosts(_ hosts: [HostSteps], phase: String, batch: Int?, state: RunState, isHook: Bool = false,
                  countUpdated: Bool = false, isUndo: Bool = false, isRelease: Bool = false) async -> [String] {
        let entries = hosts.compactMap { entry(for: $0.host) }
        let byName = Dictionary(uniqueKeysWithValues: hosts.map { ($0.host, $0.steps) })
        let (sessions, interrupt, onEvent) = (self.sessions, self.interrupt, self.onEvent)
        let runner = StepRunner(files: files)
        let results: [String?] = await forEachHost(entries, limit: min(plan.policy.parallel, sessions.budget.inFlight)) { entry -> String? in
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
                session = try await sessions.lease(entry)
            } catch {
                if isRelease {
                    onEvent(.note("\(name): could not release the lock: \(HostFailure(host: name, error: error, unreachable: true).description)"))
                    return nil
                }
                await state.unreachable(name, error: "\(error)")
                onEvent(.hostDone(await state.report(name)))
                return isHook ? name : nil
            }
            do throws(StepFailure) {
                let result = try await runner.run(byName[name] ?? [], on: session)
                if phase == "pre-flight" { await state.lockTaken(name) }
                if isRelease { await sessions.close(name) } else { await sessions.giveBack(name) }
                let ms = Int((ContinuousClock.now - began) / .milliseconds(1))
                if countUpdated {
                    await state.updated(name, batch: batch, result: result, ms: ms)
                    onEvent(.hostDone(await state.report(name)))
                    return name
                }
                if isUndo { await state.rolledBack(name) }
                return nil
            } catch {
                if error.connectionLost || isRelease { await sessions.close(name) } else { await sessions.giveBack(name) }
                if isRelease {
                    onEvent(.note("\(name): could not release the lock: \(error.message)"))
                    return nil
                }
                if error.step.script == "lock" && error.exitCode == ExitStatus.lockHeld {
                    await state.lockHeld(name, message: error.message)
                } else if phase == "pre-flight" && (error.step.script != "lock" || error.exitCode == nil) {
                    await state.lockTaken(name)
                }
                let ms = Int((ContinuousClock.now - began) / .milliseconds(1))
                await state.fail(name, phase: phase, exitCode: error.exitCode, error: error.message, lines: error.lastLines,
                                 batch: batch, ms: ms)
                onEvent(.hostDone(await state.report(name)))
                return isHook ? name : nil
            }
        }
        return results.compactMap { $0 }
    }

    /// The image check on the host where pre-flight pulled the image: warnings as events; the refusal (with
    /// `--strict-image`) when there is a problem.
    func imageCheck(_ stage: Stage) async -> String? {
        guard let hostSteps = stage.hosts.first, let step = hostSteps.steps.first, let check = step.check,
              let entry = entry(for: hostSteps.host) else { return nil }
        let image = check.image ?? plan.image
        var warnings: [String]
        let runner = StepRunner(files: files)
        do {
            let result = try await sessions.using(entry) { session in try await runner.check(step, on: session) }
            warnings = ImageCheck.judge(result, host: entry.name, image: image, maxSizeMB: check.maxSizeMB ?? 0).map(\.description)
        } catch {
            warnings = ["\(entry.name): \(image): could not inspect the image: \(HostFailure(host: entry.name, error: error, unreachable: nil).message)"]
        }
        for warning in warnings { onEvent(.warning(warning)) }
        guard check.strict == true, !warnings.isEmpty else { return nil }
        return "--strict-image: the image has \(warnings.count) problem\(warnings.count == 1 ? "" : "s") (above); nothing was changed"
    }

    /// The batch's hosts checked through their own nginx, on the sessions the run holds; a host that fails
    /// counts as failed (phase "verify").
    func verify(_ hosts: [HostSteps], batch: Int, state: RunState) async {
        let entries = hosts.compactMap { entry(for: $0.host) }
        let steps = Dictionary(uniqueKeysWithValues: hosts.compactMap { hs in hs.steps.first.map { (hs.host, $0) } })
        let (sessions, files, onEvent) = (self.sessions, self.files, self.onEvent)
        _ = await forEachHost(entries, limit: min(plan.policy.parallel, sessions.budget.inFlight)) { entry -> Bool in
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
    }
}

extension Executor {
    /// The plan's host by name, as the transport connects to it (one lookup table for the whole run).
    func entry(for host: String) -> HostEntry? { hostsByName[host]?.entry }
}

extension PlanHost {
    /// The host as the transport connects to it: the plan's resolved connection, as it is.
    public var entry: HostEntry { HostEntry(name: name, connection: connection) }
}
