import Yams

/// The `hosts` mapping: `name: address` or `name: {address, port, user, tags}`.
struct HostsParser {
    /// The most hosts one inventory may hold (docs/ssh.md, Hosts): a plan of this many builds in well under a
    /// second a thousand hosts; past it, one controller is the wrong shape anyway.
    static let maxHosts = 50_000

    let top: YAMLSection
    let ssh: SSHSettings
    /// Decides each host's connection from what its entry writes, `ssh.*` and `ssh.config`.
    let resolver: ConnectionResolver

    func parse() throws -> [HostEntry] {
        guard let node = top.value("hosts") else {
            throw top.error(top.keyNode("hosts"), "no hosts; add a 'hosts' mapping, for example:\n  hosts:\n    web1: 10.0.0.11")
        }
        let section = try YAMLSection(file: top.file, name: "hosts", node: node, allowed: [])
        guard !section.orderedKeys.isEmpty else {
            throw top.error(node, "'hosts' is empty; add at least one host like 'web1: 10.0.0.11'")
        }
        guard section.orderedKeys.count <= Self.maxHosts else {
            throw top.error(node, "'hosts' lists \(section.orderedKeys.count) hosts, more than the \(Self.maxHosts) one inventory may hold; split the fleet into several inventories (one per region or role)")
        }
        var hosts: [HostEntry] = []
        var byName: [String: Int] = [:]
        var byEndpoint: [String: String] = [:]
        for name in section.orderedKeys {
            let keyNode = section.keyNode(name)
            guard Validation.isName(name) else {
                throw section.error(keyNode, "host name '\(YAMLSection.printable(name))' must match [a-z0-9][a-z0-9-]* (lower-case letters, digits, '-'; at most 63)")
            }
            if byName[name] != nil {
                throw section.error(keyNode, "duplicate host name '\(name)'; every host name must appear once")
            }
            let host = try entry(name, section)
            // The same address behind another bastion is another host (private networks may overlap).
            let endpoint = "\(host.address.lowercased())|\(host.port)|" + host.via.map(\.description).joined(separator: ",")
            if let other = byEndpoint[endpoint] {
                throw section.error(keyNode, "host '\(name)' has the same address as '\(other)' (\(host.address) port \(host.port)); each host must be listed once")
            }
            byName[name] = hosts.count
            byEndpoint[endpoint] = name
            hosts.append(host)
        }
        return hosts
    }

    func entry(_ name: String, _ section: YAMLSection) throws -> HostEntry {
        guard let value = section.value(name) else {
            throw section.error(section.keyNode(name), "host '\(name)' has no address; write '\(name): 10.0.0.11' or '\(name): {address: 10.0.0.11}'")
        }
        if case .scalar = value {
            let (address, port) = Self.endpoint(try section.scalarText(value, name, expected: "an address"))
            try checkAddress(address, value, section, name)
            let key = SettingOrigin.inventory(key: "hosts.\(name)")
            let keys = HostKeys(name: name, address: Resolved(address, from: key),
                                port: try Self.port(port, value, section, name).map { Resolved($0, from: key) })
            return HostEntry(name: name, connection: try resolver.resolve(keys))
        }
        let h = try YAMLSection(file: top.file, name: "hosts.\(name)", node: value, allowed: ["address", "port", "user", "tags", "proxy_jump"])
        guard h.value("address") != nil else {
            throw h.error(value, "host '\(name)' has no 'address'; add address: 10.0.0.11")
        }
        let (address, inline) = Self.endpoint(try h.string("address", default: ""))
        try checkAddress(address, h.value("address"), h, name)
        if let inline = try Self.port(inline, h.value("address"), h, name), h.value("port") != nil,
           try h.int("port", default: inline, range: 1...65535) != inline {
            throw h.error(h.value("port"), "host '\(name)' names port \(inline) in its address and another in 'port'; keep one")
        }
        let user = try h.string("user", default: ssh.user)
        guard Self.isUser(user) else {
            throw h.error(h.value("user"), "'hosts.\(name).user' must be a login name (letters, digits, '.', '_', '-'), found '\(YAMLSection.printable(user))'")
        }
        var tags: [String] = []
        for (tag, node) in try h.stringList("tags") ?? [] {
            guard Validation.isTag(tag) else {
                throw h.error(node, "tag '\(YAMLSection.printable(tag))' of host '\(name)' must be letters, digits, '_' or '-'")
            }
            if !tags.contains(tag) { tags.append(tag) }
        }
        func key(_ field: String) -> SettingOrigin { .inventory(key: "hosts.\(name).\(field)") }
        let port = try Self.port(inline, h.value("address"), h, name).map { Resolved($0, from: key("address")) }
            ?? (h.value("port") == nil ? nil : Resolved(try h.int("port", default: ssh.port, range: 1...65535), from: key("port")))
        let keys = HostKeys(name: name, address: Resolved(address, from: key("address")), port: port,
                            user: h.value("user") == nil ? nil : Resolved(user, from: key("user")),
                            via: try ProxyJumpParser.parse(h, "proxy_jump", user: ssh.user).map { Resolved($0, from: key("proxy_jump")) })
        return HostEntry(name: name, tags: tags, connection: try resolver.resolve(keys))
    }

    /// `[ADDRESS]:PORT` (IPv6 or any), `[ADDRESS]`, `NAME:PORT` or `10.0.0.1:PORT` (one colon), or a bare address
    /// (`::1`, `fe80::1%eth0`, a name): the address and the port written with it, if any.
    static func endpoint(_ text: String) -> (address: String, port: String?) {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let inner = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (inner, nil) }
            if rest.hasPrefix(":") { return (inner, String(rest.dropFirst())) }
            return (text, nil)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2 { return (String(parts[0]), String(parts[1])) }
        return (text, nil)
    }

    static func port(_ text: String?, _ node: Node?, _ s: YAMLSection, _ name: String) throws -> Int? {
        guard let text else { return nil }
        guard let port = Int(text), (1...65535).contains(port), text.allSatisfy(\.isASCII) else {
            throw s.error(node, "the port '\(YAMLSection.printable(text))' in the address of host '\(name)' must be 1 to 65535, as in [::1]:2222 or 10.0.0.1:2222")
        }
        return port
    }

    func checkAddress(_ address: String, _ node: Node?, _ s: YAMLSection, _ name: String) throws {
        guard Validation.isAddress(address) else {
            throw s.error(node, "address '\(YAMLSection.printable(address))' of host '\(name)' is not an IPv4 or IPv6 address or a host name")
        }
    }

    static func isUser(_ u: String) -> Bool {
        guard let f = u.unicodeScalars.first, f != "-", u.unicodeScalars.count <= 64 else { return false }
        return u.unicodeScalars.allSatisfy { Validation.isAlnum($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }
}

/// `hooks.before_rollout` / `hooks.after_rollout`: a command split like a shell would (quotes honoured, no
/// variables or globs), or a list of arguments.
enum HooksParser {
    static func parse(_ top: YAMLSection) throws -> HookSettings {
        guard let s = try top.section("hooks", allowed: ["before_rollout", "after_rollout"]) else {
            return HookSettings(beforeRollout: nil, afterRollout: nil)
        }
        return HookSettings(beforeRollout: try command(s, "before_rollout"), afterRollout: try command(s, "after_rollout"))
    }

    static func command(_ s: YAMLSection, _ key: String) throws -> [String]? {
        guard let node = s.value(key) else { return nil }
        let argv: [String]
        if case .sequence = node {
            argv = try s.stringList(key)?.map(\.0) ?? []
        } else {
            let text = try s.scalarText(node, key, expected: "a command or a list of arguments")
            guard let words = ShellWords.split(text) else {
                throw s.error(node, "'\(s.qualified(key))' has an unclosed quote; close it, or write the command as a list of arguments")
            }
            argv = words
        }
        guard !argv.isEmpty, !argv[0].isEmpty else { throw s.error(node, "'\(s.qualified(key))' is empty; remove it or give a command") }
        if argv.contains(where: { $0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f } }) {
            throw s.error(node, "'\(s.qualified(key))' holds a newline or control character; write one command (use a list, or [sh, -c, '...'] for a script)")
        }
        return argv
    }
}
