import Foundation

/// The files fleet reads on this machine (the inventory, the env file, identity files, known_hosts), checked
/// before they are read and before any host is contacted: a regular file, readable, under a size bound. A
/// directory, a FIFO, a device (`/dev/zero`) or a socket is refused naming the path, never read (a FIFO would
/// hang, a device would never end).
public enum LocalFile {
    /// The largest inventory fleet reads (about 400,000 hosts of short lines; see docs/ssh.md, Hosts).
    public static let maxInventoryBytes = 16 << 20
    public static let maxEnvFileBytes = 1 << 20
    public static let maxIdentityFileBytes = 64 << 10
    public static let maxKnownHostsBytes = 64 << 20
    /// `ssh.config` and each file it includes.
    public static let maxSSHConfigBytes = 1 << 20

    /// The file's bytes; nil when it does not exist. Throws `InventoryError` naming the path for anything else.
    public static func read(_ path: String, what: String, maxBytes: Int) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { return nil }
            throw InventoryError(file: path, message: "cannot open the \(what): \(String(cString: strerror(code)))"
                + (code == EACCES ? "; check its permissions" : ""))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw InventoryError(file: path, message: "cannot read the \(what): \(String(cString: strerror(errno)))")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG else {
            throw InventoryError(file: path, message: "the \(what) is \(kind(type)), not a regular file; name a file")
        }
        guard Int(info.st_size) <= maxBytes else {
            throw InventoryError(file: path, message: "the \(what) is \(Int(info.st_size)) bytes, over the \(maxBytes)-byte limit fleet reads")
        }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw InventoryError(file: path, message: "cannot read the \(what): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            guard bytes.count <= maxBytes else {
                throw InventoryError(file: path, message: "the \(what) grew past the \(maxBytes)-byte limit fleet reads")
            }
        }
        return bytes
    }

    /// The file as UTF-8 text; nil when it does not exist. Invalid UTF-8 is refused naming the line.
    public static func readText(_ path: String, what: String, maxBytes: Int) throws -> String? {
        guard let bytes = try read(path, what: what, maxBytes: maxBytes) else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InventoryError(file: path, line: firstInvalidLine(bytes), message: "the \(what) is not UTF-8 text; save it as UTF-8")
        }
        return text
    }

    /// Checks that a file fleet will read during the run can be read, without reading it.
    public static func check(_ path: String, what: String, maxBytes: Int) throws {
        _ = try read(path, what: what, maxBytes: maxBytes)
    }

    static func kind(_ type: mode_t) -> String {
        switch type {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    /// The 1-based line holding the first byte sequence that is not UTF-8.
    static func firstInvalidLine(_ bytes: [UInt8]) -> Int {
        var line = 1
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            if String(validating: bytes[start..<index], as: UTF8.self) == nil { return line }
            line += 1
            start = index + 1
        }
        return line
    }
}

extension SSHSettings {
    /// The identity files (which must exist) and known_hosts (which may not exist yet), checked before any host
    /// is contacted: a missing identity file or a device named as one is exit 2, not an error on every host.
    public func checkLocalFiles() throws {
        for path in identityFiles {
            guard try LocalFile.read(path, what: "identity file", maxBytes: LocalFile.maxIdentityFileBytes) != nil else {
                throw InventoryError(file: path, message: "the identity file (ssh.identity_files) does not exist; fix the path, or create a key: ssh-keygen -t ed25519 -f \(path)")
            }
        }
        try LocalFile.check(knownHosts, what: "known_hosts file (ssh.known_hosts)", maxBytes: LocalFile.maxKnownHostsBytes)
    }
}
