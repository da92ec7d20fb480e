import Yams

/// A YAML mapping of the inventory with its allowed keys checked, and typed getters that report
/// `file:line:column` for every mistake. Absent keys and null values (`key:` or `key: ~`) give the default.
struct YAMLSection {
    let file: String
    /// Dotted name for messages: "" for the top level, "ssh", "hosts.web1".
    let name: String
    let node: Node
    private let entries: [String: (key: Node, value: Node)]
    /// Key names in file order.
    let orderedKeys: [String]

    init(file: String, name: String, node: Node, allowed: [String]) throws {
        self.file = file
        self.name = name
        self.node = node
        guard case .mapping(let mapping) = node else {
            throw Self.error(file, node, "\(name.isEmpty ? "the inventory" : "'\(name)'") must be a mapping of keys, found \(Self.kind(of: node))")
        }
        var entries: [String: (key: Node, value: Node)] = [:]
        var order: [String] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                throw Self.error(file, key, "keys must be plain words, found \(Self.kind(of: key))")
            }
            let word = scalar.string
            if !allowed.isEmpty, !allowed.contains(word) {
                let prefix = name.isEmpty ? "" : "\(name)."
                let printable = Self.printable(word)
                throw Self.error(file, key, "unknown key '\(prefix)\(printable)'; " + Suggest.hint(for: word, in: allowed))
            }
            entries[word] = (key, value)
            order.append(word)
        }
        self.entries = entries
        self.orderedKeys = order
    }

    // MARK: errors

    static func error(_ file: String, _ node: Node?, _ message: String) -> InventoryError {
        InventoryError(file: file, line: node?.mark?.line, column: node?.mark?.column, message: message)
    }

    func error(_ node: Node?, _ message: String) -> InventoryError { Self.error(file, node ?? self.node, message) }

    func qualified(_ key: String) -> String { name.isEmpty ? key : "\(name).\(key)" }

    static func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let s): return isNull(node) ? "nothing" : "'\(printable(s.string))'"
        }
    }

    /// A value shown in a message: truncated, control characters escaped.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(60) {
            if scalar.value < 0x20 || scalar.value == 0x7f { out += "\\u{\(String(scalar.value, radix: 16))}" } else { out.unicodeScalars.append(scalar) }
        }
        return text.unicodeScalars.count > 60 ? out + "..." : out
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    // MARK: raw access

    /// The value node, or nil when the key is absent or null.
    func value(_ key: String) -> Node? {
        guard let entry = entries[key], !Self.isNull(entry.value) else { return nil }
        return entry.value
    }

    func keyNode(_ key: String) -> Node? { entries[key]?.key }

    /// A nested section, or nil when absent.
    func section(_ key: String, allowed: [String]) throws -> YAMLSection? {
        guard let node = value(key) else { return nil }
        return try YAMLSection(file: file, name: qualified(key), node: node, allowed: allowed)
    }

    // MARK: typed getters

    func scalarText(_ node: Node, _ key: String, expected: String) throws -> String {
        guard case .scalar(let s) = node else {
            throw error(node, "'\(qualified(key))' must be \(expected), found \(Self.kind(of: node))")
        }
        return s.string
    }

    func string(_ key: String, default fallback: String) throws -> String {
        guard let node = value(key) else { return fallback }
        return try scalarText(node, key, expected: "a string")
    }

    func int(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let node = value(key) else { return fallback }
        return try int(node, key, range: range)
    }

    func int(_ node: Node, _ key: String, range: ClosedRange<Int>) throws -> Int {
        let text = try scalarText(node, key, expected: "a whole number")
        guard let n = Int(text) else {
            throw error(node, "'\(qualified(key))' must be a whole number, found '\(Self.printable(text))'")
        }
        guard range.contains(n) else {
            throw error(node, "'\(qualified(key))' must be between \(range.lowerBound) and \(range.upperBound), found \(n)")
        }
        return n
    }

    func duration(_ key: String, default fallback: Duration) throws -> Duration {
        guard let node = value(key) else { return fallback }
        let text = try scalarText(node, key, expected: "a duration (like 10s, 500ms, 2m)")
        guard let d = Self.parseDuration(text) else {
            throw error(node, "'\(qualified(key))' must be a duration like 10s, 500ms, 2m or a number of seconds, found '\(Self.printable(text))'")
        }
        return d
    }

    /// A duration that `fleet.conf` takes as whole seconds.
    func wholeSeconds(_ key: String, default fallback: Int, minimum: Int, maximum: Int = 86_400) throws -> Int {
        let d = try duration(key, default: .seconds(fallback))
        let ms = Self.milliseconds(d)
        guard ms % 1000 == 0 else {
            throw error(value(key), "'\(qualified(key))' must be a whole number of seconds (fleet.conf takes seconds), found \(ms)ms")
        }
        guard ms / 1000 >= minimum, ms / 1000 <= maximum else {
            throw error(value(key), "'\(qualified(key))' must be between \(minimum)s and \(maximum)s")
        }
        return Int(ms / 1000)
    }

    func stringList(_ key: String) throws -> [(String, Node)]? {
        guard let node = value(key) else { return nil }
        guard case .sequence(let seq) = node else {
            throw error(node, "'\(qualified(key))' must be a list like [a, b], found \(Self.kind(of: node))")
        }
        return try seq.map { (try scalarText($0, key, expected: "a list of strings"), $0) }
    }

    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text)
        var factor = 1.0
        for (suffix, f) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            factor = f
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.filter({ $0 == "." }).count <= 1, let value = Double(number) else { return nil }
        let ms = (value * factor * 1000).rounded()
        guard ms >= 0, ms <= 86_400_000 * 7 else { return nil }
        return .milliseconds(Int64(ms))
    }

    static func milliseconds(_ d: Duration) -> Int64 {
        let c = d.components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}
