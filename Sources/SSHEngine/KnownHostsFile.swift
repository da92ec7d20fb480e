import CLibSSH2
import Foundation

/// A known_hosts file as read and parsed once per process, shared by every session (read again only after fleet
/// appended to it). Indexed so that finding a host's lines costs the same with 10 entries or 100,000: plain
/// names in a dictionary; hashed names (`|1|salt|hash`, what `HashKnownHosts yes` writes) by one HMAC-SHA1 per
/// hashed entry; patterns (`*`, `?`, `!`) matched as OpenSSH does. libssh2 is then given only the host's own
/// lines, each rewritten to name the host plainly.
struct KnownHostsFile: Sendable {
    /// One key line: the key type and base64 key (and comment) as written, without the host field.
    struct Entry: Sendable, Equatable {
        var keyPart: String
        var line: Int
    }

    private var plain: [String: [Entry]] = [:]
    private var hashed: [(salt: [UInt8], hash: [UInt8], entry: Entry)] = []
    private var patterned: [(patterns: [Substring], entry: Entry)] = []
    private var authorities: [(patterns: [Substring], hashed: (salt: [UInt8], hash: [UInt8])?, line: Int)] = []
    /// The keys marked `@revoked` (base64, as written): refused for every host under every policy.
    private(set) var revoked: Set<String> = []

    nonisolated(unsafe) private static var cache: [String: KnownHostsFile] = [:]
    private static let lock = NSLock()

    static func load(_ path: String, host: String) throws -> KnownHostsFile {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[path] { return cached }
        let file: KnownHostsFile
        do {
            file = parse(try String(contentsOfFile: path, encoding: .utf8))
        } catch CocoaError.fileReadNoSuchFile {
            file = KnownHostsFile()
        } catch {
            throw SSHError(.knownHosts, host: host, "cannot read known_hosts \(path): \((error as NSError).localizedDescription)",
                           hint: "Check that it is a readable text file (ssh.known_hosts in the inventory).")
        }
        cache[path] = file
        return file
    }

    static func forget(_ path: String) {
        lock.lock()
        cache[path] = nil
        lock.unlock()
    }

    static func parse(_ text: String) -> KnownHostsFile {
        var file = KnownHostsFile()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })[...]
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            let marker = first.hasPrefix("@") ? fields.removeFirst() : nil
            guard fields.count >= 3 else { continue }
            let hosts = fields.removeFirst()
            let keyPart = fields.joined(separator: " ")
            let number = index + 1
            switch marker {
            case nil: file.add(hosts: hosts, entry: Entry(keyPart: keyPart, line: number))
            case "@revoked": file.revoked.insert(String(fields[fields.startIndex + 1]))
            case "@cert-authority":
                if let salted = Self.hashedName(hosts) {
                    file.authorities.append(([], salted, number))
                } else {
                    file.authorities.append((hosts.split(separator: ","), nil, number))
                }
            default: continue
            }
        }
        return file
    }

    private mutating func add(hosts: Substring, entry: Entry) {
        if let salted = Self.hashedName(hosts) {
            hashed.append((salted.salt, salted.hash, entry))
            return
        }
        let patterns = hosts.split(separator: ",")
        if patterns.contains(where: { $0.contains("*") || $0.contains("?") || $0.hasPrefix("!") }) {
            patterned.append((patterns, entry))
            return
        }
        for name in patterns { plain[name.lowercased(), default: []].append(entry) }
    }

    /// The key parts (type, key, comment) of every line that names `name` (`host`, or `[host]:port`).
    func entries(for name: String) -> [Entry] {
        let name = name.lowercased()
        var found = plain[name] ?? []
        found += hashed.filter { Self.hmac(salt: $0.salt, name) == $0.hash }.map(\.entry)
        found += patterned.filter { Self.matches(name, $0.patterns) }.map(\.entry)
        return found.sorted { $0.line < $1.line }
    }

    /// Line numbers of `@cert-authority` lines for `name` (fleet cannot use them: libssh2 1.10 has no certificates).
    func certificateAuthorityLines(for name: String) -> [Int] {
        let name = name.lowercased()
        return authorities.filter { authority in
            if let salted = authority.hashed { return Self.hmac(salt: salted.salt, name) == salted.hash }
            return Self.matches(name, authority.patterns)
        }.map(\.line)
    }

    /// OpenSSH's rule for a comma-separated pattern list: some pattern matches and no negated one does.
    static func matches(_ name: String, _ patterns: [Substring]) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if glob(Array(pattern.dropFirst().lowercased().utf8)[...], Array(name.utf8)[...]) { return false }
            } else if glob(Array(pattern.lowercased().utf8)[...], Array(name.utf8)[...]) {
                matched = true
            }
        }
        return matched
    }

    /// `*` (any run) and `?` (one character), nothing else special.
    static func glob(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        var p = pattern.startIndex, t = text.startIndex
        var star: Int?, resume = text.startIndex
        while t < text.endIndex {
            if p < pattern.endIndex, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                p += 1; t += 1
            } else if p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") {
                star = p; p += 1; resume = t
            } else if let s = star {
                p = s + 1; resume += 1; t = resume
            } else {
                return false
            }
        }
        while p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.endIndex
    }

    /// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` as its two byte strings.
    static func hashedName(_ field: Substring) -> (salt: [UInt8], hash: [UInt8])? {
        guard field.hasPrefix("|1|") else { return nil }
        let parts = field.dropFirst(3).split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 2, let salt = Data(base64Encoded: String(parts[0])),
              let hash = Data(base64Encoded: String(parts[1])) else { return nil }
        return ([UInt8](salt), [UInt8](hash))
    }

    static func hmac(salt: [UInt8], _ name: String) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        let bytes = Array(name.utf8)
        _ = salt.withUnsafeBufferPointer { key in
            bytes.withUnsafeBufferPointer { data in
                HMAC(EVP_sha1(), key.baseAddress, Int32(key.count), data.baseAddress, data.count, &digest, &length)
            }
        }
        return Array(digest.prefix(Int(length)))
    }
}
