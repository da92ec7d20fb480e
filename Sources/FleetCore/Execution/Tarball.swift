import Foundation

/// A minimal POSIX ustar archive writer: regular files only, names under 100 bytes. It is what an `install` step
/// sends on stdin; the host unpacks it with its own `tar` (GNU, BSD and busybox all read ustar).
public enum Tarball {
    public struct Entry: Sendable {
        public var name: String
        public var mode: Int
        public var bytes: [UInt8]

        public init(name: String, mode: Int, bytes: [UInt8]) {
            self.name = name
            self.mode = mode
            self.bytes = bytes
        }
    }

    public struct NameTooLong: Error, CustomStringConvertible {
        public var name: String
        public var description: String { "cannot pack \(name) into the install stream: names are limited to 99 bytes" }
    }

    /// The archive: a header and the padded contents of each entry, then two empty blocks.
    public static func pack(_ entries: [Entry], mtime: Int) throws(NameTooLong) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(1024) { $0 + 512 + ($1.bytes.count + 511) / 512 * 512 })
        for entry in entries {
            out += try header(entry, mtime: mtime)
            out += entry.bytes
            out += [UInt8](repeating: 0, count: (512 - entry.bytes.count % 512) % 512)
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }

    static func header(_ entry: Entry, mtime: Int) throws(NameTooLong) -> [UInt8] {
        let name = Array(entry.name.utf8)
        guard !name.isEmpty, name.count < 100 else { throw NameTooLong(name: entry.name) }
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int) {
            for (i, byte) in bytes.enumerated() { block[offset + i] = byte }
        }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(name, at: 0)
        put(octal(entry.mode & 0o7777, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)             // uid
        put(octal(0, width: 8), at: 116)             // gid
        put(octal(entry.bytes.count, width: 12), at: 124)
        put(octal(mtime, width: 12), at: 136)
        put(Array("        ".utf8), at: 148)         // checksum field counts as spaces
        block[156] = UInt8(ascii: "0")              // regular file
        put(Array("ustar".utf8) + [0] + Array("00".utf8), at: 257)
        let sum = block.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7) + [UInt8(ascii: " ")], at: 148)
        return block
    }
}
