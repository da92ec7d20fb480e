/// Builds a `Plan` from a `PlanInput`. Pure: no files, network, clock or environment; the same input always
/// gives the same plan.
public enum PlanBuilder {
    public static func build(_ input: PlanInput) throws -> Plan {
        let inv = input.inventory
        let target: String?
        switch input.command {
        case .deploy:
            guard let v = input.version else {
                throw InputError("version", "deploy needs a version, like: fleet deploy --env \(inv.environment) v1.4.2")
            }
            try validateVersion(v)
            // Read without its secrets (a command that sends none): a deploy cannot send what it did not read.
            guard inv.unsetSecrets.isEmpty else {
                throw InputError(inv.file, "a deploy sends the secrets of env.secret and registry, and \(inv.unsetSecrets.joined(separator: ", ")) "
                    + "\(inv.unsetSecrets.count == 1 ? "is" : "are") not set in fleet's environment; export \(inv.unsetSecrets.count == 1 ? "it" : "them") before running fleet")
            }
            target = v
        case .rollback:
            if let to = input.rollbackTo { try validateVersion(to) }
            target = input.rollbackTo
        }
        try checkInput(input)

        var skipped: [SkippedHost] = []
        var targets: [HostEntry] = []
        for host in input.hosts {
            if inv.processesDeclared, inv.processes(on: host).isEmpty {
                skipped.append(SkippedHost(name: host.name, reason: "runs no process of \(inv.app) (processes.*.hosts)"))
            } else if !input.force, let target, let state = input.probe?[host.name], state.error == nil, state.release == target {
                skipped.append(SkippedHost(name: host.name, reason: "already on \(target) (probe); --force deploys it again"))
            } else {
                targets.append(host)
            }
        }
        let sizes = batchSizes(inv.rollout.batch, hostCount: targets.count)
        let pauseMs = Int(YAMLSection.milliseconds(inv.rollout.pause))
        let steps = StepFactory(input: input)

        var stages: [Stage] = []
        let lead = targets.min(by: { $0.name < $1.name })
        // The lock is taken on one host first (the first by name), then everywhere else in parallel: of two runs
        // started at the same moment on the same hosts, exactly one gets past that host, the other changes nothing.
        // The others start as soon as that lock is held, not when the lead's pre-flight (its pull) is done.
        if let first = lead {
            stages.append(Stage(kind: targets.count > 1 ? .lock : .preflight,
                                title: targets.count > 1 ? "pre-flight on \(first.name) first (the lock)" : "pre-flight",
                                hosts: [HostSteps(host: first.name, steps: steps.preflight(first))], pauseMs: nil))
            let rest = targets.filter { $0.name != first.name }
            if !rest.isEmpty {
                stages.append(Stage(kind: .preflight, title: "pre-flight",
                                    hosts: rest.map { HostSteps(host: $0.name, steps: steps.preflight($0)) }, pauseMs: nil))
            }
        }
        // One rule for "the first host": the lock's, the image check's and the hooks' (shown as the lead host).
        let hookHost = lead
        if input.command == .deploy, let first = hookHost {
            stages.append(Stage(kind: .imageCheck, title: "image check",
                                hosts: [HostSteps(host: first.name, steps: [steps.imageCheck()])], pauseMs: nil))
        }
        if input.command == .deploy, let hookHost, let argv = inv.hooks.beforeRollout {
            stages.append(Stage(kind: .hook, title: "before_rollout",
                                hosts: [HostSteps(host: hookHost.name, steps: [steps.hook(hookHost, argv, .beforeRollout)])], pauseMs: nil))
        }
        var start = 0
        for (index, size) in sizes.enumerated() {
            let batch = targets[start..<(start + size)]
            start += size
            let title = "batch \(index + 1) of \(sizes.count)"
            // A host that serves the web process checks the `verify` endpoints through its nginx in the same command.
            stages.append(Stage(kind: .batch, title: title, hosts: batch.map { host in
                let web = !inv.processesDeclared || inv.processes(on: host).contains(where: \.isWeb)
                return HostSteps(host: host.name, steps: [steps.rollout(host, verify: web)])
            }, pauseMs: nil))
            if index < sizes.count - 1, pauseMs > 0 {
                stages.append(Stage(kind: .pause, title: "pause", hosts: [], pauseMs: pauseMs))
            }
        }
        if input.command == .deploy, let hookHost, let argv = inv.hooks.afterRollout {
            stages.append(Stage(kind: .hook, title: "after_rollout",
                                hosts: [HostSteps(host: hookHost.name, steps: [steps.hook(hookHost, argv, .afterRollout)])], pauseMs: nil))
        }
        let undo = input.command == .deploy && input.rollbackOnFailure
            ? targets.map { HostSteps(host: $0.name, steps: [steps.undo($0)]) } : []

        return Plan(
            command: input.command, app: inv.app, environment: inv.environment, inventory: inv.file, image: inv.image,
            version: input.command == .deploy ? target : nil, rollbackTo: input.rollbackTo, run: input.run,
            policy: FailurePolicy(maxFailures: inv.rollout.maxFailures,
                                  rollbackOnFailure: input.command == .deploy && input.rollbackOnFailure,
                                  parallel: inv.ssh.parallel, batch: inv.rollout.batch, batchSizes: sizes, pauseMs: pauseMs,
                                  skipUnreachable: input.skipUnreachable),
            hosts: targets.map { PlanHost(name: $0.name, connection: $0.connection, probe: input.probe?[$0.name],
                                          processes: processNames(inv, $0)) },
            skipped: skipped,
            envFile: input.command == .deploy
                ? inv.envFile.map { EnvFileSummary(path: $0.file, keys: $0.keys, count: $0.keys.count,
                                                  origins: $0.origins.isEmpty ? nil : $0.origins) } : nil,
            stages: stages, leadHost: lead?.name, onFailure: undo,
            finally: targets.map { HostSteps(host: $0.name, steps: [steps.release($0)]) },
            hostTime: targets.isEmpty ? nil : StepFactory.hostTime(inv, targets), sshConfig: inv.sshConfig,
            registry: input.command == .deploy ? inv.registry.map {
                RegistrySummary(server: $0.server, username: $0.username, usernameEnv: $0.usernameEnv, passwordEnv: $0.passwordEnv)
            } : nil, processes: processSummaries(inv), warnings: warnings(input))
    }

    /// The env file's warnings (deploy only: a rollback uploads no env file) and the selected hosts' identity files'.
    static func warnings(_ input: PlanInput) -> [String]? {
        let all = (input.command == .deploy ? input.inventory.warnings : []) + input.inventory.identityWarnings(hosts: input.hosts)
        return all.isEmpty ? nil : all
    }

    /// Arguments that go on command lines: refused when unsafe, even though they are quoted.
    static func checkInput(_ input: PlanInput) throws {
        let run = input.run
        for (label, value) in [("run id", run.runId), ("who", run.who)] {
            // The host scripts' token grammar: [A-Za-z0-9@._:+-]{1,128}.
            guard !value.isEmpty, value.unicodeScalars.count <= 128,
                  value.unicodeScalars.allSatisfy({ Validation.isAlnum($0) || "@._:+-".unicodeScalars.contains($0) }) else {
                throw InputError(label, "the \(label) '\(YAMLSection.printable(value))' must be 1 to 128 letters, digits or @ . _ : + -")
            }
        }
        for name in input.playbookNames {
            guard !name.isEmpty, !name.hasPrefix("."), name.unicodeScalars.allSatisfy({ Validation.isAlnum($0) || "._-".unicodeScalars.contains($0) }) else {
                throw PlaybooksError("\(input.playbooksDir): host script name '\(YAMLSection.printable(name))' must be a plain file name like deploy.sh")
            }
        }
        let known = Set(input.inventory.hosts.map(\.name))
        var seen = Set<String>()
        for host in input.hosts {
            guard known.contains(host.name), seen.insert(host.name).inserted else {
                throw InventoryError(file: input.inventory.file, message: "host '\(host.name)' is not in the inventory or selected twice; select hosts with selectHosts")
            }
        }
    }
}
