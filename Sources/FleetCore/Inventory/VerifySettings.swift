import Yams

/// One endpoint `fleet verify` checks through each host's nginx, and the HTTP status it must answer.
public struct VerifyEndpoint: Sendable, Equatable, Codable {
    public var path: String
    public var status: Int

    public init(path: String, status: Int = 200) {
        self.path = path
        self.status = status
    }

    /// What is checked when the inventory has no `verify` key: the health path alone, with its status. (The
    /// card's /api/v1/status and /metrics are an example in docs/inventory.md, not a default: an app without them
    /// would be halted after its canary switched.)
    public static func defaults(health: HealthSettings) -> [VerifyEndpoint] {
        [VerifyEndpoint(path: health.path, status: health.status)]
    }
}

/// `verify:` in the inventory: a list of paths (`/health`) or mappings (`{path: /health, status: 200}`).
enum VerifyParser {
    static func parse(_ top: YAMLSection, health: HealthSettings) throws -> [VerifyEndpoint] {
        guard let node = top.value("verify") else { return VerifyEndpoint.defaults(health: health) }
        guard case .sequence(let items) = node else {
            throw top.error(node, "'verify' must be a list of endpoints like [/health, {path: /metrics, status: 200}], found \(YAMLSection.kind(of: node))")
        }
        return try items.map { item in
            if case .mapping = item {
                let s = try YAMLSection(file: top.file, name: "verify", node: item, allowed: ["path", "status"])
                guard let pathNode = s.value("path") else {
                    throw s.error(item, "a 'verify' entry needs a path, for example {path: /health, status: 200}")
                }
                let path = try s.scalarText(pathNode, "path", expected: "a path like /health")
                try check(path, pathNode, top)
                return VerifyEndpoint(path: path, status: try s.int("status", default: 200, range: 100...599))
            }
            let path = try top.scalarText(item, "verify", expected: "a path like /health or {path: /health, status: 200}")
            try check(path, item, top)
            return VerifyEndpoint(path: path)
        }
    }

    /// The same grammar as `health.path`: it goes into a URL on a remote command line.
    static func check(_ path: String, _ node: Node, _ top: YAMLSection) throws {
        guard path.hasPrefix("/"), path.unicodeScalars.allSatisfy({ Validation.isAlnum($0) || "._~/%?=&-".unicodeScalars.contains($0) }) else {
            throw top.error(node, "'verify' path must start with / and hold only letters, digits and . _ ~ / % ? = & -, found '\(YAMLSection.printable(path))'")
        }
    }
}
