import SSHEngine

/// A keyword's arguments as first obtained for a host, and where they were written.
public struct SSHConfigSetting: Sendable, Equatable {
    /// As written (`HostName`).
    public var name: String
    public var args: [String]
    public var place: SSHConfigPlace
}

/// What a config says for one host name, before interpretation: for each honoured keyword its first obtained
/// value (ssh_config(5): "the first obtained value will be used"), every `IdentityFile` in order, and the
/// keywords fleet ignores.
public struct SSHConfigMatch: Sendable, Equatable {
    /// By lower-cased keyword.
    public var settings: [String: SSHConfigSetting] = [:]
    public var identityFiles: [SSHConfigSetting] = []
    public var ignored: [SSHConfigIgnored] = []
}

extension SSHConfig {
    /// The keywords fleet honours (lower-cased).
    public static let honoured: Set<String> = [
        "hostname", "user", "port", "identityfile", "identitiesonly", "proxyjump", "userknownhostsfile",
        "stricthostkeychecking", "connecttimeout", "serveraliveinterval",
    ]

    /// What applies to `host` (the name typed after `ssh`; matched lower-cased, as ssh does).
    public func match(_ host: String) -> SSHConfigMatch {
        var result = SSHConfigMatch()
        var active = true
        Self.walk(file, host: host.lowercased(), active: &active, neverMatch: false, into: &result)
        return result
    }

    static func walk(_ file: SSHConfigFile, host: String, active: inout Bool, neverMatch: Bool, into result: inout SSHConfigMatch) {
        for item in file.items {
            switch item {
            case .host(let patterns, _):
                active = false
                if neverMatch { continue }
                for pattern in patterns {
                    let negated = pattern.hasPrefix("!")
                    guard SSHPattern.matches(host, negated ? String(pattern.dropFirst()) : pattern) else { continue }
                    if negated { active = false; break }
                    active = true
                }
            case .include(let files, _):
                // An Include in a block that does not apply reads its files with no Host line matching; the
                // including file's state is restored after each (as OpenSSH's readconf.c).
                let outer = active
                for included in files {
                    walk(included, host: host, active: &active, neverMatch: neverMatch || !outer, into: &result)
                    active = outer
                }
            case .option(let keyword, let name, let args, let line):
                guard active else { continue }
                let place = SSHConfigPlace(file: file.path, line: line)
                let setting = SSHConfigSetting(name: name, args: args, place: place)
                if keyword == "identityfile" {
                    result.identityFiles.append(setting)
                } else if honoured.contains(keyword) {
                    if result.settings[keyword] == nil { result.settings[keyword] = setting }
                } else {
                    result.ignored.append(SSHConfigIgnored(keyword: name, file: file.path, line: line))
                }
            }
        }
    }
}

/// ssh's host patterns: `*` any run of characters, `?` exactly one; everything else literal.
enum SSHPattern {
    static func matches(_ text: String, _ pattern: String) -> Bool {
        matches(Array(text.unicodeScalars)[...], Array(pattern.unicodeScalars)[...])
    }

    private static func matches(_ s: ArraySlice<Unicode.Scalar>, _ p: ArraySlice<Unicode.Scalar>) -> Bool {
        var s = s, p = p
        while let c = p.first {
            if c == "*" {
                p = p.dropFirst()
                while p.first == "*" { p = p.dropFirst() }
                if p.isEmpty { return true }
                var rest = s
                while true {
                    if matches(rest, p) { return true }
                    guard !rest.isEmpty else { return false }
                    rest = rest.dropFirst()
                }
            }
            guard let t = s.first, c == "?" || c == t else { return false }
            s = s.dropFirst()
            p = p.dropFirst()
        }
        return s.isEmpty
    }
}

/// A path from the config (`IdentityFile`, `UserKnownHostsFile`), expanded once the host's user and port are
/// known (`SSHConfigTokens.path`).
public struct SSHConfigPath: Sendable, Equatable {
    public var text: String
    public var setting: SSHConfigSetting
}

/// The honoured keywords of one host, checked; errors name the config file and line.
public struct SSHConfigHost: Sendable, Equatable {
    /// `HostName`, `%h` expanded.
    public var hostName: String?
    public var user: String?
    public var port: Int?
    public var identityFiles: [SSHConfigPath] = []
    public var identitiesOnly: Bool?
    /// `ProxyJump` hops as written (`[user@]host[:port]`); empty for `ProxyJump none`.
    public var proxyJump: [String]?
    public var knownHosts: SSHConfigPath?
    /// nil when not set, or when the inventory sets `ssh.host_key_policy` (then the config's is not read).
    public var hostKeyPolicy: HostKeyPolicy?
    public var connectTimeoutSeconds: Int?
    /// `ServerAliveInterval` in seconds; 0 (ssh's "off") gives nil: fleet's own keepalive stays.
    public var serverAliveInterval: Int?
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
            hostName = name
        }
        if let s = settings["user"] {
            guard HostsParser.isUser(s.args[0]) else {
                throw Self.error(s, "'\(s.name)' must be a login name (letters, digits, '.', '_', '-'), found '\(YAMLSection.printable(s.args[0]))'")
            }
            user = s.args[0]
        }
        if let s = settings["port"] {
            guard let n = Int(s.args[0]), (1...65535).contains(n) else {
                throw Self.error(s, "'\(s.name)' must be a port from 1 to 65535, found '\(YAMLSection.printable(s.args[0]))'")
            }
            port = n
        }
        if let s = settings["identitiesonly"] { identitiesOnly = try Self.yesNo(s) }
        if let s = settings["proxyjump"] {
            proxyJump = s.args[0].lowercased() == "none" ? [] : s.args[0].split(separator: ",").map(String.init)
        }
        if let s = settings["userknownhostsfile"] {
            guard s.args[0].lowercased() != "none" else {
                throw Self.error(s, "'\(s.name) none' leaves fleet no known_hosts to check host keys against; name a file, or set ssh.known_hosts in the inventory")
            }
            knownHosts = SSHConfigPath(text: s.args[0], setting: s)
        }
        if readPolicy, let s = settings["stricthostkeychecking"] {
            switch s.args[0].lowercased() {
            case "yes", "true", "ask": hostKeyPolicy = .strict
            case "accept-new": hostKeyPolicy = .acceptNew
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
            connectTimeoutSeconds = t
        }
        if let s = settings["serveraliveinterval"] {
            guard let t = SSHConfigTokens.seconds(s.args[0]) else {
                throw Self.error(s, "'\(s.name)' must be a time like 15, 15s or 1m, found '\(YAMLSection.printable(s.args[0]))'")
            }
            serverAliveInterval = t > 0 ? t : nil
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
