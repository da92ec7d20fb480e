import Foundation
import SSHEngine

/// Something that went wrong on one host, said for people: which host, what happened, what to do next.
public struct HostFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var message: String
    /// True when the host was never reached (connection, host key, authentication).
    public var unreachable: Bool

    public init(host: String, message: String, unreachable: Bool = false) {
        self.host = host
        self.message = message
        self.unreachable = unreachable
    }

    public var description: String { message.hasPrefix(host + ":") ? message : "\(host): \(message)" }
}

/// What one host script said: its exit, its last JSON line, and its stderr for messages.
public struct HostScriptOutput: Sendable {
    public var exitStatus: Int32
    public var signal: String?
    /// The last line of stdout that is a JSON object (every host script prints one).
    public var json: JSONValue?
    public var stdout: String
    public var stderr: String

    public var succeeded: Bool { exitStatus == 0 && signal == nil }

    /// What went wrong, for people: the script's own `error`, else its last stderr lines, else the exit code.
    public var problem: String {
        if let said = json?["error"]?.text { return said }
        let tail = stderr.split(separator: "\n").suffix(3).joined(separator: " / ")
        if let signal { return "killed by signal \(signal)" + (tail.isEmpty ? "" : ": \(tail)") }
        return "exit \(exitStatus)" + (tail.isEmpty ? "" : ": \(tail)")
    }
}

/// Puts the playbooks and `fleet.conf` on a host (the first steps of the plan's pre-flight), then runs scripts.
public struct HostScripts: Sendable {
    public var inventory: Inventory
    public var playbooks: Playbooks

    public init(inventory: Inventory, playbooks: Playbooks) {
        self.inventory = inventory
        self.playbooks = playbooks
    }

    public func root(_ host: String) -> String { inventory.rootDir(for: host) }
    public func confPath(_ host: String) -> String { root(host) + "/fleet.conf" }
    public func scriptPath(_ host: String, _ script: String) -> String { root(host) + "/bin/" + script }

    /// `ROOT/bin/SCRIPT --config ROOT/fleet.conf ARGS...`, every word quoted as needed.
    public func commandLine(_ host: String, _ script: String, _ args: [String]) -> String {
        ShellWords.join([scriptPath(host, script), "--config", confPath(host)] + args)
    }

    /// Installs the host scripts and `fleet.conf` in the app's folders (the files pre-flight installs), in one
    /// round trip. Safe to run again. Throws a `HostFailure` saying what failed and what to do.
    public func install(on session: any HostSession) async throws {
        _ = try await send(StepFactory.installScripts(playbooks.files.map(\.name), from: playbooks.dir, inventory: inventory,
                                                      host: session.hostName, run: nil, [], purpose: "", timeout: 60, place: true,
                                                      fleetVersion: playbooks.fleetVersion),
                           on: session)
    }

    /// Runs one script from a fresh copy of the scripts and `fleet.conf` (sent in the same round trip, removed
    /// after): a read-only command never changes the files a running deploy uses. Throws only when the command
    /// could not run at all (connection lost, timeout, no room to unpack).
    /// `onLine` sees the script's output lines as they arrive (`timeout` nil: no limit, e.g. logs followed until
    /// the caller cancels).
    public func installAndRun(_ script: String, _ args: [String], on session: any HostSession,
                              timeout: Duration? = .seconds(120), onLine: LineHandler? = nil) async throws -> HostScriptOutput {
        var step = StepFactory.installScripts(playbooks.files.map(\.name), from: playbooks.dir, inventory: inventory,
                                              host: session.hostName, run: script, args, purpose: "",
                                              timeout: Int((timeout ?? .seconds(120)) / .seconds(1)), place: false,
                                              fleetVersion: playbooks.fleetVersion)
        if timeout == nil { step.timeoutSeconds = nil }
        return try await send(step, on: session, onLine: onLine)
    }

    /// Sends an install step and reads what its script said; the step's own failures (a script's non-zero exit)
    /// are the output's, not thrown.
    private func send(_ step: Step, on session: any HostSession, onLine: LineHandler? = nil) async throws -> HostScriptOutput {
        let host = session.hostName
        let runner = StepRunner(files: UploadFiles(playbooks: playbooks.bytesByPath, env: []))
        let result: CommandResult
        do {
            result = try await runner.execute(step, on: session, onLine: onLine)
        } catch {
            throw HostFailure(host: host, message: "installing the host scripts in \(root(host)) failed: \(error.message)",
                              unreachable: error.unreachable)
        }
        let output = HostScriptOutput(exitStatus: result.exitStatus, signal: result.exitSignal,
                                      json: JSONValue.resultLine(in: result.stdoutText),
                                      stdout: result.stdoutText, stderr: result.stderrText)
        // The folders or the unpacking, not the script.
        if output.exitStatus == StepFactory.installFailed && output.json == nil {
            let why = result.stderrText.split(separator: "\n").last.map(String.init) ?? "exit \(result.exitStatus)"
            throw HostFailure(host: host, message:
                "cannot install the host scripts in \(root(host)) as \(inventory.ssh.user): \(why); run `fleet setup --env \(inventory.environment) --hosts \(host)` as root, or grant that user write access")
        }
        return output
    }

    /// Runs `ROOT/bin/SCRIPT --config ROOT/fleet.conf ARGS...` and parses its JSON line. Throws only when the
    /// command could not run at all (connection lost, timeout).
    public func run(_ script: String, _ args: [String], on session: any HostSession,
                    timeout: Duration? = .seconds(120)) async throws -> HostScriptOutput {
        let step = Step.run(commandLine(session.hostName, script, args), script: script, purpose: "run \(script)",
                            timeoutSeconds: timeout.map { Int($0 / .seconds(1)) })
        let result: CommandResult
        do {
            result = try await StepRunner(files: UploadFiles(playbooks: [:], env: [])).execute(step, on: session)
        } catch {
            throw HostFailure(host: session.hostName, message: error.message, unreachable: error.unreachable)
        }
        return HostScriptOutput(exitStatus: result.exitStatus, signal: result.exitSignal,
                                json: JSONValue.resultLine(in: result.stdoutText),
                                stdout: result.stdoutText, stderr: result.stderrText)
    }
}
