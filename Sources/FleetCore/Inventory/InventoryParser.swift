import Foundation
import SSHEngine
import Yams

/// Builds an `Inventory` from a composed YAML tree, checking every key and value.
struct InventoryParser {
    let file: String
    let context: LoaderContext
    let readFile: (String) throws -> String?
    /// Reads `ssh.config` and what it includes.
    var configLoader: SSHConfigLoader

    static let topKeys = ["app", "image", "env_file", "env", "ssh", "hosts", "rollout", "health", "paths", "container",
                          "nginx", "drain", "keep_releases", "hooks", "metrics", "notify", "image_checks",
                          "registry", "processes", "playbooks"]
    static let sshKeys = ["user", "port", "identity_files", "known_hosts", "host_key_policy", "connect_timeout", "parallel",
                          "config", "proxy_jump"]

    var baseDir: String { (file as NSString).deletingLastPathComponent }

    func parse(_ root: Node) throws -> Inventory {
        let top = try YAMLSection(file: file, name: "", node: root, allowed: Self.topKeys + ["verify"])
        let app = try name(top, "app", what: "app name")
        let image = try required(top, "image", example: "image: registry.example.com/acme/\(app)")
        guard Validation.isImageReference(image) else {
            throw top.error(top.value("image"), "'image' must be an image name without a tag, like registry.example.com/acme/\(app) (the version you deploy is the tag), found '\(YAMLSection.printable(image))'")
        }
        var ssh = try parseSSH(top)
        let sshConfig = try loadSSHConfig(top)
        let resolver = ConnectionResolver(ssh: ssh, agentAvailable: !(context.variables["SSH_AUTH_SOCK"] ?? "").isEmpty,
                                          config: sshConfig?.context)
        let hosts = try HostsParser(top: top, ssh: ssh, resolver: resolver).parse()
        ssh.usesJumps = hosts.contains { !$0.via.isEmpty }
        let rollout = try parseRollout(top)
        let health = try parseHealth(top)
        let underscored = app.replacingOccurrences(of: "-", with: "_")
        let pathsSection = try top.section("paths", allowed: ["root", "state"])
        let paths = PathSettings(root: try remotePath(pathsSection, "root", default: "/opt/fleet/\(app)"),
                                 state: try remotePath(pathsSection, "state", default: "/var/lib/fleet/\(app)"))
        let nginxSection = try top.section("nginx", allowed: ["upstream_file", "upstream_name", "conf", "url"])
        let upstreamName = try nginxSection?.string("upstream_name", default: "fleet_\(underscored)") ?? "fleet_\(underscored)"
        guard Validation.isVariableName(upstreamName) else {
            throw top.error(nginxSection?.value("upstream_name"), "'nginx.upstream_name' must be letters, digits and '_', found '\(YAMLSection.printable(upstreamName))'")
        }
        let nginx = NginxSettings(
            upstreamFile: try remotePath(nginxSection, "upstream_file", default: "/etc/nginx/conf.d/fleet-\(app).conf"),
            upstreamName: upstreamName,
            conf: try remotePath(nginxSection, "conf", default: "", allowEmpty: true),
            url: try confValue(nginxSection, "url", default: "http://127.0.0.1:80"))
        let hostPart = nginx.url.hasPrefix("http://") ? nginx.url.dropFirst(7) : nginx.url.hasPrefix("https://") ? nginx.url.dropFirst(8) : ""
        guard !hostPart.isEmpty, !hostPart.contains("/") else {
            throw top.error(nginxSection?.value("url"), "'nginx.url' must be http(s)://HOST[:PORT] without a path, like http://127.0.0.1:80")
        }
        var unset: [String] = []
        let envFile = try parseEnvFile(top)
        var inventory = Inventory(
            file: file, environment: Self.environmentName(file), app: app, image: image,
            envFile: try EnvSettingsParser.parse(top, envFile: envFile, variables: context.variables,
                                                 require: context.requireSecrets, unset: &unset), ssh: ssh, hosts: hosts, rollout: rollout, health: health,
            paths: paths, nginx: nginx, container: try parseContainer(top),
            drainSeconds: try top.wholeSeconds("drain", default: 2, minimum: 0, maximum: 3600),
            keepReleases: try top.int("keep_releases", default: 5, range: 2...1000),
            hooks: try HooksParser.parse(top),
            metrics: try parseMetrics(top), notify: try parseNotify(top), imageChecks: try parseImageChecks(top))
        inventory.verify = try VerifyParser.parse(top, health: health)
        inventory.warnings = envFile.map { EnvFileParser.substitutionWarnings(in: $0.contents.reveal(), file: $0.path) } ?? []
        if let sshConfig {
            inventory.sshConfig = SSHConfigSummary(file: sshConfig.file, found: sshConfig.context != nil,
                                                   ignored: sshConfig.context?.ignored ?? [])
        }
        inventory.registry = try RegistryParser.parse(top, image: image, variables: context.variables,
                                                      require: context.requireSecrets, unset: &unset)
        inventory.unsetSecrets = unset
        if let node = top.value("playbooks") {
            inventory.playbooks = localPath(try top.scalarText(node, "playbooks", expected: "a folder of host scripts, relative to this file"))
        }
        if let processes = try ProcessesParser.parse(top, hosts: hosts, container: inventory.container.options) {
            try ProcessesParser.refuseWebKeys(top, processes)
            inventory.processes = processes
            inventory.processesDeclared = true
        } else {
            inventory.processes = [AppProcess(name: "web", role: .web, options: inventory.container.options)]
        }
        return inventory
    }

    static func environmentName(_ file: String) -> String {
        let base = (file as NSString).lastPathComponent
        for ext in [".yml", ".yaml"] where base.hasSuffix(ext) { return String(base.dropLast(ext.count)) }
        return base
    }

    // MARK: sections

    func parseSSH(_ top: YAMLSection) throws -> SSHSettings {
        let s = try top.section("ssh", allowed: Self.sshKeys)
        let user = try s?.string("user", default: context.user) ?? context.user
        guard HostsParser.isUser(user) else {
            throw top.error(s?.value("user"), "'ssh.user' must be a login name (letters, digits, '.', '_', '-'), found '\(YAMLSection.printable(user))'")
        }
        let policyText = try s?.string("host_key_policy", default: "strict") ?? "strict"
        guard let policy = HostKeyPolicy(rawValue: policyText) else {
            throw top.error(s?.value("host_key_policy"), "'ssh.host_key_policy' must be strict or accept-new, found '\(YAMLSection.printable(policyText))'")
        }
        let identities = try s?.stringList("identity_files")?.map { localPath($0.0) } ?? []
        let timeout = try s?.duration("connect_timeout", default: .seconds(10)) ?? .seconds(10)
        guard timeout > .zero else { throw top.error(s?.value("connect_timeout"), "'ssh.connect_timeout' must be more than 0s") }
        var settings = SSHSettings(
            user: user, port: try s?.int("port", default: 22, range: 1...65535) ?? 22,
            identityFiles: identities,
            knownHosts: localPath(try s?.string("known_hosts", default: "~/.ssh/known_hosts") ?? "~/.ssh/known_hosts"),
            hostKeyPolicy: policy, connectTimeout: timeout,
            parallel: try s?.int("parallel", default: 100, range: 1...10_000) ?? 100,
            proxyJump: try ProxyJumpParser.parse(s, "proxy_jump", user: user) ?? [])
        settings.written = Set(Self.sshKeys.filter { s?.value($0) != nil })
        return settings
    }

    /// `ssh.config`: `true` reads `~/.ssh/config` (absent: nothing applies, as for ssh), a path reads that file
    /// (absent: refused); `false` or left out: off. The context is nil when the file is absent.
    func loadSSHConfig(_ top: YAMLSection) throws -> (file: String, context: SSHConfigContext?)? {
        guard let s = try top.section("ssh", allowed: Self.sshKeys), let node = s.value("config") else { return nil }
        let text = try s.scalarText(node, "config", expected: "true, false or a file path")
        if text == "false" { return nil }
        let path = text == "true" ? localPath("~/.ssh/config") : localPath(text)
        guard let config = try configLoader.load(path) else {
            if text == "true" { return (path, nil) }
            throw s.error(node, "ssh config \(path) not found; fix 'ssh.config' (relative to the inventory's folder), or write 'ssh.config: true' for ~/.ssh/config")
        }
        return (path, SSHConfigContext(config: config, home: context.home, localUser: context.user))
    }

    func parseRollout(_ top: YAMLSection) throws -> RolloutSettings {
        let s = try top.section("rollout", allowed: ["batch", "pause", "max_failures"])
        var batch: [BatchSize] = [.count(1), .percent(25)]
        if let s, let node = s.value("batch") {
            if case .sequence(let seq) = node {
                guard !seq.isEmpty else { throw s.error(node, "'rollout.batch' is an empty list; give sizes like [1, \"25%\", \"100%\"]") }
                batch = try seq.map { try batchSize($0, s) }
            } else {
                batch = [try batchSize(node, s)]
            }
        }
        return RolloutSettings(batch: batch, pause: try s?.duration("pause", default: .zero) ?? .zero,
                               maxFailures: try s?.int("max_failures", default: 0, range: 0...1_000_000) ?? 0)
    }

    func batchSize(_ node: Node, _ s: YAMLSection) throws -> BatchSize {
        let text = try s.scalarText(node, "batch", expected: "a host count or a percentage like \"25%\"")
        if text.hasSuffix("%") {
            guard let p = Int(text.dropLast().trimmingCharacters(in: .whitespaces)) else {
                throw s.error(node, "'rollout.batch' entry '\(YAMLSection.printable(text))' is not a percentage; write a whole number and %, like \"25%\"")
            }
            guard p > 0 else { throw s.error(node, "'rollout.batch' of 0% would never deploy; use at least 1% (or a count)") }
            guard p <= 100 else { throw s.error(node, "'rollout.batch' of \(p)% is over 100%; use at most \"100%\"") }
            return .percent(p)
        }
        guard let n = Int(text) else {
            throw s.error(node, "'rollout.batch' entry '\(YAMLSection.printable(text))' must be a host count like 2 or a percentage like \"25%\"")
        }
        guard n > 0 else { throw s.error(node, "'rollout.batch' of \(n) hosts would never deploy; use at least 1") }
        return .count(n)
    }

    func parseHealth(_ top: YAMLSection) throws -> HealthSettings {
        let s = try top.section("health", allowed: ["path", "status", "timeout", "interval", "request_timeout"])
        // The host scripts' grammar: ^/[A-Za-z0-9._~/%?=&-]*$
        let path = try s?.string("path", default: "/health") ?? "/health"
        guard path.hasPrefix("/"), path.unicodeScalars.allSatisfy({ Validation.isAlnum($0) || "._~/%?=&-".unicodeScalars.contains($0) }) else {
            throw top.error(s?.value("path"), "'health.path' must start with / and hold only letters, digits and . _ ~ / % ? = & -, found '\(YAMLSection.printable(path))'")
        }
        return HealthSettings(path: path, status: try s?.int("status", default: 200, range: 100...599) ?? 200,
                              timeoutSeconds: try s?.wholeSeconds("timeout", default: 30, minimum: 1) ?? 30,
                              intervalSeconds: try s?.wholeSeconds("interval", default: 1, minimum: 1) ?? 1,
                              requestTimeoutSeconds: try s?.wholeSeconds("request_timeout", default: 3, minimum: 1, maximum: 300) ?? 3)
    }

    func parseContainer(_ top: YAMLSection) throws -> ContainerSettings {
        let s = try top.section("container", allowed: ["port_env", "ports"] + ContainerOptionsParser.keys)
        let portEnv = try s?.string("port_env", default: "PORT") ?? "PORT"
        guard Validation.isVariableName(portEnv) else {
            throw top.error(s?.value("port_env"), "'container.port_env' must be a variable name like PORT, found '\(YAMLSection.printable(portEnv))'")
        }
        var ports = [8080, 8081]
        if let s, let node = s.value("ports") {
            guard case .sequence(let seq) = node, seq.count == 2 else {
                throw s.error(node, "'container.ports' must be a list of two ports (blue and green), like [8080, 8081]")
            }
            ports = try seq.map { try s.int($0, "ports", range: 1...65535) }
            guard ports[0] != ports[1] else { throw s.error(node, "'container.ports' must be two different ports, found \(ports[0]) twice") }
        }
        return ContainerSettings(portEnv: portEnv, ports: ports, options: try ContainerOptionsParser.parse(s))
    }

    func parseEnvFile(_ top: YAMLSection) throws -> EnvFile? {
        guard let node = top.value("env_file") else { return nil }
        let path = localPath(try top.scalarText(node, "env_file", expected: "a file path"))
        let text: String?
        do { text = try readFile(path) } catch let e as InventoryError { throw e } catch {
            throw top.error(node, "cannot read env file \(path): \(error)")
        }
        guard let text else {
            throw top.error(node, "env file \(path) not found; create it (KEY=VALUE lines, mode 0600) or fix 'env_file' (relative to the inventory's folder)")
        }
        return EnvFile(path: path, keys: try EnvFileParser.keys(in: text, file: path), contents: SecretText(text))
    }

    // MARK: values

    func required(_ s: YAMLSection, _ key: String, example: String) throws -> String {
        guard s.value(key) != nil else { throw s.error(s.keyNode(key), "missing '\(s.qualified(key))'; add it, for example: \(example)") }
        return try s.string(key, default: "")
    }

    func name(_ s: YAMLSection, _ key: String, what: String) throws -> String {
        let v = try required(s, key, example: "\(key): shop")
        guard Validation.isName(v) else {
            throw s.error(s.value(key), "\(what) '\(YAMLSection.printable(v))' must match [a-z0-9][a-z0-9-]* (lower-case letters, digits, '-'; at most 63)")
        }
        return v
    }

    /// A value written to fleet.conf: refused if it holds a space, quote, `$`, backtick, `;`, newline...
    func confValue(_ s: YAMLSection?, _ key: String, default fallback: String, allowEmpty: Bool = false) throws -> String {
        guard let s else { return fallback }
        let v = try s.string(key, default: fallback)
        if v.isEmpty && allowEmpty { return v }
        guard !v.isEmpty else { throw s.error(s.value(key), "'\(s.qualified(key))' is empty; remove it to use the default '\(fallback)'") }
        if let c = Validation.unsafeCharacter(in: v) {
            throw s.error(s.value(key), "'\(s.qualified(key))' holds \(Validation.describe(c)), which fleet.conf cannot carry; remove it")
        }
        return v
    }

    /// An absolute path on the hosts; may hold `{host}`.
    func remotePath(_ s: YAMLSection?, _ key: String, default fallback: String, allowEmpty: Bool = false) throws -> String {
        let v = try confValue(s, key, default: fallback, allowEmpty: allowEmpty)
        if v.isEmpty { return v }
        let bare = v.replacingOccurrences(of: "{host}", with: "h")
        guard v.hasPrefix("/"), !bare.contains("{"), !bare.contains("}"), bare != "/" else {
            throw YAMLSection.error(file, s?.value(key), "'\(s?.qualified(key) ?? key)' must be an absolute path (it may hold {host}, nothing else in braces), found '\(YAMLSection.printable(v))'")
        }
        return v
    }

    func localPath(_ p: String) -> String { InventoryLoader.absolute(p, base: baseDir, home: context.home) }
}
