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

/// ssh's host patterns: `*` any run of characters, `?` exactly one; everything else literal. Matched by `Glob`
/// (no recursion: a `Host *a*a*a…*b` line once took minutes, each star retrying every split of the name).
enum SSHPattern {
    static func matches(_ text: String, _ pattern: String) -> Bool {
        Glob.matches(pattern, text)
    }
}
