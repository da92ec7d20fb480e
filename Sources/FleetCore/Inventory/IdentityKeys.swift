import SSHEngine

/// RSA identity files, found before any login: fleet's SSH library (libssh2 1.10) signs RSA keys only with
/// ssh-rsa (SHA-1), which OpenSSH 8.8 and later refuse, so such a key would fail only at login on every host.
/// The key types are read when the inventory is loaded (`readIdentityKeyTypes`, the one read of the files); the
/// warnings and the refusal are worked out from them without I/O. Key contents are never shown.
extension Inventory {
    static let rsaAdvice = "fleet's SSH library (libssh2 1.10) signs RSA keys only with ssh-rsa (SHA-1), which OpenSSH 8.8 "
        + "and later refuse; use an ed25519 key: ssh-keygen -t ed25519, add its .pub line to the hosts' authorized_keys "
        + "and list it under ssh.identity_files"

    /// The key type of every identity file the hosts use, from the file's header or the `.pub` beside it (each read
    /// through `LocalFile`: regular files under the identity-file bound only). A file that cannot be read or
    /// recognised is left out (`checkLocalFiles` names a missing or unreadable one).
    static func readIdentityKeyTypes(_ hosts: [HostEntry]) -> [String: String] {
        var types: [String: String] = [:]
        var seen: Set<String> = []
        for path in hosts.flatMap({ $0.connection.identityFiles.map(\.value) }) where seen.insert(path).inserted {
            let max = LocalFile.maxIdentityFileBytes
            let pub = (try? LocalFile.read(path + ".pub", what: "public key", maxBytes: max)).flatMap { $0 }
            let key = pub == nil ? (try? LocalFile.read(path, what: "identity file", maxBytes: max)).flatMap { $0 } : nil
            if let type = PrivateKeyInspector.keyType(privateKey: key.map { String(decoding: $0, as: UTF8.self) } ?? "",
                                                      publicKey: pub.map { String(decoding: $0, as: UTF8.self) }) {
                types[path] = type
            }
        }
        return types
    }

    /// One warning per RSA identity file the given hosts use, naming the file and the hosts.
    public func identityWarnings(hosts: [HostEntry]) -> [String] {
        var order: [String] = []
        var users: [String: [String]] = [:]
        for host in hosts {
            for file in host.connection.identityFiles where identityKeyTypes[file.value] == "ssh-rsa" {
                if users[file.value] == nil { order.append(file.value) }
                users[file.value, default: []].append(host.name)
            }
        }
        return order.map { path in
            let names = users[path] ?? []
            let who = names.count == self.hosts.count ? "every host" : names.count <= 5 ? names.joined(separator: ", ")
                : names.prefix(5).joined(separator: ", ") + " and \(names.count - 5) more"
            return "identity file \(path) (for \(who)) is an RSA key: a login with it fails; " + Self.rsaAdvice
        }
    }

    /// Refuses (exit 2) a host that could log in with nothing but RSA keys: every identity file RSA, no ssh-agent.
    public func checkIdentityKeys() throws {
        for host in hosts {
            let files = host.connection.identityFiles.map(\.value)
            guard !files.isEmpty, !host.connection.agent.value,
                  files.allSatisfy({ identityKeyTypes[$0] == "ssh-rsa" }) else { continue }
            throw InventoryError(file: files[0], message: "host \(host.name): every identity file (\(files.joined(separator: ", "))) "
                + "is an RSA key and no ssh-agent is used, so no login can work; " + Self.rsaAdvice)
        }
    }
}
