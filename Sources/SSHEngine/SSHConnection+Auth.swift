import CLibSSH2
import Foundation

extension SSHConnection {
    /// ssh-agent first (when `SSH_AUTH_SOCK` is given), then the identity files in order.
    func authenticate(deadline: Deadline) throws {
        let user = target.user
        var tried: [String] = []
        var rsaTried: [String] = []
        var missing: [String] = []

        // Keys first, without asking for the list of methods: that question ("none") costs a round trip on every
        // connection. It is asked only when no key got in (a server that lets "none" in).
        if let socketPath = options.agentSocket, !socketPath.isEmpty,
           try authenticateWithAgent(socketPath: socketPath, deadline: deadline, tried: &tried, rsaTried: &rsaTried) {
            return
        }

        for path in options.identityFiles {
            guard FileManager.default.fileExists(atPath: path) else {
                missing.append(path)
                continue
            }
            let isRSA = PrivateKeyInspector.isRSA(path: path)
            let rc = try retry("authentication", until: deadline) {
                libssh2_userauth_publickey_fromfile_ex(session, user, UInt32(user.utf8.count), nil, path, nil)
            }
            if rc == 0 { return }
            if rc == LIBSSH2_ERROR_FILE {
                let error = LibSSH2.lastError(session)
                throw SSHError(.identityFile, host: target.name,
                               "cannot use the identity file \(path): \(error.message)",
                               hint: "If the key has a passphrase, load it into ssh-agent (ssh-add '\(path)') and set SSH_AUTH_SOCK; fleet reads only ed25519 and ECDSA keys in OpenSSH or PEM format.")
            }
            if isRSA { rsaTried.append(path) } else { tried.append(path) }
        }

        if try noneAccepted(user: user, deadline: deadline) { return }
        if !rsaTried.isEmpty && tried.isEmpty {
            throw SSHError(.rsaUnsupported, host: target.name,
                           "the server refused the RSA key (\(rsaTried.joined(separator: ", "))) for user \(user). fleet uses libssh2 1.10, which signs RSA keys only with ssh-rsa (SHA-1); OpenSSH 8.8 and later refuse that algorithm. RSA-SHA2 signatures need libssh2 1.11.",
                           hint: "Use an ed25519 key: ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519, add the .pub line to the host's ~\(user)/.ssh/authorized_keys, and list the key under ssh.identity_files.")
        }
        var what: [String] = []
        if !tried.isEmpty || !rsaTried.isEmpty { what.append("tried " + (tried + rsaTried).joined(separator: ", ")) }
        if !missing.isEmpty { what.append("missing identity file(s): " + missing.joined(separator: ", ")) }
        if what.isEmpty { what.append("no ssh-agent and no identity files configured") }
        throw SSHError(.authentication, host: target.name,
                       "authentication as \(user) failed (\(what.joined(separator: "; ")))",
                       hint: "Check that the public key is in ~\(user)/.ssh/authorized_keys on the host, that ssh.user is right, and that ssh.identity_files lists the private key (ed25519 or ECDSA). OpenSSH user certificates are not sent (libssh2 1.10): the plain public key must be authorised.")
    }

    /// Asks for the list of methods, which tells whether "none" gets us in.
    private func noneAccepted(user: String, deadline: Deadline) throws -> Bool {
        while libssh2_userauth_list(session, user, UInt32(user.utf8.count)) == nil {
            if libssh2_userauth_authenticated(session) == 1 { return true }
            if libssh2_session_last_errno(session) != LibSSH2.eagain { return false }
            if try !waitSocket(until: deadline) {
                throw SSHError(.connectTimeout, host: target.name, "authentication did not finish within \(options.connectTimeout)")
            }
        }
        return libssh2_userauth_authenticated(session) == 1
    }

    /// Tries every non-RSA key the agent holds. Returns true when one was accepted.
    private func authenticateWithAgent(socketPath: String, deadline: Deadline,
                                       tried: inout [String], rsaTried: inout [String]) throws -> Bool {
        guard let agent = libssh2_agent_init(session) else { return false }
        defer {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        libssh2_agent_set_identity_path(agent, socketPath)
        guard libssh2_agent_connect(agent) == 0, libssh2_agent_list_identities(agent) == 0 else { return false }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
            previous = current
            let blob = UnsafeBufferPointer(start: current.pointee.blob, count: Int(current.pointee.blob_len))
            let comment = current.pointee.comment.map { String(cString: $0) } ?? "agent key"
            if PrivateKeyInspector.blobType(Array(blob)) == "ssh-rsa" {
                rsaTried.append("agent key \(comment) (RSA, skipped)")
                continue
            }
            let user = target.user
            let rc = try retry("agent authentication", until: deadline) {
                libssh2_agent_userauth(agent, user, current)
            }
            if rc == 0 { return true }
            tried.append("agent key \(comment)")
        }
        return false
    }
}

/// Tells an RSA key from the others without parsing more than needed (never more than the key type: no key
/// material is read out).
public enum PrivateKeyInspector {
    static func isRSA(path: String) -> Bool {
        let pub = try? String(contentsOfFile: path + ".pub", encoding: .utf8)
        guard pub != nil || FileManager.default.fileExists(atPath: path) else { return false }
        let text = pub == nil ? try? String(contentsOfFile: path, encoding: .utf8) : nil
        return keyType(privateKey: text ?? "", publicKey: pub) == "ssh-rsa"
    }

    /// The key type (`ssh-rsa`, `ssh-ed25519`, `ecdsa-sha2-nistp256`...) of a key: the first word of its public key
    /// line when given, else the private key's header (PEM `BEGIN RSA PRIVATE KEY`; OpenSSH's format names it in
    /// its first public key blob). nil when neither tells (PKCS#8, not a key). Linear in the text's length.
    public static func keyType(privateKey text: String, publicKey: String?) -> String? {
        if let publicKey {
            let word = publicKey.prefix { $0 != " " && $0 != "\t" && $0 != "\n" }
            return isTypeName(word) ? String(word) : nil
        }
        if text.contains("-----BEGIN RSA PRIVATE KEY-----") { return "ssh-rsa" }
        if text.contains("-----BEGIN DSA PRIVATE KEY-----") { return "ssh-dss" }
        if text.contains("-----BEGIN EC PRIVATE KEY-----") { return "ecdsa" }
        guard text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") else { return nil }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined()
        guard let data = Data(base64Encoded: body) else { return nil }
        // openssh-key-v1\0, cipher, kdf, kdf options, key count, then the first public key blob.
        var reader = BlobReader(bytes: Array(data))
        guard Array(data.prefix(15)) == Array("openssh-key-v1\0".utf8), reader.skip(15), reader.string() != nil,
              reader.string() != nil, reader.string() != nil, reader.uint32() != nil, let publicKey = reader.string(),
              let type = blobType(publicKey), isTypeName(Substring(type)) else { return nil }
        return type
    }

    /// A key type's name as OpenSSH writes it: short, lower-case letters, digits, `-`, `.` and `@`.
    static func isTypeName(_ word: Substring) -> Bool {
        (1...64).contains(word.count) && word.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" || $0 == "." || $0 == "@"
        }
    }

    /// The key type named at the start of a public key blob.
    static func blobType(_ blob: [UInt8]) -> String? {
        var reader = BlobReader(bytes: blob)
        return reader.string().map { String(decoding: $0, as: UTF8.self) }
    }
}

struct BlobReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func skip(_ count: Int) -> Bool {
        guard offset + count <= bytes.count else { return false }
        offset += count
        return true
    }

    mutating func uint32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        let value = bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        offset += 4
        return value
    }

    mutating func string() -> [UInt8]? {
        guard let length = uint32(), offset + Int(length) <= bytes.count else { return nil }
        defer { offset += Int(length) }
        return Array(bytes[offset..<offset + Int(length)])
    }
}
