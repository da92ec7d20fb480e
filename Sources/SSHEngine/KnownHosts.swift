import CLibSSH2
import Foundation

/// A host key as the server offered it.
public struct HostKey: Sendable, Equatable {
    /// OpenSSH's name for the key type, for example `ssh-ed25519`.
    public var type: String
    /// The raw key blob.
    public var blob: [UInt8]
    /// `SHA256:` and unpadded base64, as OpenSSH prints it.
    public var fingerprint: String

    /// The known_hosts line OpenSSH would write for this key.
    func knownHostsLine(name: String) -> String {
        "\(name) \(type) \(Data(blob).base64EncodedString())\n"
    }
}

/// An OpenSSH known_hosts file, read through libssh2 (hashed entries and `[host]:port` entries included).
final class KnownHosts {
    let path: String
    private let handle: OpaquePointer

    /// libssh2's host key types, their OpenSSH names, and known_hosts type bits.
    static let keyTypes: [(hostkey: Int32, name: String, knownhost: Int32)] = [
        (LIBSSH2_HOSTKEY_TYPE_ED25519, "ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519),
        (LIBSSH2_HOSTKEY_TYPE_ECDSA_256, "ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256),
        (LIBSSH2_HOSTKEY_TYPE_ECDSA_384, "ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384),
        (LIBSSH2_HOSTKEY_TYPE_ECDSA_521, "ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521),
        (LIBSSH2_HOSTKEY_TYPE_RSA, "ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA),
    ]

    private let file: KnownHostsFile
    private var loaded: Set<String> = []

    /// The file as read once per process and shared (see `KnownHostsFile`). libssh2 is given, per name asked
    /// about, only the lines that name it (hashed and pattern lines included, rewritten to the plain name), so a
    /// connection costs the same whatever the file's size. A missing file is an empty one; an unreadable one is
    /// an error (never read as empty: with accept-new that would record a key without checking it).
    init(session: OpaquePointer, path: String, host: String) throws {
        file = try KnownHostsFile.load(path, host: host)
        guard let handle = libssh2_knownhost_init(session) else {
            throw SSHError(.knownHosts, host: host, "cannot initialise known_hosts")
        }
        self.handle = handle
        self.path = path
    }

    /// Gives libssh2 the lines for `name`, once.
    private func load(_ name: String) {
        guard loaded.insert(name).inserted else { return }
        for entry in file.entries(for: name) {
            let line = "\(name) \(entry.keyPart)"
            _ = line.withCString { libssh2_knownhost_readline(handle, $0, strlen($0), LIBSSH2_KNOWNHOST_FILE_OPENSSH) }
        }
    }

    /// Where known_hosts has only `@cert-authority` lines for `name`: a note for the unknown-key error.
    func certificateAuthorityNote(for name: String) -> String? {
        let lines = file.certificateAuthorityLines(for: name)
        guard !lines.isEmpty, file.entries(for: name).isEmpty else { return nil }
        let numbers = lines.map(String.init).joined(separator: ", ")
        return "\(path) trusts a certificate authority for this host (@cert-authority, line \(numbers)), but libssh2 1.10 cannot check OpenSSH host certificates: add the host's own key"
    }

    deinit { libssh2_knownhost_free(handle) }

    /// The name OpenSSH records: `host` on port 22, `[host]:port` elsewhere.
    static func entryName(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    /// The key types known_hosts holds for this host, found by asking libssh2 with a dummy key per type:
    /// an entry of that type answers MISMATCH, no entry answers NOTFOUND (hashed entries included).
    func knownTypes(for name: String) -> [String] {
        load(name)
        let dummy = [UInt8](repeating: 0x5a, count: 32)
        var found: [String] = []
        for type in Self.keyTypes {
            let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | type.knownhost
            let rc = dummy.withUnsafeBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    libssh2_knownhost_check(handle, name, $0, buffer.count, mask, nil)
                }
            }
            if rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH || rc == LIBSSH2_KNOWNHOST_CHECK_MATCH {
                found.append(type.name)
            }
        }
        return found
    }

    enum Verdict { case match, mismatch, notFound, revoked }

    func check(name: String, key: HostKey, hostkeyType: Int32) -> Verdict {
        if file.revoked.contains(Data(key.blob).base64EncodedString()) { return .revoked }
        load(name)
        guard let bits = Self.keyTypes.first(where: { $0.hostkey == hostkeyType })?.knownhost else { return .notFound }
        let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | bits
        let rc = key.blob.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                libssh2_knownhost_check(handle, name, $0, buffer.count, mask, nil)
            }
        }
        switch rc {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: return .mismatch
        default: return .notFound
        }
    }

    private static let appendLock = NSLock()

    /// Appends one line (never rewrites the user's file), creating the file 0600 and its folder 0700 if needed.
    static func append(line: String, to path: String, host: String) throws {
        appendLock.lock()
        defer { appendLock.unlock() }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { mkdir(folder, 0o700) }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SSHError(.knownHosts, host: host, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        // Start on a new line if the file does not end with one.
        let size = lseek(fd, 0, SEEK_END)
        var prefix = ""
        if size > 0, let reader = FileHandle(forReadingAtPath: path) {
            try? reader.seek(toOffset: UInt64(size - 1))
            if let last = try? reader.read(upToCount: 1), last != Data([0x0a]) { prefix = "\n" }
            try? reader.close()
        }
        let bytes = Array((prefix + line).utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written != bytes.count {
            throw SSHError(.knownHosts, host: host, "cannot append to \(path): \(String(cString: strerror(errno)))")
        }
        KnownHostsFile.forget(path)
    }
}

/// The method names to prefer for the host key: the types known_hosts holds for the host, or all, ed25519 first.
func hostKeyPreference(known: [String]) -> String {
    let all = KnownHosts.keyTypes.map(\.name)
    let methods = known.isEmpty ? all : known
    // libssh2 1.10 also knows RSA host keys signed with SHA-2.
    return methods.flatMap { $0 == "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [$0] }
        .joined(separator: ",")
}
