import Foundation

/// Where to connect: the name people use for the host, and how to reach it.
public struct SSHTarget: Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int
    public var user: String
    /// The jump hosts on the way, first hop first; empty for a host reached directly.
    public var via: [JumpHost]

    public init(name: String, address: String, port: Int = 22, user: String, via: [JumpHost] = []) {
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.via = via
    }
}

/// How to connect: keys, host key checking, timeouts.
public struct SSHOptions: Sendable, Equatable {
    public var identityFiles: [String]
    public var knownHostsPath: String
    public var hostKeyPolicy: HostKeyPolicy
    public var connectTimeout: Duration
    /// Seconds between keepalives while waiting on a command.
    public var keepaliveInterval: Int
    /// The ssh-agent socket; nil to skip the agent.
    public var agentSocket: String?

    public init(identityFiles: [String] = [], knownHostsPath: String, hostKeyPolicy: HostKeyPolicy = .strict,
                connectTimeout: Duration = .seconds(10), keepaliveInterval: Int = 15, agentSocket: String? = nil) {
        self.identityFiles = identityFiles
        self.knownHostsPath = knownHostsPath
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
        self.keepaliveInterval = keepaliveInterval
        self.agentSocket = agentSocket
    }
}

/// What a command did.
public struct CommandResult: Sendable, Equatable {
    public var exitStatus: Int32
    /// The signal that killed the command (`TERM`, `KILL`, ...), if one did.
    public var exitSignal: String?
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var duration: Duration

    public init(exitStatus: Int32, exitSignal: String?, stdout: [UInt8], stderr: [UInt8], duration: Duration) {
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
        self.stdout = stdout
        self.stderr = stderr
        self.duration = duration
    }

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    public var succeeded: Bool { exitStatus == 0 && exitSignal == nil }
}

/// One piece of output, as it arrives.
public enum OutputKind: String, Sendable { case stdout, stderr }

/// A callback that receives complete lines (without the newline) as they arrive.
public typealias LineHandler = @Sendable (OutputKind, String) -> Void
