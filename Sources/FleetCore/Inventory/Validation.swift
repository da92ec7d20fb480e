/// Checks shared by the loader, the host selection and the plan builder.

/// Refuses a version that is not a Docker image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
/// So `v1.4.2` passes and `v1;rm -rf /`, `$(id)`, spaces and newlines never reach a host.
public func validateVersion(_ v: String) throws {
    if Validation.isImageTag(v) { return }
    let why: String
    if v.isEmpty {
        why = "the version is empty"
    } else if v.unicodeScalars.count > 128 {
        why = "the version is longer than 128 characters"
    } else {
        why = "the version '\(YAMLSection.printable(v))' is not a valid image tag"
    }
    throw InputError("version",
        "\(why); use letters, digits, '_', '.' and '-' (not starting with '.' or '-'), at most 128 characters, for example v1.4.2")
}

enum Validation {
    static func isImageTag(_ v: String) -> Bool {
        let s = Array(v.unicodeScalars)
        guard let first = s.first, s.count <= 128, isAlnum(first) || first == "_" else { return false }
        return s.allSatisfy { isAlnum($0) || $0 == "_" || $0 == "." || $0 == "-" }
    }

    /// App and host names: `[a-z0-9][a-z0-9-]*` (at most 63 characters, like a DNS label).
    static func isName(_ v: String) -> Bool {
        let s = Array(v.unicodeScalars)
        guard let first = s.first, s.count <= 63, isLowerAlnum(first) else { return false }
        return s.allSatisfy { isLowerAlnum($0) || $0 == "-" }
    }

    /// Tags: letters, digits, '_' and '-'.
    static func isTag(_ v: String) -> Bool {
        !v.isEmpty && v.unicodeScalars.count <= 63 && v.unicodeScalars.allSatisfy { isAlnum($0) || $0 == "_" || $0 == "-" }
    }

    /// Shell/env variable names.
    static func isVariableName(_ v: String) -> Bool { EnvFileParser.isValidKey(v) }

    /// A value that may go into `fleet.conf` as is: no whitespace, quotes, `$`, backticks, `;`, `\`,
    /// `&|<>()`, `#` or control characters. Returns the first offending character.
    static func unsafeCharacter(in v: String) -> Unicode.Scalar? {
        let forbidden: Set<Unicode.Scalar> = ["'", "\"", "$", "`", ";", "\\", "&", "|", "<", ">", "(", ")", "#", "*", "?", "!"]
        return v.unicodeScalars.first { $0.value <= 0x20 || $0.value == 0x7f || forbidden.contains($0) || $0.properties.isWhitespace }
    }

    /// How to show a refused character in a message.
    static func describe(_ c: Unicode.Scalar) -> String {
        switch c {
        case " ": return "a space"
        case "\n": return "a newline"
        case "\t": return "a tab"
        default: return c.value < 0x20 || c.value == 0x7f ? "a control character" : "'\(c)'"
        }
    }

    /// An image reference without tag or digest: `[registry[:port]/]path/name`, lower-case path components.
    static func isImageReference(_ v: String) -> Bool {
        guard !v.isEmpty, v.unicodeScalars.count <= 255, unsafeCharacter(in: v) == nil, !v.contains("@") else { return false }
        var parts = v.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count > 1, let first = parts.first, first.contains(".") || first.contains(":") || first == "localhost" {
            let hostPort = first.split(separator: ":", omittingEmptySubsequences: false)
            guard hostPort.count <= 2, let host = hostPort.first, !host.isEmpty,
                  host.unicodeScalars.allSatisfy({ isAlnum($0) || $0 == "." || $0 == "-" }) else { return false }
            if hostPort.count == 2 { guard let p = Int(hostPort[1]), (1...65535).contains(p) else { return false } }
            parts.removeFirst()
        }
        return parts.allSatisfy { part in
            guard let f = part.unicodeScalars.first, let l = part.unicodeScalars.last,
                  isLowerAlnum(f), isLowerAlnum(l) else { return false }
            return part.unicodeScalars.allSatisfy { isLowerAlnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
        }
    }

    /// A host address: IPv4, IPv6 (without brackets) or a DNS name.
    static func isAddress(_ v: String) -> Bool {
        guard !v.isEmpty, v.unicodeScalars.count <= 253, !v.hasPrefix("-") else { return false }
        return v.unicodeScalars.allSatisfy { isAlnum($0) || $0 == "." || $0 == "-" || $0 == ":" || $0 == "%" || $0 == "_" }
    }

    static func isAlnum(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
    }

    static func isLowerAlnum(_ c: Unicode.Scalar) -> Bool { (c >= "a" && c <= "z") || (c >= "0" && c <= "9") }
}
