import Foundation
import SSHEngine

/// `ssh.config` as the hosts parser applies it: the config read, which `ssh.*` keys the inventory writes (those
/// win over the config), and the keywords ignored so far (for the plan).
final class SSHConfigContext {
    let config: SSHConfig
    /// `ssh.*` keys written in the inventory (`user`, `port`, `identity_files`, ...).
    let explicit: Set<String>
    let home: String
    let localUser: String
    private(set) var ignored: [SSHConfigIgnored] = []
    private var seen: Set<SSHConfigIgnored> = []

    init(config: SSHConfig, explicit: Set<String>, home: String, localUser: String) {
        self.config = config
        self.explicit = explicit
        self.home = home
        self.localUser = localUser
    }

    func noteIgnored(_ list: [SSHConfigIgnored]) {
        for item in list where seen.insert(item).inserted { ignored.append(item) }
    }
}

extension HostsParser {
    /// The host with `ssh.config` applied. The config is looked up by the host's address as written in the
    /// inventory (the name one would type after `ssh`); its `HostName` then replaces the address. For each
    /// setting: the host's own key (`port`, `user`, a port in the address), else the `ssh.*` key when written,
    /// else the config, else fleet's default. The route: the host's `proxy_jump` (`via`), else `ssh.proxy_jump`
    /// when written, else the config's `ProxyJump`, else direct.
    func host(_ name: String, address: String, port: Int?, user: String?, tags: [String], via: [JumpHost]?) throws -> HostEntry {
        guard let context = sshConfig else {
            return HostEntry(name: name, address: address, port: port ?? ssh.port, user: user ?? ssh.user, tags: tags,
                             via: via ?? ssh.proxyJump)
        }
        let written = context.explicit
        let found = try SSHConfigHost(context.config.match(address), host: address, readPolicy: !written.contains("host_key_policy"))
        context.noteIgnored(found.ignored)
        let finalUser = user ?? (written.contains("user") ? ssh.user : found.user ?? ssh.user)
        let finalPort = port ?? (written.contains("port") ? ssh.port : found.port ?? ssh.port)
        let finalAddress = found.hostName ?? address
        func local(_ path: SSHConfigPath) throws -> String {
            try SSHConfigTokens.path(path, home: context.home, localUser: context.localUser, hostName: finalAddress,
                                     original: address, port: finalPort, user: finalUser)
        }
        var overrides = HostSSHOverrides()
        if !written.contains("identity_files"), !found.identityFiles.isEmpty {
            var paths: [String] = []
            for path in found.identityFiles { let p = try local(path); if !paths.contains(p) { paths.append(p) } }
            overrides.identityFiles = paths
        }
        if found.identitiesOnly == true { overrides.identitiesOnly = true }
        if !written.contains("known_hosts"), let known = found.knownHosts { overrides.knownHosts = try local(known) }
        overrides.hostKeyPolicy = found.hostKeyPolicy
        if !written.contains("connect_timeout") { overrides.connectTimeoutSeconds = found.connectTimeoutSeconds }
        overrides.keepaliveInterval = found.serverAliveInterval
        overrides.proxyJump = found.proxyJump
        let route = try via ?? (written.contains("proxy_jump") ? ssh.proxyJump
                                : configRoute(found.proxyJump, host: name, file: context.config.file.path) ?? ssh.proxyJump)
        return HostEntry(name: name, address: finalAddress, port: finalPort, user: finalUser, tags: tags,
                         ssh: overrides.isEmpty ? nil : overrides, via: route)
    }

    /// The config's `ProxyJump` (`[user@]host[:port]`, comma-separated, or `none` as []) as a route; nil when unset.
    func configRoute(_ hops: [String]?, host: String, file: String) throws -> [JumpHost]? {
        guard let hops else { return nil }
        guard hops.count <= ProxyJumpParser.maxHops else {
            throw InventoryError(file: file, message: "ProxyJump for host '\(host)' chains \(hops.count) jump hosts; fleet allows at most \(ProxyJumpParser.maxHops)")
        }
        return try hops.map { text in
            guard let hop = ProxyJumpParser.hop(text, defaultUser: ssh.user) else {
                throw InventoryError(file: file, message: "ProxyJump '\(YAMLSection.printable(text))' for host '\(host)' is not [user@]host[:port]; fleet reads only that form (no ssh:// URLs)")
            }
            return hop
        }
    }
}

extension Inventory {
    /// The local files the sessions read, checked before any host is contacted: `ssh.*`'s (see
    /// `SSHSettings.checkLocalFiles`), and those `ssh.config` names per host. An `IdentityFile` from the config
    /// may be missing (as for ssh, it is then skipped and named if authentication fails); one that exists must
    /// be a regular file.
    public func checkLocalFiles() throws {
        try ssh.checkLocalFiles()
        var checked: Set<String> = []
        for host in hosts {
            guard let o = host.ssh else { continue }
            for path in o.identityFiles ?? [] where checked.insert(path).inserted {
                _ = try LocalFile.read(path, what: "identity file (IdentityFile in \(sshConfig?.file ?? "ssh.config"))",
                                       maxBytes: LocalFile.maxIdentityFileBytes)
            }
            if let known = o.knownHosts, checked.insert(known).inserted {
                try LocalFile.check(known, what: "known_hosts file (UserKnownHostsFile in \(sshConfig?.file ?? "ssh.config"))",
                                    maxBytes: LocalFile.maxKnownHostsBytes)
            }
        }
    }
}
