import Foundation
import SSHEngine

/// One open session to one host. The executor talks only to this, so tests can record what runs.
public protocol HostSession: Sendable {
    var hostName: String { get }
    func run(_ command: String, timeout: Duration?, stdin: [UInt8], onLine: LineHandler?) async throws -> CommandResult
    func close() async
}

/// Opens sessions. `SSHTransport` is the real one; tests may record instead.
public protocol Transport: Sendable {
    func connect(_ host: HostEntry, settings: SSHSettings) async throws -> any HostSession
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
    public let agentSocket: String?

    public init(pacer: HandshakePacer = HandshakePacer(), agentSocket: String?) {
        self.pacer = pacer
        self.agentSocket = agentSocket
    }

    public func connect(_ host: HostEntry, settings: SSHSettings) async throws -> any HostSession {
        let target = SSHTarget(name: host.name, address: host.address, port: host.port, user: host.user)
        let options = SSHOptions(identityFiles: settings.identityFiles, knownHostsPath: settings.knownHosts,
                                 hostKeyPolicy: settings.hostKeyPolicy, connectTimeout: settings.connectTimeout,
                                 agentSocket: agentSocket)
        return try await SSHConnection.connect(to: target, options: options, pacer: pacer)
    }
}
