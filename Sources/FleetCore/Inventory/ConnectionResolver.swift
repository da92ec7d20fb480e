import SSHEngine

/// What the inventory writes for one host, each with the key it is written under (nil: not written).
struct HostKeys {
    var name: String
    /// The address as written: the name `ssh.config` is looked up by.
    var address: Resolved<String>
    var port: Resolved<Int>? = nil
    var user: Resolved<String>? = nil
    /// `hosts.NAME.proxy_jump` ([] for `none`).
    var via: Resolved<[JumpHost]>? = nil
}

/// The one place a host's connection is decided. Pure: `ssh.config` was read with the inventory, and whether
/// ssh-agent is there (`SSH_AUTH_SOCK`) is given. For each setting: the host's own key (`port`, `user`, a port
/// in the address, `proxy_jump`), else the `ssh.*` key when the inventory writes it, else `ssh.config` (looked
/// up by the address as written; its `HostName` replaces the address), else fleet's default. ssh-agent is
/// offered when `SSH_AUTH_SOCK` is set, unless the config says `IdentitiesOnly yes`.
struct ConnectionResolver {
    /// Seconds between keepalives when `ssh.config` sets no `ServerAliveInterval`.
    static let defaultKeepaliveSeconds = 15

    let ssh: SSHSettings
    /// `SSH_AUTH_SOCK` is set in fleet's environment.
    let agentAvailable: Bool
    /// `ssh.config`, when the inventory turns it on and the file exists.
    var config: SSHConfigContext? = nil

    func resolve(_ host: HostKeys) throws -> Connection {
        let lookup = host.address.value
        let found = try config.map { c in
            try SSHConfigHost(c.config.match(lookup), host: lookup, readPolicy: !ssh.written.contains("host_key_policy"))
        }
        config?.noteIgnored(found?.ignored ?? [])
        func written<Value>(_ key: String, _ value: Value) -> Resolved<Value>? {
            ssh.written.contains(key) ? Resolved(value, from: .inventory(key: "ssh." + key)) : nil
        }
        let user = host.user ?? written("user", ssh.user) ?? found?.user ?? Resolved(ssh.user, from: .default)
        let port = host.port ?? written("port", ssh.port) ?? found?.port ?? Resolved(ssh.port, from: .default)
        let address = found?.hostName ?? host.address
        func local(_ path: SSHConfigPath) throws -> Resolved<String> {
            guard let c = config else { return path.setting.resolved(path.text) }
            return path.setting.resolved(try SSHConfigTokens.path(path, home: c.home, localUser: c.localUser, hostName: address.value,
                                                                  original: lookup, port: port.value, user: user.value))
        }
        var identities: [Resolved<String>] = []
        if !ssh.written.contains("identity_files") {
            for path in found?.identityFiles ?? [] {
                let file = try local(path)
                if !identities.contains(where: { $0.value == file.value }) { identities.append(file) }
            }
        }
        if identities.isEmpty {
            let origin: SettingOrigin = ssh.written.contains("identity_files") ? .inventory(key: "ssh.identity_files") : .default
            identities = ssh.identityFiles.map { Resolved($0, from: origin) }
        }
        let agent = found?.identitiesOnly.flatMap { $0.value ? Resolved(false, from: $0.from) : nil }
            ?? Resolved(agentAvailable, from: .environment(variable: "SSH_AUTH_SOCK"))
        let timeoutMs = Int(YAMLSection.milliseconds(ssh.connectTimeout))
        return Connection(
            address: address, port: port, user: user, identityFiles: identities, agent: agent,
            knownHosts: try written("known_hosts", ssh.knownHosts) ?? found?.knownHosts.map(local) ?? Resolved(ssh.knownHosts, from: .default),
            hostKeyPolicy: written("host_key_policy", ssh.hostKeyPolicy) ?? found?.hostKeyPolicy ?? Resolved(ssh.hostKeyPolicy, from: .default),
            connectTimeoutMs: written("connect_timeout", timeoutMs)
                ?? found?.connectTimeoutSeconds.map { Resolved($0.value * 1000, from: $0.from) } ?? Resolved(timeoutMs, from: .default),
            keepaliveSeconds: found?.serverAliveInterval ?? Resolved(Self.defaultKeepaliveSeconds, from: .default),
            via: try host.via ?? written("proxy_jump", ssh.proxyJump) ?? route(found?.proxyJump, host: host.name)
                ?? Resolved(ssh.proxyJump, from: .default))
    }

    /// The config's `ProxyJump` (`[user@]host[:port]`, comma-separated, or `none` as []) as a route; nil when unset.
    func route(_ hops: Resolved<[String]>?, host: String) throws -> Resolved<[JumpHost]>? {
        guard let hops else { return nil }
        func error(_ message: String) -> InventoryError {
            guard case .sshConfig(let place) = hops.from else { return InventoryError(file: "ssh.config", message: message) }
            return InventoryError(file: place.file, line: place.line, message: message + " (ssh.config)")
        }
        guard hops.value.count <= ProxyJumpParser.maxHops else {
            throw error("ProxyJump for host '\(host)' chains \(hops.value.count) jump hosts; fleet allows at most \(ProxyJumpParser.maxHops)")
        }
        return Resolved(try hops.value.map { text in
            guard let hop = ProxyJumpParser.hop(text, defaultUser: ssh.user) else {
                throw error("ProxyJump '\(YAMLSection.printable(text))' for host '\(host)' is not [user@]host[:port]; fleet reads only that form (no ssh:// URLs)")
            }
            return hop
        }, from: hops.from)
    }
}
