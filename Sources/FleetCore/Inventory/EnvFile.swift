/// The dotenv file uploaded to each host. Only its path and key names are ever shown; the contents are held
/// in a `SecretText` that prints, dumps and encodes as redacted.
public struct EnvFile: Sendable, Equatable {
    /// Absolute path on this machine: the env file, or the inventory when there is none (`env:` alone); errors
    /// name it.
    public var path: String
    /// Key names in file order.
    public var keys: [String]
    /// The file's bytes as read (for upload only).
    public var contents: SecretText
    /// Where each key's value comes from, in `keys` order (`env_file`, `env.clear`, `env.secret`); empty when
    /// everything comes from the env file.
    public var origins: [String]
    /// False when no env file was read (the values all come from `env:` in the inventory at `path`).
    public var fromFile: Bool
    /// The env file read, if any: what the plan shows (`none` otherwise).
    public var file: String? { fromFile ? path : nil }

    public init(path: String, keys: [String], contents: SecretText, origins: [String] = [], fromFile: Bool = true) {
        self.path = path
        self.keys = keys
        self.contents = contents
        self.origins = origins
        self.fromFile = fromFile
    }

    /// The file's values (for masking only; never print them), read by the same parser that checked the file.
    /// Quotes around a value are dropped too.
    public var secretValues: [String] {
        let entries = (try? EnvFileParser.entries(in: contents.reveal(), file: path)) ?? []
        var values: [String] = []
        for entry in entries where !entry.value.isEmpty {
            let value = String(entry.value)
            values.append(value)
            if value.count >= 2, let f = value.first, f == value.last, f == "\"" || f == "'" {
                values.append(String(value.dropFirst().dropLast()))
            }
        }
        return values.filter { !$0.isEmpty }
    }
}

/// A secret string: `description`, `debugDescription`, `dump()` and string interpolation never show it.
/// Call `reveal()` only to hand the bytes to an upload.
public struct SecretText: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) { self.value = value }

    public func reveal() -> String { value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// Parses dotenv text as Docker's `--env-file` reads it: `KEY=VALUE` lines, blank lines and `#` comments.
/// Errors name the file and line, and the key when there is one, never a value.
enum EnvFileParser {
    /// One `KEY=VALUE` line: the key, the value as written (quotes kept, as Docker keeps them), its line.
    struct Entry {
        var key: String
        var value: Substring
        var line: Int
    }

    static func keys(in text: String, file: String) throws -> [String] {
        try entries(in: text, file: file).map(\.key)
    }

    /// Every entry, in file order; throws for a line that is not `KEY=VALUE`, a bad key or a key set twice.
    static func entries(in text: String, file: String) throws -> [Entry] {
        var entries: [Entry] = []
        var firstLine: [String: Int] = [:]
        var lineNumber = 0
        // Lines split on "\n" scalars: a Character would read "\r\n" as one and see the whole file as one line.
        for scalars in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if let bad = scalars.first(where: { $0 == "\0" || $0 == "\r" }) {
                throw InventoryError(file: file, line: lineNumber, column: nil, message: bad == "\0"
                    ? "line \(lineNumber) holds a NUL byte, which no environment variable can carry; remove it"
                    : "line \(lineNumber) holds a carriage return (Windows CRLF line ends?); save the file with LF line ends, e.g. dos2unix \(file)")
            }
            let line = Substring(String(String.UnicodeScalarView(scalars)))
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            let eq = line.firstIndex(of: "=")
            let named = eq.map { String(line[..<$0]) }.flatMap { isValidKey($0) ? $0 : nil }
            if let why = tooLong(bytes: line.utf8.count + 1, key: trimmed.hasPrefix("#") ? nil : named) {
                throw InventoryError(file: file, line: lineNumber, column: 1, message: "line \(lineNumber): " + why)
            }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let eq else {
                throw InventoryError(file: file, line: lineNumber, column: 1, message:
                    "line \(lineNumber) is not KEY=VALUE (no '='); write it as KEY=VALUE, or start it with # to comment it out")
            }
            let key = String(line[..<eq])
            guard isValidKey(key) else {
                throw InventoryError(file: file, line: lineNumber, column: 1, message:
                    "line \(lineNumber): the text before '=' is not a variable name; write KEY=VALUE with KEY made of letters, digits and _ (not starting with a digit, no 'export', no spaces)")
            }
            if let first = firstLine[key] {
                throw InventoryError(file: file, line: lineNumber, column: 1, message:
                    "key '\(key)' is set twice (lines \(first) and \(lineNumber)); keep one")
            }
            firstLine[key] = lineNumber
            entries.append(Entry(key: key, value: line[line.index(after: eq)...], line: lineNumber))
        }
        return entries
    }

    /// Docker's `--env-file` reader (Go's bufio.Scanner, 64 KiB at most) takes a line of this many bytes, its
    /// newline included (counted for a last line without one too); one byte more and `docker run` fails on every
    /// host with "bufio.Scanner: token too long" (docs/secrets.md; measured on the lab by EnvLimitLabTests).
    static let maxLineBytes = 65_536

    /// Why a line of `bytes` bytes (newline included) cannot go in an env file, naming `key` (never its value);
    /// nil when it fits.
    static func tooLong(bytes: Int, key: String?) -> String? {
        guard bytes > maxLineBytes else { return nil }
        let limit = "Docker's env file reader takes at most \(maxLineBytes) bytes (64 KiB) per line, newline included, and docker run would fail on every host"
        guard let key else { return "the line is \(bytes) bytes with its newline; \(limit); shorten it" }
        return "\(key)=VALUE is \(bytes) bytes with its newline; \(limit); shorten the value of \(key) to at most "
            + "\(maxLineBytes - key.utf8.count - 2) bytes, or hand it over another way (a file in a volume)"
    }

    static func isValidKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, key.unicodeScalars.count <= 255 else { return false }
        func ok(_ c: Unicode.Scalar, digits: Bool) -> Bool {
            (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || c == "_" || (digits && c >= "0" && c <= "9")
        }
        return ok(first, digits: false) && key.unicodeScalars.allSatisfy { ok($0, digits: true) }
    }
}
