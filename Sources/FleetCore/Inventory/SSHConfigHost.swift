import SSHEngine

/// A path from the config (`IdentityFile`, `UserKnownHostsFile`), expanded once the host's user and port are
/// known (`SSHConfigTokens.path`).
public struct SSHConfigPath: Sendable, Equatable {
    public var text: String
    public var setting: SSHConfigSetting
}

/// The honoured keywords of one host, checked, each with the file and line it was read from; errors name them too.
public struct SSHConfigHost: Sendable, Equatable {
    /// `HostName`, `%h` expanded.
    public var hostName: Resolved<String>?
    public var user: Resolved<String>?
    public var port: Resolved<Int>?
    public var identityFiles: [SSHConfigPath] = []
    public var identitiesOnly: Resolved<Bool>?
    /// `ProxyJump` hops as written (`[user@]host[:port]`); empty for `ProxyJump none`.
    public var proxyJump: Resolved<[String]>?
    public var knownHosts: SSHConfigPath?
    /// nil when not set, or when the inventory sets `ssh.host_key_policy` (then the config's is not read).
    public var hostKeyPolicy: Resolved<HostKeyPolicy>?
    public var connectTimeoutSeconds: Resolved<Int>?
    /// `ServerAliveInterval` in seconds; 0 (ssh's "off") gives nil: fleet's own keepalive stays.
    public var serverAliveInterval: Resolved<Int>?
    public var ignored: [SSHConfigIgnored] = []

    /// Interprets what the config says for `host`. `readPolicy`: false when the inventory sets the host key
    /// policy, so a `StrictHostKeyChecking no` it overrides is not refused.
    public init(_ match: SSHConfigMatch, host: String, readPolicy: Bool = true) throws {
        ignored = match.ignored
        identityFiles = match.identityFiles.compactMap { s in
            s.args[0].lowercased() == "none" ? nil : SSHConfigPath(text: s.args[0], setting: s)
        }
        let settings = match.settings
        if let s = settings["hostname"] {
            let name = try SSHConfigTokens.expand(s.args[0], s, ["h": host.lowercased()])
            guard Validation.isAddress(name) else {
                throw Self.error(s, "'\(s.name) \(YAMLSection.printable(name))' is not an IPv4 or IPv6 address or a host name")
            }
            hostName = s.resolved(name)
        }
        if let s = settings["user"] {
            guard HostsParser.isUser(s.args[0]) else {
                throw Self.error(s, "'\(s.name)' must be a login name (letters, digits, '.', '_', '-'), found '\(YAMLSection.printable(s.args[0]))'")
            }
            user = s.resolved(s.args[0])
        }
        if let s = settings["port"] {
            guard let n = Int(s.args[0]), (1...65535).contains(n) else {
                throw Self.error(s, "'\(s.name)' must be a port from 1 to 65535, found '\(YAMLSection.printable(s.args[0]))'")
            }
            port = s.resolved(n)
        }
        if let s = settings["identitiesonly"] { identitiesOnly = s.resolved(try Self.yesNo(s)) }
        if let s = settings["proxyjump"] {
            proxyJump = s.resolved(s.args[0].lowercased() == "none" ? [] : s.args[0].split(separator: ",").map(String.init))
        }
        if let s = settings["userknownhostsfile"] {
            guard s.args[0].lowercased() != "none" else {
                throw Self.error(s, "'\(s.name) none' leaves fleet no known_hosts to check host keys against; name a file, or set ssh.known_hosts in the inventory")
            }
            knownHosts = SSHConfigPath(text: s.args[0], setting: s)
        }
        if readPolicy, let s = settings["stricthostkeychecking"] {
            switch s.args[0].lowercased() {
            case "yes", "true", "ask": hostKeyPolicy = s.resolved(.strict)
            case "accept-new": hostKeyPolicy = s.resolved(.acceptNew)
            case "no", "false", "off":
                throw Self.error(s, "'\(s.name) \(s.args[0])' would accept any host key, which fleet never does; use 'accept-new' (records unknown keys, refuses changed ones), or set ssh.host_key_policy in the inventory (which wins over the config)")
            default:
                throw Self.error(s, "'\(s.name)' must be yes, accept-new or ask, found '\(YAMLSection.printable(s.args[0]))'")
            }
        }
        if let s = settings["connecttimeout"] {
            guard let t = SSHConfigTokens.seconds(s.args[0]), t > 0 else {
                throw Self.error(s, "'\(s.name)' must be a time like 10, 10s or 1m, more than 0, found '\(YAMLSection.printable(s.args[0]))'")
            }
            connectTimeoutSeconds = s.resolved(t)
        }
        if let s = settings["serveraliveinterval"] {
            guard let t = SSHConfigTokens.seconds(s.args[0]) else {
                throw Self.error(s, "'\(s.name)' must be a time like 15, 15s or 1m, found '\(YAMLSection.printable(s.args[0]))'")
            }
            serverAliveInterval = t > 0 ? s.resolved(t) : nil
        }
    }

    static func yesNo(_ s: SSHConfigSetting) throws -> Bool {
        switch s.args[0].lowercased() {
        case "yes", "true": return true
        case "no", "false": return false
        default: throw error(s, "'\(s.name)' must be yes or no, found '\(YAMLSection.printable(s.args[0]))'")
        }
    }

    static func error(_ s: SSHConfigSetting, _ message: String) -> InventoryError {
        InventoryError(file: s.place.file, line: s.place.line, message: message + " (ssh.config)")
    }
}

/// `%` tokens (ssh_config(5) TOKENS) and times.
public enum SSHConfigTokens {
    /// `text` with `%X` replaced from `values` and `%%` by `%`; another token is refused naming the line.
    static func expand(_ text: String, _ s: SSHConfigSetting, _ values: [Character: String]) throws -> String {
        var out = ""
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            guard c == "%" else { out.append(c); continue }
            guard let t = iterator.next() else { throw SSHConfigHost.error(s, "'\(s.name)' ends with a lone '%'; write %% for a percent sign") }
            if t == "%" { out.append("%"); continue }
            guard let value = values[t] else {
                let known = (values.keys.map { "%\($0)" }.sorted() + ["%%"]).joined(separator: " ")
                throw SSHConfigHost.error(s, "'\(s.name)' uses the token %\(t), which fleet does not expand there; use \(known)")
            }
            out += value
        }
        return out
    }

    /// A local path: tokens `%d` (home) `%u` (local user) `%h` (host name) `%n` (name as typed) `%p` (port)
    /// `%r` (remote user) `%%`; `~` is the home folder, and a relative path is taken from it.
    public static func path(_ p: SSHConfigPath, home: String, localUser: String, hostName: String, original: String,
                            port: Int, user: String) throws -> String {
        let values: [Character: String] = ["d": home, "u": localUser, "h": hostName, "n": original, "p": String(port), "r": user]
        let expanded = try expand(p.text, p.setting, values)
        return InventoryLoader.absolute(expanded, base: home, home: home)
    }

    /// OpenSSH's time format: `30`, `30s`, `2m`, `1h30m`, `1d`, `1w`; nil when not one.
    static func seconds(_ text: String) -> Int? {
        guard !text.isEmpty else { return nil }
        var total = 0
        var number = ""
        for c in text.lowercased() {
            if c.isASCII, c.isNumber { number.append(c); continue }
            let unit: Int
            switch c {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: return nil
            }
            guard let n = Int(number) else { return nil }
            total += n * unit
            number = ""
        }
        if !number.isEmpty { guard let n = Int(number) else { return nil }; total += n }
        return total <= 86_400 * 7 ? total : nil
    }
}

extension SSHConfigSetting {
    /// `value`, read from this setting's file and line.
    func resolved<Value>(_ value: Value) -> Resolved<Value> { Resolved(value, from: .sshConfig(place)) }
}
