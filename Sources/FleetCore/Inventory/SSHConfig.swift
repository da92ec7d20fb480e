import Foundation

/// An OpenSSH client configuration (ssh_config(5)) as read for `ssh.config`: its lines split into keywords and
/// arguments, `Include` expanded into the files it names. What applies to a host is found by `SSHConfig.match`
/// and checked by `SSHConfigHost` (each value with its file and line), then weighed against the inventory by
/// `ConnectionResolver` (all pure, no I/O); reading goes through `SSHConfigLoader`, whose file access is injected.
public struct SSHConfig: Sendable, Equatable {
    /// The top file (absolute).
    public var file: SSHConfigFile
}

public struct SSHConfigFile: Sendable, Equatable {
    public var path: String
    public var items: [SSHConfigItem]
}

public indirect enum SSHConfigItem: Sendable, Equatable {
    /// `Host PATTERN...`: starts a block that applies when the patterns match.
    case host(patterns: [String], line: Int)
    /// `Keyword ARGUMENT...`; `keyword` lower-cased, `name` as written.
    case option(keyword: String, name: String, args: [String], line: Int)
    /// `Include`: the files its globs matched, in order, already read.
    case include(files: [SSHConfigFile], line: Int)
}

/// Where a keyword was written.
public struct SSHConfigPlace: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var description: String { "\(file):\(line)" }
}

/// A keyword fleet does not honour, found in a block that applies to one of the inventory's hosts.
public struct SSHConfigIgnored: Sendable, Hashable, Codable {
    /// As written in the file (`ForwardAgent`).
    public var keyword: String
    public var file: String
    public var line: Int
}

/// What `fleet plan` shows about `ssh.config`.
public struct SSHConfigSummary: Sendable, Equatable, Codable {
    /// The top file read (absolute).
    public var file: String
    /// False when `ssh.config: true` found no `~/.ssh/config` (nothing applied, as for OpenSSH).
    public var found: Bool
    /// Keywords ignored for the inventory's hosts, in file order, each once.
    public var ignored: [SSHConfigIgnored]
}

/// Reads a config and everything it includes. `readFile` gives a file's text, or nil when it does not exist;
/// `glob` the paths matching a pattern, sorted (none: empty).
public struct SSHConfigLoader {
    /// As OpenSSH's READCONF_MAX_DEPTH: deeper `Include`s (a file including itself, say) are refused.
    public static let maxDepth = 16

    /// Home folder: `~` and relative `Include` paths (`~/.ssh/NAME`, as for OpenSSH's user configuration).
    public var home: String
    public var readFile: (String) throws -> String?
    public var glob: (String) -> [String]

    public init(home: String, readFile: @escaping (String) throws -> String?, glob: @escaping (String) -> [String]) {
        self.home = home
        self.readFile = readFile
        self.glob = glob
    }

    /// The config at `path` (absolute), nil when it does not exist.
    public func load(_ path: String) throws -> SSHConfig? {
        guard let text = try readFile(path) else { return nil }
        return SSHConfig(file: try parse(text, path: path, depth: 0))
    }

    func parse(_ text: String, path: String, depth: Int) throws -> SSHConfigFile {
        var items: [SSHConfigItem] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            guard let (name, args) = try SSHConfigLexer.split(raw, file: path, line: number) else { continue }
            let keyword = name.lowercased()
            switch keyword {
            case "host":
                items.append(.host(patterns: args, line: number))
            case "match":
                throw InventoryError(file: path, line: number, message:
                    "'Match' blocks are not supported by fleet (ssh.config); write the settings fleet needs in a 'Host' block, or point ssh.config at a file without 'Match'")
            case "include":
                guard depth < Self.maxDepth else {
                    throw InventoryError(file: path, line: number, message:
                        "'Include' nests more than \(Self.maxDepth) files deep (does a file include itself?); remove the loop")
                }
                var files: [SSHConfigFile] = []
                for pattern in args {
                    for match in glob(includePath(pattern)) {
                        guard let included = try readFile(match) else { continue }
                        files.append(try parse(included, path: match, depth: depth + 1))
                    }
                }
                items.append(.include(files: files, line: number))
            default:
                items.append(.option(keyword: keyword, name: name, args: args, line: number))
            }
        }
        return SSHConfigFile(path: path, items: items)
    }

    /// `~/x` under home; a relative path under `~/.ssh` (ssh_config(5) for user configuration files).
    func includePath(_ pattern: String) -> String {
        if pattern == "~" || pattern.hasPrefix("~/") { return home + pattern.dropFirst() }
        if pattern.hasPrefix("/") { return pattern }
        return (home.hasSuffix("/") ? home : home + "/") + ".ssh/" + pattern
    }

    /// The real file system: `LocalFile` checks (a regular file, at most 1 MiB, UTF-8) and glob(3).
    public static func live(home: String) -> SSHConfigLoader {
        SSHConfigLoader(home: home,
                        readFile: { try LocalFile.readText($0, what: "ssh config", maxBytes: LocalFile.maxSSHConfigBytes) },
                        glob: systemGlob)
    }

    static func systemGlob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}

/// Splits a config line as OpenSSH does: the keyword ends at white space or `=` (`Port 22`, `Port=22`,
/// `Port = 22`); arguments are separated by white space, may be quoted with `"` or `'`, and `#` at the start of an
/// argument begins a comment. Blank and comment lines give nil.
enum SSHConfigLexer {
    static func split(_ raw: Substring, file: String, line: Int) throws -> (String, [String])? {
        let s = Array(raw.unicodeScalars)
        var i = 0
        func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\r" || c == "\u{0C}" }
        while i < s.count, isSpace(s[i]) { i += 1 }
        guard i < s.count, s[i] != "#" else { return nil }
        var keyword = ""
        while i < s.count, !isSpace(s[i]), s[i] != "=" { keyword.unicodeScalars.append(s[i]); i += 1 }
        while i < s.count, isSpace(s[i]) { i += 1 }
        if i < s.count, s[i] == "=" { i += 1 }
        guard !keyword.isEmpty else {
            throw InventoryError(file: file, line: line, message: "this line has no keyword; write 'Keyword value'")
        }
        var args: [String] = []
        while true {
            while i < s.count, isSpace(s[i]) { i += 1 }
            guard i < s.count, s[i] != "#" else { break }
            var arg = ""
            var quote: Unicode.Scalar?
            while i < s.count {
                let c = s[i]
                if c == "\\", i + 1 < s.count, ["\"", "'", "\\"].contains(s[i + 1]) || (quote == nil && s[i + 1] == " ") {
                    arg.unicodeScalars.append(s[i + 1])
                    i += 2
                    continue
                }
                if quote == nil, isSpace(c) { break }
                if quote == nil, c == "\"" || c == "'" {
                    quote = c
                } else if let q = quote, c == q {
                    quote = nil
                } else {
                    arg.unicodeScalars.append(c)
                }
                i += 1
            }
            if quote != nil {
                throw InventoryError(file: file, line: line, message: "'\(keyword)' has an unclosed quote; close it")
            }
            args.append(arg)
        }
        guard !args.isEmpty else {
            throw InventoryError(file: file, line: line, message: "'\(keyword)' has no value; give one or remove the line")
        }
        return (keyword, args)
    }
}
