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

/// The real transport: libssh2 sessions, with handshakes paced through a semaphore.
public struct SSHTransport: Transport {
    /// How many handshakes may be in progress at once. Each costs the server a process and some CPU; letting
    /// hundreds start together makes every one of them slow (and time out), pacing keeps them quick.
    public let handshakes: AsyncSemaphore
    public let agentSocket: String?
    /// The run's jump sessions, shared by every host reached through the same jump hosts.
    public let jumps: JumpHosts

    public init(handshakeConcurrency: Int = SSHTransport.defaultHandshakeConcurrency, agentSocket: String?,
                jumps: JumpHosts = JumpHosts()) {
        self.handshakes = AsyncSemaphore(permits: handshakeConcurrency)
        self.agentSocket = agentSocket
        self.jumps = jumps
    }

    /// 8 per core: the benchmark (docs/benchmarks.md) showed 16 connections in progress beating 100 by 3x on a
    /// 2-core machine, where many simultaneous sshd handshakes cost the servers four times the CPU each.
    public static let defaultHandshakeConcurrency = 8 * max(1, ProcessInfo.processInfo.activeProcessorCount)

    public func connect(_ host: HostEntry, settings: SSHSettings) async throws -> any HostSession {
        let target = SSHTarget(name: host.name, address: host.address, port: host.port, user: host.user, via: host.via)
        let options = Self.options(for: host, settings: settings, agentSocket: agentSocket)
        return try await SSHConnection.connect(to: target, options: options, gate: handshakes, jumps: jumps)
    }

    /// The inventory's SSH settings, with what `ssh.config` set for this host (`HostEntry.ssh`) in their place;
    /// `IdentitiesOnly yes` leaves ssh-agent out.
    public static func options(for host: HostEntry, settings: SSHSettings, agentSocket: String?) -> SSHOptions {
        let o = host.ssh
        var options = SSHOptions(identityFiles: o?.identityFiles ?? settings.identityFiles,
                                 knownHostsPath: o?.knownHosts ?? settings.knownHosts,
                                 hostKeyPolicy: o?.hostKeyPolicy ?? settings.hostKeyPolicy,
                                 connectTimeout: o?.connectTimeoutSeconds.map { .seconds($0) } ?? settings.connectTimeout,
                                 agentSocket: o?.identitiesOnly == true ? nil : agentSocket)
        if let interval = o?.keepaliveInterval { options.keepaliveInterval = interval }
        return options
    }
}
