import Foundation

/// One hop on the way to a host (`ssh.proxy_jump`): the target's session runs over a `direct-tcpip` channel of
/// this host's session. Written and read as `[user@]host[:port]` (`[::1]:2222` for IPv6 with a port).
public struct JumpHost: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    public var user: String
    public var address: String
    public var port: Int

    public init(user: String, address: String, port: Int = 22) {
        self.user = user
        self.address = address
        self.port = port
    }

    /// `address:port`, with IPv6 addresses in brackets.
    public var endpoint: String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// `user@address:port`, as the plan shows it.
    public var description: String { "\(user)@\(endpoint)" }

    /// How errors name this hop: `bastion 10.77.0.250:22`.
    public var label: String { "bastion \(endpoint)" }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let at = text.firstIndex(of: "@") else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected user@host:port"))
        }
        user = String(text[..<at])
        let rest = String(text[text.index(after: at)...])
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            address = String(rest[rest.index(after: rest.startIndex)..<close])
            port = Int(rest[rest.index(after: close)...].dropFirst()) ?? 22
        } else if let colon = rest.lastIndex(of: ":") {
            address = String(rest[..<colon])
            port = Int(rest[rest.index(after: colon)...]) ?? 22
        } else {
            address = rest
            port = 22
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
