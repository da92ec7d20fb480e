import SSHEngine
import Yams

/// `ssh.proxy_jump` and `hosts.NAME.proxy_jump`: one jump host `[user@]host[:port]`, a chain of up to three
/// (comma-separated like OpenSSH's `-J a,b`, or a list), or `none` (the host is reached directly).
enum ProxyJumpParser {
    static let maxHops = 3
    static let example = "bastion.example.com, admin@10.0.0.1:2222 or [fd00::1]:22"

    /// The route written under `key`: nil when the key is absent, [] for `none`.
    static func parse(_ s: YAMLSection?, _ key: String, user: String) throws -> [JumpHost]? {
        guard let s, let node = s.value(key) else { return nil }
        var items: [(String, Node)] = []
        if case .sequence(let seq) = node {
            items = try seq.map { (try s.scalarText($0, key, expected: "a jump host like \(example)"), $0) }
            if items.contains(where: { $0.0 == "none" }) {
                throw s.error(node, "'\(s.qualified(key))' lists 'none' among jump hosts; write proxy_jump: none alone to reach the host directly")
            }
        } else {
            let text = try s.scalarText(node, key, expected: "a jump host like \(example), or none")
            if text == "none" { return [] }
            items = text.split(separator: ",", omittingEmptySubsequences: false)
                .map { (String($0).trimmingCharacters(in: .whitespaces), node) }
        }
        guard !items.isEmpty else {
            throw s.error(node, "'\(s.qualified(key))' is an empty list; give a jump host like \(example), or write none")
        }
        guard items.count <= maxHops else {
            throw s.error(node, "'\(s.qualified(key))' chains \(items.count) jump hosts; at most \(maxHops) are allowed")
        }
        return try items.map { try hop($0.0, node: $0.1, s, key, defaultUser: user) }
    }

    static func hop(_ text: String, node: Node, _ s: YAMLSection, _ key: String, defaultUser: String) throws -> JumpHost {
        guard !text.isEmpty else {
            throw s.error(node, "'\(s.qualified(key))' has an empty jump host (two commas, or one at an end); write hosts like \(example)")
        }
        var user = defaultUser
        var rest = text
        if let at = text.lastIndex(of: "@") {
            user = String(text[..<at])
            rest = String(text[text.index(after: at)...])
            guard HostsParser.isUser(user) else {
                throw s.error(node, "'\(s.qualified(key))': the user '\(YAMLSection.printable(user))' of jump host '\(YAMLSection.printable(text))' must be a login name (letters, digits, '.', '_', '-')")
            }
        }
        let (address, portText) = HostsParser.endpoint(rest)
        guard !address.isEmpty, Validation.isAddress(address) else {
            throw s.error(node, "'\(s.qualified(key))': jump host '\(YAMLSection.printable(text))' must be [user@]host[:port] with an IPv4 or IPv6 address or a host name, like \(example)")
        }
        var port = 22
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value), portText.allSatisfy(\.isASCII) else {
                throw s.error(node, "'\(s.qualified(key))': the port '\(YAMLSection.printable(portText))' of jump host '\(YAMLSection.printable(text))' must be 1 to 65535")
            }
            port = value
        }
        return JumpHost(user: user, address: address, port: port)
    }

    /// One hop `[user@]host[:port]` outside YAML (ssh.config's ProxyJump); nil when it is not that form.
    static func hop(_ text: String, defaultUser: String) -> JumpHost? {
        var user = defaultUser
        var rest = text
        if let at = text.lastIndex(of: "@") {
            user = String(text[..<at])
            rest = String(text[text.index(after: at)...])
            guard HostsParser.isUser(user) else { return nil }
        }
        let (address, portText) = HostsParser.endpoint(rest)
        guard !address.isEmpty, Validation.isAddress(address) else { return nil }
        guard let portText else { return JumpHost(user: user, address: address) }
        guard let port = Int(portText), (1...65535).contains(port), portText.allSatisfy(\.isASCII) else { return nil }
        return JumpHost(user: user, address: address, port: port)
    }
}
