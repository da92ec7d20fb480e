import Foundation
import SSHEngine

/// One environment's inventory: the app, its hosts, and how to roll out to them. Loaded and validated by
/// `InventoryLoader`; every value here has already been checked (safe for `fleet.conf` and command lines).
public struct Inventory: Sendable, Equatable {
    /// The inventory file (absolute path).
    public var file: String
    /// The environment name (the file name without `.yml`).
    public var environment: String
    public var app: String
    /// Image reference without a tag; the version is the tag.
    public var image: String
    /// The dotenv file uploaded to each host, or nil for none (an empty env file is uploaded).
    public var envFile: EnvFile?
    public var ssh: SSHSettings
    /// Hosts in file order, with defaults resolved.
    public var hosts: [HostEntry]
    public var rollout: RolloutSettings
    public var health: HealthSettings
    public var paths: PathSettings
    public var nginx: NginxSettings
    public var container: ContainerSettings
    /// Seconds the old container keeps serving after the switch.
    public var drainSeconds: Int
    public var keepReleases: Int
    public var hooks: HookSettings
    public var metrics: MetricsSettings
    /// Endpoints checked through nginx by `fleet verify` and after each batch (default: the health path alone).
    public var verify: [VerifyEndpoint] = []
    public var notify: NotifySettings
    public var imageChecks: ImageCheckSettings
    /// `ssh.config`: the file read and the keywords it ignored for these hosts (nil: off).
    public var sshConfig: SSHConfigSummary? = nil
    /// The private registry pre-flight logs in to before it pulls (nil: none, the hosts pull as they are).
    public var registry: RegistrySettings? = nil
    /// `processes:` in file order; without it, one `web` process on every host (`processesDeclared` false).
    public var processes: [AppProcess] = []
    public var processesDeclared = false
    /// Secret variables that were not set when the inventory was read by a command that sends none (never for a
    /// deploy, whose loader requires them): a deploy plan refuses an inventory that lists any.
    public var unsetSecrets: [String] = []
    /// `playbooks:`, absolute: a folder of customised host scripts to install instead of fleet's own.
    public var playbooks: String? = nil
    /// What the inventory accepts but the user should know (an env file line that looks like shell substitution),
    /// shown by the plan and by deploy; never a value.
    public var warnings: [String] = []
    /// The key type of each identity file the hosts use (`ssh-rsa`, `ssh-ed25519`...), read from the file (or the
    /// `.pub` beside it) when the inventory is loaded; a file that could not be read or recognised is left out.
    public var identityKeyTypes: [String: String] = [:]
}

public struct SSHSettings: Sendable, Equatable {
    public var user: String
    public var port: Int
    /// Absolute paths, `~` expanded.
    public var identityFiles: [String]
    /// Absolute path, `~` expanded.
    public var knownHosts: String
    public var hostKeyPolicy: HostKeyPolicy
    public var connectTimeout: Duration
    /// Hosts in flight at most.
    public var parallel: Int
    /// `ssh.proxy_jump`: the jump hosts every host is reached through, unless it says otherwise.
    public var proxyJump: [JumpHost] = []
    /// Some host is reached through jump hosts (a tunnel costs a session one more descriptor).
    public var usesJumps = false
    /// The keys the inventory writes under `ssh:` (`user`, `identity_files`...): those win over `ssh.config`,
    /// and the plan names them as where a setting came from.
    public var written: Set<String> = []
}

public struct HostEntry: Sendable, Equatable, Hashable, Codable {
    public var name: String
    public var tags: [String]
    /// How the host is reached, every setting resolved with its origin (`ConnectionResolver`).
    public var connection: Connection

    public init(name: String, tags: [String] = [], connection: Connection) {
        self.name = name
        self.tags = tags
        self.connection = connection
    }

    public var address: String { connection.address.value }
    public var port: Int { connection.port.value }
    public var user: String { connection.user.value }
    /// The jump hosts on the way, first hop first; empty for a host reached directly.
    public var via: [JumpHost] { connection.via.value }
}

/// One entry of `rollout.batch`: a host count or a percentage of the targeted hosts.
public enum BatchSize: Sendable, Equatable, Hashable, CustomStringConvertible, Codable {
    case count(Int)
    case percent(Int)

    public var description: String {
        switch self {
        case .count(let n): return "\(n)"
        case .percent(let p): return "\(p)%"
        }
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if text.hasSuffix("%"), let p = Int(text.dropLast()) { self = .percent(p) } else { self = .count(Int(text) ?? 1) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

public struct RolloutSettings: Sendable, Equatable {
    /// Batch sizes in order; the last one repeats (as Ansible's `serial`).
    public var batch: [BatchSize]
    public var pause: Duration
    /// Hosts that may fail before the rollout halts.
    public var maxFailures: Int
}

public struct HealthSettings: Sendable, Equatable {
    public var path: String
    public var status: Int
    public var timeoutSeconds: Int
    public var intervalSeconds: Int
    /// Seconds one health request may take (curl's --max-time on the host).
    public var requestTimeoutSeconds = 3
}

/// Remote paths; may hold `{host}` (see `resolved(for:)`).
public struct PathSettings: Sendable, Equatable {
    public var root: String
    public var state: String
}

public struct NginxSettings: Sendable, Equatable {
    public var upstreamFile: String
    public var upstreamName: String
    /// Empty: nginx's default configuration.
    public var conf: String
    public var url: String
}

public struct ContainerSettings: Sendable, Equatable {
    /// The variable the app reads its listen port from.
    public var portEnv: String
    /// The blue and the green slot ports.
    public var ports: [Int]
    /// What else `docker run` is given.
    public var options = ContainerOptions()
}

/// A command run inside the new image on the first targeted host (argv, no shell).
public struct HookSettings: Sendable, Equatable {
    public var beforeRollout: [String]?
    public var afterRollout: [String]?
}

public struct MetricsSettings: Sendable, Equatable {
    /// node_exporter textfile collector folder; empty: off.
    public var textfileDir: String
    /// Pushgateway base URL; empty: no push (`--pushgateway` overrides).
    public var pushgateway: String = ""
}

extension Inventory {
    /// Replaces `{host}` by the host's name.
    public static func substitute(_ value: String, host: String) -> String {
        value.contains("{host}") ? value.replacingOccurrences(of: "{host}", with: host) : value
    }

    /// The app's folder on `host` (`paths.root` with `{host}` replaced).
    public func rootDir(for host: String) -> String { Self.substitute(paths.root, host: host) }

    /// The host by name, if the inventory holds it.
    public func host(named name: String) -> HostEntry? { hosts.first { $0.name == name } }
}
