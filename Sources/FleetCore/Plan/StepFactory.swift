/// The exact steps for one host, following the script CLIs of docs/design.md.
struct StepFactory {
    let input: PlanInput
    var inv: Inventory { input.inventory }
    var isDeploy: Bool { input.command == .deploy }
    /// The version pre-flight names: the deploy version, the rollback target, or `previous` (a label only).
    var targetVersion: String { (isDeploy ? input.version : input.rollbackTo) ?? "previous" }

    func root(_ h: HostEntry) -> String { inv.rootDir(for: h.name) }
    func conf(_ h: HostEntry) -> String { root(h) + "/fleet.conf" }
    func script(_ h: HostEntry, _ name: String) -> String { root(h) + "/bin/" + name }
    func envPath(_ h: HostEntry) -> String { root(h) + "/incoming/\(input.version ?? "")" + ".env" }

    /// A script call: `ROOT/bin/NAME.sh --config ROOT/fleet.conf ARGS...`, each word quoted as needed.
    func call(_ h: HostEntry, _ name: String, _ args: [String], purpose: String, timeout: Int?) -> Step {
        .run(ShellWords.join([script(h, name + ".sh"), "--config", conf(h)] + args), script: name, purpose: purpose, timeoutSeconds: timeout)
    }

    /// Long enough for a health wait, the switch and the drain, with room for docker.
    var switchTimeout: Int { inv.health.timeoutSeconds * 2 + inv.drainSeconds + 120 }

    func preflight(_ h: HostEntry) -> [Step] {
        let r = root(h)
        var steps: [Step] = [
            .run("install -d -m 0755 \(ShellWords.quote(r)) \(ShellWords.quote(r + "/bin")) && install -d -m 0700 \(ShellWords.quote(r + "/incoming"))",
                 purpose: "create the app's folders", timeoutSeconds: 30),
        ]
        for name in input.playbookNames {
            let source = UploadSource(kind: .playbook, name: name, localPath: input.playbooksDir + "/" + name)
            steps.append(.upload(source, to: script(h, name), mode: "0755", purpose: "install host script \(name)"))
        }
        let confSource = UploadSource(kind: .inline, name: "fleet.conf", content: FleetConf.render(inv, host: h.name))
        steps.append(.upload(confSource, to: conf(h), mode: "0644", purpose: "host configuration"))
        // A rollback to "the previous release" names no version in the lock (lock.sh takes --version as optional).
        let version = (isDeploy ? input.version : input.rollbackTo).map { ["--version", $0] } ?? []
        steps.append(call(h, "lock", ["acquire", "--run-id", input.run.runId, "--who", input.run.who, "--pid", String(input.run.pid),
                                      "--command", input.command.rawValue] + version,
                          purpose: "take the host lock", timeout: 30))
        if isDeploy {
            let env = inv.envFile
            let source = UploadSource(kind: .envFile, name: "env file", localPath: env?.path, keys: env?.keys ?? [], count: env?.keys.count ?? 0)
            steps.append(.upload(source, to: envPath(h), mode: "0600", purpose: "the release's environment"))
            steps.append(call(h, "preflight", ["--version", targetVersion, "--pull"],
                              purpose: "check tools, rights and disk; pull the image", timeout: 900))
        } else {
            steps.append(call(h, "preflight", ["--version", targetVersion], purpose: "check tools, rights and disk", timeout: 60))
        }
        return steps
    }

    func rollout(_ h: HostEntry) -> Step {
        if isDeploy {
            return call(h, "deploy", ["--version", targetVersion, "--env-file", envPath(h), "--run-id", input.run.runId],
                        purpose: "start the new container, wait for health, switch nginx, drain the old one", timeout: switchTimeout)
        }
        let to = input.rollbackTo.map { ["--to", $0] } ?? []
        return call(h, "rollback", to + ["--run-id", input.run.runId],
                    purpose: "switch back to \(input.rollbackTo ?? "the previous release"), health-checked", timeout: switchTimeout)
    }

    func hook(_ h: HostEntry, _ argv: [String], _ phase: String) -> Step {
        .run(ShellWords.join([script(h, "hook.sh"), "--config", conf(h), "--version", targetVersion, "--env-file", envPath(h), "--"] + argv),
             script: "hook", purpose: "\(phase) hook inside the new image", timeoutSeconds: nil)
    }

    func undo(_ h: HostEntry) -> Step {
        call(h, "rollback", ["--run-id", input.run.runId], purpose: "undo this run's deploy on this host", timeout: switchTimeout)
    }

    func release(_ h: HostEntry) -> Step {
        call(h, "lock", ["release", "--run-id", input.run.runId], purpose: "release the host lock", timeout: 30)
    }
}
