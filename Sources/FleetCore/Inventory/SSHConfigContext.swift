import Foundation
import SSHEngine

/// `ssh.config` as the connection resolver applies it: the config read, where its paths are expanded from, and
/// the keywords ignored so far (for the plan).
final class SSHConfigContext {
    let config: SSHConfig
    let home: String
    let localUser: String
    private(set) var ignored: [SSHConfigIgnored] = []
    private var seen: Set<SSHConfigIgnored> = []

    init(config: SSHConfig, home: String, localUser: String) {
        self.config = config
        self.home = home
        self.localUser = localUser
    }

    func noteIgnored(_ list: [SSHConfigIgnored]) {
        for item in list where seen.insert(item).inserted { ignored.append(item) }
    }
}

extension Inventory {
    /// The local files the sessions read, checked before any host is contacted: `ssh.*`'s (see
    /// `SSHSettings.checkLocalFiles`), and those `ssh.config` names in a host's connection. An `IdentityFile` from
    /// the config may be missing (as for ssh, it is then skipped and named if authentication fails); one that
    /// exists must be a regular file. A host with nothing but RSA keys is refused (see `checkIdentityKeys`).
    public func checkLocalFiles() throws {
        try ssh.checkLocalFiles()
        var checked: Set<String> = []
        for host in hosts {
            let c = host.connection
            for file in c.identityFiles where file.from != .inventory(key: "ssh.identity_files") && checked.insert(file.value).inserted {
                _ = try LocalFile.read(file.value, what: "identity file (IdentityFile, \(file.from))", maxBytes: LocalFile.maxIdentityFileBytes)
            }
            if c.knownHosts.from != .inventory(key: "ssh.known_hosts"), c.knownHosts.from != .default, checked.insert(c.knownHosts.value).inserted {
                try LocalFile.check(c.knownHosts.value, what: "known_hosts file (UserKnownHostsFile, \(c.knownHosts.from))",
                                    maxBytes: LocalFile.maxKnownHostsBytes)
            }
        }
        try checkIdentityKeys()
    }
}
