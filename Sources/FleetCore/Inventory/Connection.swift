import SSHEngine

/// How one host is reached, every setting resolved (see `ConnectionResolver`) and paired with where it came
/// from. Computed once when the inventory is read, carried by the plan (`PlanHost.connection`), and the only
/// thing a session is opened from (`SSHTransport.connect`): `exec`, `deploy`, `status` and the rest reach a host
/// the same way.
public struct Connection: Sendable, Hashable, Codable {
    /// The address connected to (and that known_hosts is checked under).
    public var address: Resolved<String>
    public var port: Resolved<Int>
    public var user: Resolved<String>
    /// Absolute paths, in the order they are tried; empty: none.
    public var identityFiles: [Resolved<String>]
    /// Whether ssh-agent is offered (its socket is the command's `SSH_AUTH_SOCK`, given to the transport).
    public var agent: Resolved<Bool>
    /// Absolute path.
    public var knownHosts: Resolved<String>
    public var hostKeyPolicy: Resolved<HostKeyPolicy>
    public var connectTimeoutMs: Resolved<Int>
    /// Seconds between keepalives while waiting on a command.
    public var keepaliveSeconds: Resolved<Int>
    /// The jump hosts on the way, first hop first; empty: direct.
    public var via: Resolved<[JumpHost]>

    public init(address: Resolved<String>, port: Resolved<Int>, user: Resolved<String>, identityFiles: [Resolved<String>],
                agent: Resolved<Bool>, knownHosts: Resolved<String>, hostKeyPolicy: Resolved<HostKeyPolicy>,
                connectTimeoutMs: Resolved<Int>, keepaliveSeconds: Resolved<Int>, via: Resolved<[JumpHost]>) {
        self.address = address
        self.port = port
        self.user = user
        self.identityFiles = identityFiles
        self.agent = agent
        self.knownHosts = knownHosts
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeoutMs = connectTimeoutMs
        self.keepaliveSeconds = keepaliveSeconds
        self.via = via
    }

    /// Where to connect, as SSHEngine takes it.
    public func target(name: String) -> SSHTarget {
        SSHTarget(name: name, address: address.value, port: port.value, user: user.value, via: via.value)
    }

    /// How to connect, as SSHEngine takes it: this connection's settings as they are, with the command's agent
    /// socket when the connection uses the agent.
    public func options(agentSocket: String?) -> SSHOptions {
        SSHOptions(identityFiles: identityFiles.map(\.value), knownHostsPath: knownHosts.value,
                   hostKeyPolicy: hostKeyPolicy.value, connectTimeout: .milliseconds(connectTimeoutMs.value),
                   keepaliveInterval: keepaliveSeconds.value, agentSocket: agent.value ? agentSocket : nil)
    }
}

/// A setting's value and where it came from.
public struct Resolved<Value: Sendable & Hashable & Codable>: Sendable, Hashable, Codable {
    public var value: Value
    public var from: SettingOrigin

    public init(_ value: Value, from: SettingOrigin) {
        self.value = value
        self.from = from
    }
}

/// Where a connection setting came from: an inventory key (`ssh.user`, `hosts.web1.port`), a line of
/// `ssh.config`, fleet's environment (`SSH_AUTH_SOCK`), a command-line option (`--login`), or fleet's default.
/// In JSON one string, as the plan's text shows it: `inventory ssh.user`, `ssh.config /home/me/.ssh/config:12`,
/// `environment SSH_AUTH_SOCK`, `option --login`, `default`.
public enum SettingOrigin: Sendable, Hashable, Codable, CustomStringConvertible {
    case inventory(key: String)
    case sshConfig(SSHConfigPlace)
    case environment(variable: String)
    case option(String)
    case `default`

    public var description: String {
        switch self {
        case .inventory(let key): return "inventory \(key)"
        case .sshConfig(let place): return "ssh.config \(place)"
        case .environment(let variable): return "environment \(variable)"
        case .option(let name): return "option \(name)"
        case .default: return "default"
        }
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if text == "default" { self = .default; return }
        let (kind, rest) = text.firstIndex(of: " ").map { (text[..<$0], String(text[text.index(after: $0)...])) } ?? (Substring(text), "")
        switch kind {
        case "inventory": self = .inventory(key: rest)
        case "environment": self = .environment(variable: rest)
        case "option": self = .option(rest)
        case "ssh.config":
            guard let colon = rest.lastIndex(of: ":"), let line = Int(rest[rest.index(after: colon)...]) else { fallthrough }
            self = .sshConfig(SSHConfigPlace(file: String(rest[..<colon]), line: line))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown setting origin '\(text)'"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
