import Foundation
import SSHEngine

/// What one command did on one host, for `fleet exec`.
public struct ExecResult: Sendable, Equatable {
    public var host: String
    public var exitStatus: Int32?
    public var signal: String?
    public var stdout: String
    public var stderr: String
    public var durationMs: Int
    /// Set when the host could not be reached or the command could not run.
    public var error: String?
    public var unreachable: Bool

    public var succeeded: Bool { error == nil && exitStatus == 0 && signal == nil }
}

/// `fleet exec`: one command on many hosts in parallel, each on a session of its own (closed when done).
public struct ExecRunner: Sendable {
    public var sessions: Sessions
    public var timeout: Duration?
    /// Instead of the command line: this host script with these arguments, from a fresh copy of the scripts
    /// (`exec --container` runs `container.sh exec -- CMD...`).
    public var script: (scripts: HostScripts, args: [String])?

    public init(sessions: Sessions, timeout: Duration? = nil) {
        self.sessions = sessions
        self.timeout = timeout
    }

    public func run(_ command: String, on hosts: [HostEntry],
                    onResult: (@Sendable (ExecResult) -> Void)? = nil) async -> [ExecResult] {
        let timeout = self.timeout
        let script = self.script
        let done = Done()
        _ = await sessions.each(hosts, onDone: { (outcome: Result<ExecResult, HostFailure>, elapsed: Duration) in
            let result: ExecResult
            switch outcome {
            case .success(let ran): result = ran
            case .failure(let failure):
                result = ExecResult(host: failure.host, exitStatus: nil, signal: nil, stdout: "", stderr: "",
                                    durationMs: Int(elapsed / .milliseconds(1)), error: failure.description, unreachable: failure.unreachable)
            }
            done.add(result)
            onResult?(result)
        }) { host, session in
            let began = ContinuousClock.now
            let ms = { Int((ContinuousClock.now - began) / .milliseconds(1)) }
            if let script {
                let output = try await script.scripts.installAndRun("container.sh", script.args, on: session, timeout: timeout ?? .seconds(3600))
                // A refusal of the script (no release, container not running) is its JSON error, not the command's.
                let error = output.json?["error"]?.text.map { "\(host.name): \($0)" }
                return ExecResult(host: host.name, exitStatus: output.exitStatus, signal: output.signal, stdout: error == nil ? output.stdout : "",
                                  stderr: output.stderr, durationMs: ms(), error: error, unreachable: false)
            }
            let output = try await session.run(command, timeout: timeout, stdin: [], onLine: nil)
            return ExecResult(host: host.name, exitStatus: output.exitStatus, signal: output.exitSignal,
                              stdout: output.stdoutText, stderr: output.stderrText, durationMs: ms(), error: nil, unreachable: false)
        }
        return done.inOrder(hosts)
    }

    /// Each host's result as it arrived, given back in the hosts' order.
    final class Done: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [String: ExecResult] = [:]

        func add(_ result: ExecResult) {
            lock.lock()
            results[result.host] = result
            lock.unlock()
        }

        func inOrder(_ hosts: [HostEntry]) -> [ExecResult] {
            lock.lock()
            defer { lock.unlock() }
            return hosts.compactMap { results[$0.name] }
        }
    }
}
