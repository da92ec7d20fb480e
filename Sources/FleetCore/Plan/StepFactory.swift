import Foundation

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

    /// Long enough for a health wait (twice: the new container, then through nginx), the drain and the old
    /// container's stop, with room for docker; on a host of workers only, their checks and stops with room for docker.
    func switchTimeout(_ h: HostEntry) -> Int {
        let time = Self.hostTime(inv, [h])
        return time.workersOnly == nil ? time.total : time.workersOnlyTotal
    }

    static func hostTime(_ inv: Inventory, _ hosts: [HostEntry]) -> HostTime {
        let workers = inv.workers
        let workersOnly = hosts.filter { !inv.processes(on: $0).contains(where: \.isWeb) }.map(\.name)
        return HostTime(health: inv.health.timeoutSeconds, drain: inv.drainSeconds, stop: inv.webOptions.stopTimeoutSeconds, docker: 90,
                        workers: workers.isEmpty ? nil : WorkerTime(
                            check: workers.map { ($0.check ?? .runningFor(seconds: WorkerCheck.defaultSeconds)).seconds }.max() ?? 0,
                            stop: workers.map(\.options.stopTimeoutSeconds).max() ?? 0),
                        workersOnly: workersOnly.isEmpty ? nil : workersOnly)
    }

    /// Pre-flight in one command per host: the host scripts and `fleet.conf` unpacked, the lock taken, the files
    /// renamed into place; then (deploy) the env file, which rode in the same tar stream (0600, never on a command
    /// line), moved whole into `incoming/`, the registry login with the password from that stream on its stdin,
    /// and `preflight.sh`: checks, and the pull.
    func preflight(_ h: HostEntry) -> [Step] {
        // A rollback to "the previous release" names no version in the lock (lock.sh takes --version as optional).
        let version = (isDeploy ? input.version : input.rollbackTo).map { ["--version", $0] } ?? []
        let lock = ["acquire", "--run-id", input.run.runId, "--who", input.run.who, "--pid", String(input.run.pid),
                    "--command", input.command.rawValue] + version
        let q = ShellWords.quote
        var secrets: [InstallFile] = []
        var then: [String] = []
        var purpose: [String] = ["take the host lock, then put the files in place"]
        if isDeploy {
            let env = inv.envFile
            secrets.append(InstallFile(source: UploadSource(kind: .envFile, name: "env file", localPath: env?.file, keys: env?.keys ?? [],
                                                            count: env?.keys.count ?? 0),
                                       path: envPath(h), mode: "0600", member: "2/env"))
            then.append("mv -f \"$t\"/2/env \(q(envPath(h)))")
            purpose.append("write the release's environment (0600)")
            if let registry = inv.registry {
                secrets.append(InstallFile(source: UploadSource(kind: .registryPassword, name: "registry password", env: registry.passwordEnv),
                                           path: "(read from the unpack folder by the login, then removed)", mode: "0600", member: "2/password"))
                then.append(ShellWords.join([script(h, "preflight.sh"), "--config", conf(h), "--version", targetVersion, "--login", registry.username])
                            + " < \"$t\"/2/password")
                then.append("rm -f \"$t\"/2/password")
                purpose.append(loginPurpose(h, registry))
            }
            then.append("exec " + ShellWords.join([script(h, "preflight.sh"), "--config", conf(h), "--version", targetVersion, "--pull"]))
            purpose.append("check tools, rights and disk; pull the image")
        } else {
            then.append("exec " + ShellWords.join([script(h, "preflight.sh"), "--config", conf(h), "--version", targetVersion]))
            purpose.append("check tools, rights and disk")
        }
        return [Self.installScripts(input.playbookNames, from: input.playbooksDir, inventory: inv, host: h.name,
                                    run: "lock.sh", lock, purpose: purpose.joined(separator: "; "), timeout: isDeploy ? 900 : 90,
                                    place: true, fleetVersion: input.fleetVersion, secrets: secrets, then: then)]
    }

    /// The registry login, under the host lock and before the pull, in words: the password never on a command
    /// line, into the app's own docker config folder (STATE/docker, 0700), which the pull uses and then empties.
    func loginPurpose(_ h: HostEntry, _ registry: RegistrySettings) -> String {
        let user = registry.usernameEnv.map { " ({env: \($0)})" } ?? ""
        return "log in to the registry \(registry.server) as \(registry.username)\(user) with docker login --password-stdin "
            + "(the password of {env: \(registry.passwordEnv)}), "
            + "into the app's own docker config folder \(Inventory.substitute(inv.paths.state, host: h.name))/docker (0700)"
    }

    /// The one install step: the host scripts `names` of `dir` (0755) and the host's `fleet.conf` (0644), sent as
    /// one tar stream and unpacked into a fresh folder under ROOT (0700, removed however the command ends); then
    /// `script ARGS` runs from that unpacked copy (`--config` its fleet.conf). With `place`, only once that script
    /// succeeded (the lock: nothing shared changes before it is held, so a refused deploy leaves the running one's
    /// scripts and fleet.conf alone) are the files renamed into place, each whole, and `then` runs (pre-flight,
    /// reading `secrets`, members of the same stream); without, the copy is removed (read-only commands: status,
    /// lock). The step's exit status and last stdout line are the script's, or the last of `then`'s.
    /// The exit status of an install step whose folders or unpacking failed, or (with `then`) whose script
    /// failed for another reason than a held lock: nothing was taken.
    static let installFailed: Int32 = 97
    /// What pre-flight's command prints once its lock is held.
    static let lockHeldLine = "fleet-lock-held"

    static func installScripts(_ names: [String], from dir: String, inventory: Inventory, host: String,
                               run script: String?, _ args: [String], purpose: String, timeout: Int, place: Bool,
                               fleetVersion: String = FleetVersion.current, secrets: [InstallFile] = [], then: [String] = []) -> Step {
        let root = inventory.rootDir(for: host)
        var files = names.map { name in
            InstallFile(source: UploadSource(kind: .playbook, name: name, localPath: dir + "/" + name),
                        path: root + "/bin/" + name, mode: "0755", member: "0/" + name)
        }
        files.append(InstallFile(source: UploadSource(kind: .inline, name: "fleet.conf", content: FleetConf.render(inventory, host: host, fleetVersion: fleetVersion)),
                                 path: root + "/fleet.conf", mode: "0644", member: "1/fleet.conf"))
        files.append(InstallFile(source: UploadSource(kind: .inline, name: "container.args", content: inventory.webOptions.argumentsFile),
                                 path: root + "/container.args", mode: "0644", member: "1/container.args"))
        files += processFiles(inventory, host: host)
        files += secrets
        let q = ShellWords.quote
        // Exit 97 (no script uses it) says the folders or the unpacking failed, not the script.
        var command = "set -e; umask 022; { install -d -m 0755 \(q(root)) \(q(root + "/bin")) && install -d -m 0700 \(q(root + "/incoming")) && "
        command += "t=$(mktemp -d \(q(root + "/.fleet-install.XXXXXX"))) && trap 'rm -rf \"$t\"' EXIT && tar -x -o -f - -C \"$t\"; } || exit \(Self.installFailed)"
        if let script {
            let call = "\"$t\"/0/\(q(script)) --config \"$t\"/1/fleet.conf" + args.map { " " + q($0) }.joined()
            // With `then`, only a held lock keeps its exit status (3); any other failure of the script took nothing.
            let status = then.isEmpty ? "" : "[ \"$s\" -eq \(ExitStatus.lockHeld) ] || s=\(Self.installFailed); "
            command += "; if \(call); then :; else s=$?; \(status)exit \"$s\"; fi"
            // The line that says the lock is held: the run's other hosts start their pre-flight on it.
            if !then.isEmpty { command += "; echo \(Self.lockHeldLine)" }
        }
        if place {
            command += "; mv -f \"$t\"/0/* \(q(root + "/bin/")); mv -f \"$t\"/1/* \(q(root + "/"))"
        }
        for next in then where !next.hasPrefix("exec ") { command += "; " + next }
        command += "; rm -rf \"$t\"; trap - EXIT"
        for next in then where next.hasPrefix("exec ") { command += "; " + next }
        let did = place ? "install the host scripts and fleet.conf" : "unpack the host scripts and fleet.conf into a fresh folder"
        var step = Step.install(files, command: command, purpose: ["create the app's folders", did, purpose].filter { !$0.isEmpty }
            .joined(separator: ", "), timeoutSeconds: 30 + timeout)
        step.script = script.map { ($0 as NSString).deletingPathExtension }
        return step
    }

    /// The swap (deploy or rollback); with `verify` and the inventory's `verify` endpoints, followed in the same
    /// command by those endpoints checked through the host's own nginx (after `Verifier.marker`; read-only).
    func rollout(_ h: HostEntry, verify: Bool = false) -> Step {
        var step: Step
        if isDeploy {
            step = call(h, "deploy", ["--version", targetVersion, "--env-file", envPath(h), "--run-id", input.run.runId],
                        purpose: processesPurpose(h) ?? "start the new container, wait for health, switch nginx, drain the old one", timeout: switchTimeout(h))
        } else {
            let to = input.rollbackTo.map { ["--to", $0] } ?? []
            let back = "switch back to \(input.rollbackTo ?? "the previous release")"
            step = call(h, "rollback", to + ["--run-id", input.run.runId],
                        purpose: processesPurpose(h).map { back + ": " + $0 } ?? back + ", health-checked", timeout: switchTimeout(h))
        }
        guard verify, !inv.verify.isEmpty else { return step }
        // The swap's exit status stands; the check's answer is read from what follows the marker, never its status.
        step.command = (step.command ?? "") + " || exit \"$?\"; echo \(Verifier.marker); (\(Verifier.command(inventory: inv))) || true"
        step.purpose += "; then check the endpoints through nginx"
        step.timeoutSeconds = (step.timeoutSeconds ?? 0) + Verifier.timeoutSeconds * max(1, inv.verify.count) + 30
        step.check = .verify(inv.verify)
        return step
    }

    /// When a hook runs, and so which env file of the version it gets.
    enum HookTime: String {
        /// Before the first batch: the env file pre-flight uploaded (`incoming/V.env`), not yet moved by deploy.sh.
        case beforeRollout = "before_rollout"
        /// After the last batch: the release's env file, where deploy.sh put it (`releases/V/env`).
        case afterRollout = "after_rollout"

        var env: String { self == .beforeRollout ? "incoming" : "release" }
        func envText(_ version: String) -> String {
            self == .beforeRollout ? "the env file uploaded for \(version)" : "the env file \(version) runs with"
        }
    }

    /// A hook names the version and which of its env files, never a path: hook.sh finds the file where the host
    /// scripts keep it at that time, so the hook does not depend on a file an earlier step moved.
    func hook(_ h: HostEntry, _ argv: [String], _ time: HookTime) -> Step {
        .run(ShellWords.join([script(h, "hook.sh"), "--config", conf(h), "--version", targetVersion, "--env", time.env, "--"] + argv),
             script: "hook", purpose: "\(time.rawValue) hook inside the new image, with \(time.envText(targetVersion))",
             timeoutSeconds: nil)
    }

    /// The pulled image inspected where pre-flight pulled it (read-only).
    func imageCheck() -> Step {
        var step = Step.run(ImageCheck.command(image: "\(inv.image):\(targetVersion)"), purpose: "inspect the pulled image",
                            timeoutSeconds: 30)
        step.check = .image("\(inv.image):\(targetVersion)", maxSizeMB: inv.imageChecks.maxSizeMB, strict: input.strictImage)
        return step
    }

    func undo(_ h: HostEntry) -> Step {
        call(h, "rollback", ["--run-id", input.run.runId], purpose: "undo this run's deploy on this host", timeout: switchTimeout(h))
    }

    func release(_ h: HostEntry) -> Step {
        call(h, "lock", ["release", "--run-id", input.run.runId], purpose: "release the host lock", timeout: 30)
    }
}
