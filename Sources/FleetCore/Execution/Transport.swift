import Foundation
import SSHEngine

/// One open session to one host. The executor talks only to this, so tests can record what runs.
public protocol HostSession: Sendable {
    var hostName: String { get }
    func run(_ command: String, timeout: Duration?, stdin: [UInt8], onLine: LineHandler?) async throws -> CommandResult
    func close() async
}

/// Opens sessions, each from the host's resolved connection (`HostEntry.connection`, the plan's) and nothing
/// else. `SSHTransport` is the real one; tests may record instead.
public protocol Transport: Sendable {
    func connect(_ host: HostEntry) async throws -> any HostSession
}

extension SSHConnection: HostSession {
    public nonisolated var hostName: String { target.name }
}

/// The real transport: libssh2 sessions, with handshakes paced by what limits them (`HandshakePacer`).
public struct SSHTransport: Transport {
    /// Each handshake costs this machine CPU and the server a process; letting hundreds start together on a busy
    /// machine makes every one slow, while over a long round trip many must be in flight to keep the CPU busy.
    /// The pacer starts at 8 per core (the best fixed count with no delay, docs/benchmarks/pacing.md) and grows
    /// while handshakes wait on the network rather than on a core (docs/benchmarks/wan.md).
    public let pacer: HandshakePacer
    /// The command's ssh-agent socket (`SSH_AUTH_SOCK`), offered to the hosts whose connection uses the agent.
    public let agentSocket: String?
    /// The run's jump sessions, shared by every host reached through the same jump hosts.
    public let jumps: JumpHosts

    public init(pacer: HandshakePacer = HandshakePacer(), agentSocket: String?, jumps: JumpHosts = JumpHosts()) {
        self.pacer = pacer
        self.agentSocket = agentSocket
        self.jumps = jumps
    }

    public func connect(_ host: HostEntry) async throws -> any HostSession {
        try await SSHConnection.connect(to: host.connection.target(name: host.name), options: host.connection.options(agentSocket: agentSocket),
                                        pacer: pacer, jumps: jumps)
    }
}
