import SSHEngine

/// A host the plan changes: how it is reached (its resolved connection, the only thing its sessions are opened
/// from), what `--probe` found there, and the processes it runs.
///
/// In JSON, `address`, `port`, `user` and `via` (left out when direct) repeat the connection's values for
/// readers that want the endpoint alone; `connection` holds every setting with where it came from.
public struct PlanHost: Sendable, Equatable, Codable {
    public var name: String
    public var connection: Connection
    public var probe: HostState?
    /// The processes that run on this host (nil: the web process alone, without `processes:`).
    public var processes: [String]? = nil

    public init(name: String, connection: Connection, probe: HostState? = nil, processes: [String]? = nil) {
        self.name = name
        self.connection = connection
        self.probe = probe
        self.processes = processes
    }

    public var address: String { connection.address.value }
    public var port: Int { connection.port.value }
    public var user: String { connection.user.value }
    /// The jump hosts the host is reached through, first hop first; nil when direct.
    public var via: [JumpHost]? { connection.via.value.isEmpty ? nil : connection.via.value }

    enum CodingKeys: String, CodingKey {
        case name, connection, probe, processes, address, port, user, via
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        connection = try c.decode(Connection.self, forKey: .connection)
        probe = try c.decodeIfPresent(HostState.self, forKey: .probe)
        processes = try c.decodeIfPresent([String].self, forKey: .processes)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(address, forKey: .address)
        try c.encode(port, forKey: .port)
        try c.encode(user, forKey: .user)
        try c.encodeIfPresent(via, forKey: .via)
        try c.encode(connection, forKey: .connection)
        try c.encodeIfPresent(probe, forKey: .probe)
        try c.encodeIfPresent(processes, forKey: .processes)
    }
}
