import Yams

/// One endpoint `fleet verify` checks through each host's nginx, and the HTTP status it must answer.
public struct VerifyEndpoint: Sendable, Equatable, Codable {
    public var path: String
    public var status: Int

    public init(path: String, status: Int = 200) {
        self.path = path
        self.status = status
    }

    /// The card's checks, used when the inventory has no `verify` key.
    public static let defaults = [VerifyEndpoint(path: "/health"), VerifyEndpoint(path: "/api/v1/status"),
                                  VerifyEndpoint(path: "/metrics")]
}

/// `verify:` in the inventory: a list of paths (`/health`) or mappings (`{path: /health, status: 200}`).
enum VerifyParser {
    static func parse(_ top: YAMLSection) throws -> [VerifyEndpoint] {
        guard let node = top.value("verify") else { return VerifyEndpoint.defaults }
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
