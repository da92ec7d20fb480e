import Foundation
import Yams

/// What the loader needs from the machine, given so tests can fix it.
public struct LoaderContext: Sendable, Equatable {
    /// Home folder for `~` expansion.
    public var home: String
    /// Default `ssh.user`.
    public var user: String
    /// fleet's own environment, where `env.secret` values are read (what CI hands over).
    public var variables: [String: String]
    /// Whether a secret variable (`env.secret`, `registry.password`, `registry.username: {env:}`) that is not set is
    /// an error. Only a deploy sends secrets; status, logs, exec, lock, history, verify and rollback read the ones
    /// that are set (to mask them) and list the others in `Inventory.unsetSecrets`.
    public var requireSecrets: Bool

    public init(home: String, user: String, variables: [String: String] = [:], requireSecrets: Bool = true) {
        self.home = home
        self.user = user
        self.variables = variables
        self.requireSecrets = requireSecrets
    }

    /// From `HOME` and `USER` (or `LOGNAME`), falling back to the process's own account.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment,
                               requireSecrets: Bool = true) -> LoaderContext {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let user = environment["USER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? environment["LOGNAME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSUserName()
        return LoaderContext(home: home, user: user, variables: environment, requireSecrets: requireSecrets)
    }
}

/// Finds, reads and validates an inventory. File reads happen here only; `parse` takes a reader so tests need no files.
public enum InventoryLoader {
    /// The inventory file to use: `--inventory FILE`, else `--env NAME` (`inventory/NAME.yml`), else `FLEET_ENV`,
    /// else the only `inventory/*.yml` there is (`*.example.yml` ignored), else an error listing the environments.
    public static func resolvePath(env: String?, inventory: String?, cwd: String,
                                   environment: [String: String]) throws -> String {
        try resolvePath(env: env, inventory: inventory, cwd: cwd, environment: environment,
                        listDirectory: { try? FileManager.default.contentsOfDirectory(atPath: $0) })
    }

    /// Testable form: `listDirectory` returns a folder's file names, or nil when the folder does not exist.
    public static func resolvePath(env: String?, inventory: String?, cwd: String, environment: [String: String],
                                   listDirectory: (String) -> [String]?) throws -> String {
        if let inventory {
            if env != nil {
                throw InputError("--inventory", "give either --env or --inventory, not both")
            }
            return absolute(inventory, base: cwd)
        }
        let dir = absolute("inventory", base: cwd)
        let files = (listDirectory(dir) ?? []).sorted()
        let environments = files.compactMap { name -> String? in
            guard !name.hasPrefix("."), !name.hasSuffix(".example.yml"), !name.hasSuffix(".example.yaml") else { return nil }
            if name.hasSuffix(".yml") { return String(name.dropLast(4)) }
            if name.hasSuffix(".yaml") { return String(name.dropLast(5)) }
            return nil
        }
        let known = environments.isEmpty ? "there is none yet" : "known: " + environments.joined(separator: ", ")
        let requested: (String, String)? = env.map { ($0, "--env") } ?? environment["FLEET_ENV"].flatMap { $0.isEmpty ? nil : ($0, "FLEET_ENV") }
        if let (name, source) = requested {
            guard name.unicodeScalars.allSatisfy({ Validation.isAlnum($0) || $0 == "-" || $0 == "_" || $0 == "." }),
                  !name.hasPrefix("."), !name.isEmpty else {
                throw InventoryError(file: source, message: "'\(YAMLSection.printable(name))' is not an environment name; \(known)")
            }
            if files.contains(name + ".yml") { return dir + "/" + name + ".yml" }
            if files.contains(name + ".yaml") { return dir + "/" + name + ".yaml" }
            throw InventoryError(file: source, message:
                "no inventory for environment '\(name)' (looked for \(dir)/\(name).yml); \(known). Copy inventory/production.example.yml to start one")
        }
        if environments.count == 1, let only = environments.first {
            return dir + "/" + (files.contains(only + ".yml") ? only + ".yml" : only + ".yaml")
        }
        if environments.isEmpty {
            throw InventoryError(file: dir, message:
                "no inventory found; copy inventory/production.example.yml to inventory/production.yml, or pass --inventory FILE")
        }
        throw InventoryError(file: dir, message:
            "several environments (\(environments.joined(separator: ", "))); choose one with --env NAME or FLEET_ENV=NAME")
    }

    /// Reads the YAML file and its env file, and validates everything; then the identity files' key types.
    public static func load(path: String, context: LoaderContext = .current()) throws -> Inventory {
        let path = absolute(path, base: FileManager.default.currentDirectoryPath)
        guard let text = try LocalFile.readText(path, what: "inventory", maxBytes: LocalFile.maxInventoryBytes) else {
            throw InventoryError(file: path, message: "inventory file not found; check --env/--inventory (or FLEET_ENV)")
        }
        var inventory = try parse(yaml: text, path: path, context: context) { envFile in
            try LocalFile.readText(envFile, what: "env file", maxBytes: LocalFile.maxEnvFileBytes)
        }
        inventory.identityKeyTypes = Inventory.readIdentityKeyTypes(inventory.hosts)
        return inventory
    }

    /// Validates inventory text. `path` names the file in errors and anchors relative paths;
    /// `readFile` returns a file's text or nil when missing (used for the env file).
    /// `sshConfig` reads `ssh.config` and its includes (default: this machine's files).
    public static func parse(yaml: String, path: String, context: LoaderContext = .current(),
                             sshConfig: SSHConfigLoader? = nil, readFile: (String) throws -> String?) throws -> Inventory {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw YAMLErrors.convert(error, file: path, yaml: yaml)
        } catch {
            throw InventoryError(file: path, message: "cannot read this YAML: \(error)")
        }
        guard let root, !YAMLSection.isNull(root) else {
            throw InventoryError(file: path, line: 1, column: 1, message: "the inventory is empty; start from inventory/production.example.yml")
        }
        return try withoutActuallyEscaping(readFile) { reader in
            try InventoryParser(file: path, context: context, readFile: reader,
                                configLoader: sshConfig ?? .live(home: context.home)).parse(root)
        }
    }

    /// `path` made absolute against `base`, with `~` expanded when `home` is given, and `.`/`..` resolved.
    static func absolute(_ path: String, base: String, home: String? = nil) -> String {
        var p = path
        if let home, p == "~" || p.hasPrefix("~/") { p = home + p.dropFirst() }
        if !p.hasPrefix("/") { p = (base.hasSuffix("/") ? base : base + "/") + p }
        return URL(fileURLWithPath: p).standardizedFileURL.path
    }
}
