import Yams

/// One process of the app (`processes.<name>`): `web` is the blue/green one behind the host's nginx; a `worker`
/// is replaced on each of its hosts by starting the new container, passing its check, then stopping the old one
/// (SIGTERM, `stop_timeout`, SIGKILL).
public struct AppProcess: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable, Codable { case web, worker }
    public var name: String
    public var role: Role
    /// The command after the image (argv, never through a shell); empty: the image's own.
    public var cmd: [String] = []
    public var hosts: ProcessHosts = .all
    /// Workers only: what makes a new container good.
    public var check: WorkerCheck?
    /// `container:` options with the process's `options` merged over them (`stop_timeout` included).
    public var options: ContainerOptions

    public var isWeb: Bool { role == .web }

    public func runs(on host: HostEntry) -> Bool {
        switch hosts {
        case .all: return true
        case .tags(let tags): return host.tags.contains { tags.contains($0) }
        case .names(let names): return names.contains(host.name)
        }
    }

    /// What a worker's host gets (`ROOT/process-NAME.conf`, NUL-terminated): the stop timeout, the check's kind,
    /// its seconds (running_for, or the command's timeout), then the check command's argv.
    public var confFile: String {
        var fields = [String(options.stopTimeoutSeconds)]
        switch check ?? .runningFor(seconds: WorkerCheck.defaultSeconds) {
        case .runningFor(let seconds): fields += ["running_for", String(seconds)]
        case .command(let argv, let timeout): fields += ["command", String(timeout)] + argv
        }
        return fields.map { $0 + "\0" }.joined()
    }

    /// The command as the host reads it (`ROOT/process-NAME.cmd`): each argument followed by a NUL byte.
    public var cmdFile: String { cmd.map { $0 + "\0" }.joined() }
}

public enum ProcessHosts: Sendable, Equatable {
    case all
    case tags([String])
    case names([String])

    public var description: String {
        switch self {
        case .all: return "every host"
        case .tags(let tags): return "tags " + tags.joined(separator: ", ")
        case .names(let names): return names.joined(separator: ", ")
        }
    }
}

public enum WorkerCheck: Sendable, Equatable {
    /// Still running (never restarted) this many seconds after its start.
    case runningFor(seconds: Int)
    /// `docker exec` of the argv exits 0 within `timeout` seconds (retried each second until then).
    case command([String], timeout: Int)

    static let defaultSeconds = 5

    public var seconds: Int {
        switch self {
        case .runningFor(let s): return s
        case .command(_, let t): return t
        }
    }

    public var description: String {
        switch self {
        case .runningFor(let s): return "still running after \(s)s"
        case .command(let argv, let t): return "docker exec \(ShellWords.join(argv)) exits 0 within \(t)s"
        }
    }
}

extension Inventory {
    /// The processes that run on `host`, in the inventory's order.
    public func processes(on host: HostEntry) -> [AppProcess] { processes.filter { $0.runs(on: host) } }

    /// The web process, if the app has one.
    public var webProcess: AppProcess? { processes.first(where: \.isWeb) }

    /// The web container's options (`container:` with the web process's own merged over them).
    public var webOptions: ContainerOptions { webProcess?.options ?? container.options }

    /// The workers of the app, in the inventory's order.
    public var workers: [AppProcess] { processes.filter { !$0.isWeb } }
}

/// Parses `processes:`; without it, one process `web` on every host with `container:`'s options.
enum ProcessesParser {
    static let webKeys = ["role", "cmd", "hosts", "stop_timeout", "options"]

    static func parse(_ top: YAMLSection, hosts: [HostEntry], container: ContainerOptions) throws -> [AppProcess]? {
        guard let node = top.value("processes") else { return nil }
        let section = try YAMLSection(file: top.file, name: "processes", node: node, allowed: [])
        guard !section.orderedKeys.isEmpty else {
            throw section.error(node, "'processes' is empty; remove it (one web process on every host) or name processes like 'web:' and 'job: {cmd: [bin/jobs]}'")
        }
        var result: [AppProcess] = []
        for name in section.orderedKeys {
            guard Validation.isName(name) else {
                throw section.error(section.keyNode(name), "process name '\(YAMLSection.printable(name))' must match [a-z0-9][a-z0-9-]* (lower-case letters, digits, '-'; at most 63)")
            }
            let value = section.value(name) ?? .mapping(Node.Mapping([]))
            let p = try YAMLSection(file: top.file, name: "processes.\(name)", node: value, allowed: webKeys + ["check"])
            let roleText = try p.string("role", default: name == "web" ? "web" : "worker")
            guard let role = AppProcess.Role(rawValue: roleText) else {
                throw p.error(p.value("role"), "'processes.\(name).role' must be web or worker, found '\(YAMLSection.printable(roleText))'")
            }
            if role == .web, let first = result.first(where: \.isWeb) {
                throw p.error(p.value("role") ?? section.keyNode(name), "'processes.\(name)' is a second web process ('\(first.name)' is one); an app has at most one, make this one 'role: worker'")
            }
            if role == .web, let key = p.keyNode("check") {
                throw p.error(key, "'processes.\(name).check' is for workers, and '\(name)' is the web process, which fleet checks through nginx: "
                    + "'health:' (each new container before the switch) and 'verify:' (the endpoints after each batch); write the check there")
            }
            var options = try ContainerOptionsParser.parse(try p.section("options", allowed: ContainerOptionsParser.keys), base: container)
            options.stopTimeoutSeconds = try p.wholeSeconds("stop_timeout", default: options.stopTimeoutSeconds, minimum: 0, maximum: 3600)
            var process = AppProcess(name: name, role: role, options: options)
            if let cmd = p.value("cmd") { process.cmd = try argv(cmd, p, "cmd", example: "[bin/jobs, start]") }
            process.hosts = try parseHosts(p, hosts: hosts)
            if role == .worker { process.check = try parseCheck(p) }
            guard hosts.contains(where: process.runs(on:)) else {
                throw p.error(p.value("hosts"), "'processes.\(name).hosts' selects no host of the inventory")
            }
            result.append(process)
        }
        return result
    }

    /// What only the web process uses, refused when written for an app whose processes are all workers (it would
    /// be read and never used).
    static func refuseWebKeys(_ top: YAMLSection, _ processes: [AppProcess]) throws {
        guard !processes.contains(where: \.isWeb) else { return }
        let container = try top.section("container", allowed: [])
        let written = ["health", "verify", "drain"].compactMap { key in top.keyNode(key).map { (key, $0) } }
            + ["ports", "port_env"].compactMap { key in container?.keyNode(key).map { ("container.\(key)", $0) } }
        guard let (key, node) = written.min(by: { ($0.1.mark?.line ?? 0) < ($1.1.mark?.line ?? 0) }) else { return }
        throw top.error(node, "'\(key)' applies to the web process, and this app has no web process (no 'processes.web', no 'role: web'); "
            + "remove it: a worker is checked by its 'processes.<name>.check'")
    }

    /// An argv: a list of strings, or one string split like a shell (never run through one).
    static func argv(_ node: Node, _ s: YAMLSection, _ key: String, example: String) throws -> [String] {
        let words: [String]
        if case .sequence(let seq) = node {
            words = try seq.map { try s.scalarText($0, key, expected: "a list of strings like \(example)") }
        } else {
            let text = try s.scalarText(node, key, expected: "a command: a list like \(example), or one string")
            guard let split = ShellWords.split(text) else {
                throw s.error(node, "'\(s.qualified(key))' has a quote that is not closed: '\(YAMLSection.printable(text))'")
            }
            words = split
        }
        guard !words.isEmpty, !words[0].isEmpty else { throw s.error(node, "'\(s.qualified(key))' is empty; give a command like \(example)") }
        if let bad = words.first(where: { $0.contains("\0") }) {
            throw s.error(node, "'\(s.qualified(key))' holds a NUL byte in '\(YAMLSection.printable(bad))', which no argument can carry")
        }
        return words
    }

    static func parseHosts(_ p: YAMLSection, hosts: [HostEntry]) throws -> ProcessHosts {
        guard let node = p.value("hosts") else { return .all }
        let key = p.qualified("hosts")
        if case .sequence = node {
            let names = try (p.stringList("hosts") ?? []).map { name, n in
                guard hosts.contains(where: { $0.name == name }) else {
                    let hint = Suggest.closest(to: name, in: hosts.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
                    throw p.error(n, "'\(key)' names '\(YAMLSection.printable(name))', which is not a host of the inventory\(hint)")
                }
                return name
            }
            guard !names.isEmpty else { throw p.error(node, "'\(key)' is an empty list; name hosts, or use {tags: [worker]}") }
            return .names(names)
        }
        let h = try YAMLSection(file: p.file, name: key, node: node, allowed: ["tags"])
        guard let list = try h.stringList("tags"), !list.isEmpty else {
            throw p.error(node, "'\(key)' must be a list of host names or {tags: [TAG, ...]}")
        }
        let known = Set(hosts.flatMap(\.tags))
        for (tag, n) in list where !known.contains(tag) {
            let tags = known.sorted()
            throw h.error(n, "no host has tag '\(YAMLSection.printable(tag))' (\(key).tags); " + (tags.isEmpty ? "no host has tags" : "known tags: " + tags.joined(separator: ", ")))
        }
        return .tags(list.map(\.0))
    }

    static func parseCheck(_ p: YAMLSection) throws -> WorkerCheck {
        guard let c = try p.section("check", allowed: ["running_for", "command", "timeout"]) else {
            return .runningFor(seconds: WorkerCheck.defaultSeconds)
        }
        if let command = c.value("command") {
            guard c.value("running_for") == nil else {
                throw c.error(c.keyNode("running_for"), "'\(c.name)' takes running_for or command (with timeout), not both")
            }
            let argv = try argv(command, c, "command", example: "[bin/jobs, ping]")
            return .command(argv, timeout: try c.wholeSeconds("timeout", default: 10, minimum: 1, maximum: 3600))
        }
        guard c.value("timeout") == nil else {
            throw c.error(c.keyNode("timeout"), "'\(c.name).timeout' goes with 'command'; running_for is its own wait")
        }
        guard c.value("running_for") != nil else {
            throw c.error(c.node, "'\(c.name)' needs running_for (like 10s) or command (like [bin/jobs, ping])")
        }
        return .runningFor(seconds: try c.wholeSeconds("running_for", default: WorkerCheck.defaultSeconds, minimum: 1, maximum: 3600))
    }
}
