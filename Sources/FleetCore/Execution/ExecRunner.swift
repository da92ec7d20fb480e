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

/// `fleet exec`: one command on many hosts in parallel, each on its own session.
public struct ExecRunner: Sendable {
    public var transport: any Transport
    public var settings: SSHSettings
    public var parallel: Int
    public var timeout: Duration?

    public init(transport: any Transport, settings: SSHSettings, parallel: Int, timeout: Duration? = nil) {
        self.transport = transport
        self.settings = settings
        self.parallel = parallel
        self.timeout = timeout
    }

    public func run(_ command: String, on hosts: [HostEntry],
                    onResult: (@Sendable (ExecResult) -> Void)? = nil) async -> [ExecResult] {
        let transport = self.transport
        let settings = self.settings
        let timeout = self.timeout
        return await forEachHost(hosts, limit: parallel) { host in
            let started = ContinuousClock.now
            var result = ExecResult(host: host.name, exitStatus: nil, signal: nil, stdout: "", stderr: "",
                                    durationMs: 0, error: nil, unreachable: false)
            do {
                let session = try await transport.connect(host, settings: settings)
                do {
                    let output = try await session.run(command, timeout: timeout, stdin: [], onLine: nil)
                    result.exitStatus = output.exitStatus
                    result.signal = output.exitSignal
                    result.stdout = output.stdoutText
                    result.stderr = output.stderrText
                } catch {
                    result.error = "\(error)"
                }
                await session.close()
            } catch let error as SSHError {
                result.error = error.description
                result.unreachable = true
            } catch {
                result.error = "\(host.name): \(error)"
                result.unreachable = true
            }
            result.durationMs = Int((ContinuousClock.now - started) / .milliseconds(1))
            onResult?(result)
            return result
        }
    }
}
