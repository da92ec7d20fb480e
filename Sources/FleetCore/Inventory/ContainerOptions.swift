import Foundation
import Yams

/// `container:` options for `docker run` (volumes, limits, user, logging...), validated at load and handed to the
/// host as an argument array (one argument per element, never through a shell; see `arguments`).
public struct ContainerOptions: Sendable, Equatable {
    public var volumes: [String] = []
    public var memory: String?
    public var cpus: String?
    public var user: String?
    public var readOnly = false
    public var tmpfs: [String] = []
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var initProcess = false
    public var labels: [String: String] = [:]
    public var logDriver: String?
    public var logOpts: [String: String] = [:]
    public var ulimits: [String: String] = [:]
    public var extraHosts: [String] = []
    /// Seconds between SIGTERM and SIGKILL when the old container stops (docker's own default is 10).
    public var stopTimeoutSeconds = 30
    public var dockerArgs: [String] = []

    public init() {}

    /// The `docker run` arguments these options make, in a fixed order, one per element.
    public var arguments: [String] {
        var args: [String] = []
        for volume in volumes { args += ["--volume", volume] }
        if let memory { args += ["--memory", memory] }
        if let cpus { args += ["--cpus", cpus] }
        if let user { args += ["--user", user] }
        if readOnly { args.append("--read-only") }
        for mount in tmpfs { args += ["--tmpfs", mount] }
        for cap in capAdd { args += ["--cap-add", cap] }
        for cap in capDrop { args += ["--cap-drop", cap] }
        if initProcess { args.append("--init") }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { args += ["--label", "\(key)=\(value)"] }
        if let logDriver { args += ["--log-driver", logDriver] }
        for (key, value) in logOpts.sorted(by: { $0.key < $1.key }) { args += ["--log-opt", "\(key)=\(value)"] }
        for (name, value) in ulimits.sorted(by: { $0.key < $1.key }) { args += ["--ulimit", "\(name)=\(value)"] }
        for host in extraHosts { args += ["--add-host", host] }
        args += ["--stop-timeout", String(stopTimeoutSeconds)]
        return args + dockerArgs
    }

    /// The arguments as the host reads them: each followed by a NUL byte.
    public var argumentsFile: String { arguments.map { $0 + "\0" }.joined() }

    /// `docker_args` that would fight fleet: it names, networks, publishes, restarts and detaches the container
    /// itself, and the env reaches it through the env file (never a command line).
    static let refusedArgs = ["--name", "--network", "--net", "-p", "--publish", "-P", "--publish-all", "--restart", "-d",
                              "--detach", "--rm", "-e", "--env", "--env-file", "-i", "--interactive", "-t", "--tty"]

    /// The refused flag `arg` sets, as docker reads it: `--flag` or `--flag=value`; a short flag with its value
    /// attached (`-p8080:80`, `-eKEY=v`); or a cluster of short flags (`-dit`).
    static func refusedFlag(in arg: String) -> String? {
        let long = String(arg.split(separator: "=", maxSplits: 1).first ?? "")
        if refusedArgs.contains(long) { return long }
        guard arg.hasPrefix("-"), !arg.hasPrefix("--"), arg.count > 2 else { return nil }
        let letters = arg.dropFirst()
        // The first letter is a flag; the rest is its value, or more flags when they are all letters.
        let flags = letters.allSatisfy(\.isLetter) ? Array(letters) : [letters.first!]
        return flags.map { "-\($0)" }.first { refusedArgs.contains($0) }
    }
}

/// Parses the options of `container:` (besides `port_env` and `ports`).
enum ContainerOptionsParser {
    static let keys = ["volumes", "memory", "cpus", "user", "read_only", "tmpfs", "cap_add", "cap_drop", "init", "labels",
                       "log_driver", "log_opts", "ulimits", "extra_hosts", "stop_timeout", "docker_args"]

    /// `base`: what `container:` set, for a process's `options` merged over it (lists add up, maps merge, a
    /// value set here wins).
    static func parse(_ s: YAMLSection?, base: ContainerOptions = ContainerOptions()) throws -> ContainerOptions {
        var o = base
        guard let s else { return o }
        o.volumes += try list(s, "volumes", "HOST:CONTAINER[:ro] or NAME:CONTAINER, like data:/app/storage") { volume in
            let parts = volume.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard (2...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && matches($0, "A-Za-z0-9_./@+-") }),
                  parts[1].hasPrefix("/"), parts.count == 2 || ["ro", "rw"].contains(parts[2]) else { return false }
            return parts[0].hasPrefix("/") || (parts[0].first.map { $0.isLetter || $0.isNumber } ?? false)
        }
        o.memory = try scalar(s, "memory", "a size like 512m or 1g") { $0.range(of: "^[0-9]+[bkmgBKMG]?$", options: .regularExpression) != nil } ?? o.memory
        o.cpus = try scalar(s, "cpus", "a number of CPUs like 1.5") { $0.range(of: "^[0-9]+(\\.[0-9]+)?$", options: .regularExpression) != nil } ?? o.cpus
        o.user = try scalar(s, "user", "a user like 1001, app or 1001:1001") {
            $0.range(of: "^([a-z_][a-z0-9_-]*|[0-9]+)(:([a-z_][a-z0-9_-]*|[0-9]+))?$", options: .regularExpression) != nil
        } ?? o.user
        o.readOnly = try flag(s, "read_only") ?? o.readOnly
        o.initProcess = try flag(s, "init") ?? o.initProcess
        o.tmpfs += try list(s, "tmpfs", "an absolute path, optionally with options, like /tmp or /tmp:size=64m") {
            $0.hasPrefix("/") && matches($0, "A-Za-z0-9_./=,:-")
        }
        o.capAdd += try list(s, "cap_add", "a capability like NET_BIND_SERVICE") { matches($0, "A-Z_") }
        o.capDrop += try list(s, "cap_drop", "a capability like ALL") { matches($0, "A-Z_") }
        o.labels.merge(try map(s, "labels", key: "A-Za-z0-9._-") { !$0.contains("\n") && !$0.contains("\0") }) { $1 }
        if let bad = o.labels.keys.sorted().first(where: { $0.hasPrefix("fleet.") }) {
            throw s.error(s.value("labels"), "'\(s.qualified("labels"))' sets the label '\(YAMLSection.printable(bad))': the fleet.* labels are fleet's own (recovery and status read them); choose another name")
        }
        o.logDriver = try scalar(s, "log_driver", "a log driver like json-file or journald") { matches($0, "a-z0-9_-") } ?? o.logDriver
        o.logOpts.merge(try map(s, "log_opts", key: "a-z0-9._-") { !$0.contains("\n") && !$0.contains("\0") }) { $1 }
        o.ulimits.merge(try map(s, "ulimits", key: "a-z") { $0.range(of: "^-?[0-9]+(:-?[0-9]+)?$", options: .regularExpression) != nil }) { $1 }
        o.extraHosts += try list(s, "extra_hosts", "NAME:ADDRESS, like db.internal:10.0.0.5") { entry in
            guard let colon = entry.firstIndex(of: ":") else { return false }
            return Validation.isAddress(String(entry[entry.index(after: colon)...])) && matches(String(entry[..<colon]), "A-Za-z0-9.-")
        }
        o.stopTimeoutSeconds = try s.wholeSeconds("stop_timeout", default: o.stopTimeoutSeconds, minimum: 0, maximum: 3600)
        o.dockerArgs += try list(s, "docker_args", "one docker run argument per element, like --pids-limit=200") {
            !$0.contains("\n") && !$0.contains("\0") && !$0.contains("\r")
        }
        for arg in o.dockerArgs {
            if let flag = ContainerOptions.refusedFlag(in: arg) {
                throw s.error(s.value("docker_args"), "'\(s.qualified("docker_args"))' holds \(flag), which fleet sets itself (name, network, ports, restart, env); remove it")
            }
        }
        try checkLabels(o.dockerArgs, written: try s.stringList("docker_args")?.map(\.1) ?? [], s)
        return o
    }

    /// Refuses a `fleet.*` label set through `args` (the base's, then `written`'s nodes, this section's), in each
    /// spelling docker run reads: `--label=K=V`, `--label K=V`, `-l K=V`, `-lK=V`, `-l=K=V`; and `--label-file`,
    /// whose labels docker reads on the host, where fleet cannot check them.
    static func checkLabels(_ args: [String], written: [Node], _ s: YAMLSection) throws {
        let key = s.qualified("docker_args")
        func node(_ i: Int) -> Node? {
            let own = i - (args.count - written.count)
            return own >= 0 && own < written.count ? written[own] : s.value("docker_args")
        }
        for (i, arg) in args.enumerated() {
            if arg == "--label-file" || arg.hasPrefix("--label-file=") {
                throw s.error(node(i), "'\(key)' holds --label-file, whose labels docker reads on the host, where fleet cannot check them for the fleet.* labels, fleet's own; write the labels in 'labels:' instead")
            }
            var label: String?, at = i
            if arg == "--label" || arg == "-l" {
                if i + 1 < args.count { label = args[i + 1]; at = i + 1 }
            } else if arg.hasPrefix("--label=") {
                label = String(arg.dropFirst("--label=".count))
            } else if arg.hasPrefix("-l") {
                let value = arg.dropFirst(2)
                label = String(value.hasPrefix("=") ? value.dropFirst() : value)
            }
            guard let label else { continue }
            let name = (label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").trimmingCharacters(in: .whitespaces)
            guard name.hasPrefix("fleet.") else { continue }
            throw s.error(node(at), "'\(key)' sets the label '\(YAMLSection.printable(label))' (\(YAMLSection.printable(arg))); the fleet.* labels are fleet's own (recovery and status read them); remove it, or give the label another name in 'labels:'")
        }
    }

    static func matches(_ text: String, _ allowed: String) -> Bool {
        !text.isEmpty && text.range(of: "^[\(allowed)]+$", options: .regularExpression) != nil
    }

    static func scalar(_ s: YAMLSection, _ key: String, _ expected: String, _ valid: (String) -> Bool) throws -> String? {
        guard let node = s.value(key) else { return nil }
        let text = try s.scalarText(node, key, expected: expected)
        guard valid(text) else { throw s.error(node, "'\(s.qualified(key))' must be \(expected), found '\(YAMLSection.printable(text))'") }
        return text
    }

    static func flag(_ s: YAMLSection, _ key: String) throws -> Bool? {
        guard let text = try scalar(s, key, "true or false", { ["true", "false"].contains($0) }) else { return nil }
        return text == "true"
    }

    static func list(_ s: YAMLSection, _ key: String, _ expected: String, _ valid: (String) -> Bool) throws -> [String] {
        try (s.stringList(key) ?? []).map { text, node in
            guard valid(text) else { throw s.error(node, "'\(s.qualified(key))' entries must be \(expected), found '\(YAMLSection.printable(text))'") }
            return text
        }
    }

    static func map(_ s: YAMLSection, _ key: String, key allowed: String, _ valid: (String) -> Bool) throws -> [String: String] {
        guard let node = s.value(key) else { return [:] }
        let m = try YAMLSection(file: s.file, name: s.qualified(key), node: node, allowed: [])
        var result: [String: String] = [:]
        for name in m.orderedKeys {
            guard matches(name, allowed) else { throw m.error(m.keyNode(name), "'\(m.qualified(name))': the name may hold only \(allowed)") }
            let value = try m.scalarText(m.value(name) ?? node, name, expected: "a value")
            guard valid(value) else { throw m.error(m.value(name), "'\(m.qualified(name))' has a value fleet cannot pass, '\(YAMLSection.printable(value))'") }
            result[name] = value
        }
        return result
    }
}
