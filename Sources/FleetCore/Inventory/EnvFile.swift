/// The dotenv file uploaded to each host. Only its path and key names are ever shown; the contents are held
/// in a `SecretText` that prints, dumps and encodes as redacted.
public struct EnvFile: Sendable, Equatable {
    /// Absolute path on this machine.
    public var path: String
    /// Key names in file order.
    public var keys: [String]
    /// The file's bytes as read (for upload only).
    public var contents: SecretText

    public init(path: String, keys: [String], contents: SecretText) {
        self.path = path
        self.keys = keys
        self.contents = contents
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
    static func keys(in text: String, file: String) throws -> [String] {
        var keys: [String] = []
        var firstLine: [String: Int] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
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
            keys.append(key)
        }
        return keys
    }

    static func isValidKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, key.unicodeScalars.count <= 255 else { return false }
        func ok(_ c: Unicode.Scalar, digits: Bool) -> Bool {
            (c >= "A" && c <= "Z") || (c >= "a" && c <= "z") || c == "_" || (digits && c >= "0" && c <= "9")
        }
        return ok(first, digits: false) && key.unicodeScalars.allSatisfy { ok($0, digits: true) }
    }
}
