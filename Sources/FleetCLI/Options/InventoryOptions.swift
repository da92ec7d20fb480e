import ArgumentParser
import FleetCore

/// `--env` / `--inventory`: which inventory to read. Shared by every command that talks to hosts.
public struct InventoryOptions: ParsableArguments, Sendable {
    @Option(name: [.short, .long], help: "The environment: reads inventory/NAME.yml (default: $FLEET_ENV, else the only inventory).")
    public var env: String?

    @Option(name: [.short, .long], help: "Read this inventory file instead of inventory/ENV.yml.")
    public var inventory: String?

    public init() {}

    /// Loads and validates the inventory; errors name the file, line and column. With `secrets` (a deploy and its
    /// plan), every secret variable must be set; without, the ones set are read (to be masked) and the others
    /// listed in `unsetSecrets`, so `fleet status` works in a shell that holds no secrets.
    func load(_ context: CommandContext, secrets: Bool = false) throws -> Inventory {
        let path = try InventoryLoader.resolvePath(env: env, inventory: inventory, cwd: context.currentDirectory,
                                                   environment: context.environment)
        return try InventoryLoader.load(path: path, context: .current(environment: context.environment, requireSecrets: secrets))
    }
}

/// `--hosts`: names, globs (`web*`) and tags (`tag:eu`), comma-separated.
public struct HostSelectionOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: "Only these hosts: names, globs (web*) and tags (tag:eu), comma-separated.")
    public var hosts: String?

    public init() {}

    func select(from inventory: Inventory) throws -> [HostEntry] {
        guard let hosts, !hosts.isEmpty else { return inventory.hosts }
        let patterns = hosts.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        return try selectHosts(inventory, patterns: patterns)
    }
}

/// `--playbooks DIR`: the commands that run host scripts (plan, deploy, rollback, status, lock, setup).
public struct PlaybookOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: ArgumentHelp(
        "Install the host scripts of this folder instead of fleet's own (default: $FLEET_PLAYBOOKS, else the inventory's playbooks: key, else the scripts built into fleet).",
        valueName: "dir"))
    public var playbooks: String?

    public init() {}

    /// The scripts `Playbooks.locate` finds; a folder is announced on stderr with how it differs from fleet's own.
    func load(_ inventory: Inventory, _ context: CommandContext) throws -> Playbooks {
        let playbooks = try Playbooks.load(inventoryFile: inventory.file, environment: context.environment, option: playbooks,
                                           currentDirectory: context.currentDirectory, key: inventory.playbooks)
        if let notice = playbooks.notice() { context.err(notice) }
        return playbooks
    }
}

/// What a host command starts from: the inventory and the selected hosts.
struct Targets {
    let inventory: Inventory
    let hosts: [HostEntry]
}

/// The same, plus the host scripts read from this machine (commands that run a playbook on the hosts).
struct ScriptTargets {
    let inventory: Inventory
    let hosts: [HostEntry]
    let playbooks: Playbooks
}

extension InventoryOptions {
    /// Loads the inventory and the selection; bad input throws (file, line, column), which `ContextCommand`
    /// prints and turns into exit status 2 with nothing contacted.
    func targets(_ selection: HostSelectionOptions, _ context: CommandContext) throws -> Targets {
        let inventory = try load(context)
        return Targets(inventory: inventory, hosts: try selection.select(from: inventory))
    }

    func scriptTargets(_ selection: HostSelectionOptions, _ scripts: PlaybookOptions, _ context: CommandContext) throws -> ScriptTargets {
        let targets = try targets(selection, context)
        let playbooks = try scripts.load(targets.inventory, context)
        return ScriptTargets(inventory: targets.inventory, hosts: targets.hosts, playbooks: playbooks)
    }
}

extension CommandContext {
    /// The one owner of this command's sessions (see `Sessions`), its notes printed on stderr. The local files
    /// the sessions read (identity files, known_hosts) are checked first: a bad one is exit 2, nothing contacted.
    func sessions(_ inventory: Inventory, parallel: Int? = nil, holding: Int = 0) throws -> Sessions {
        try inventory.checkLocalFiles()
        return Sessions(transport: makeTransport(), settings: inventory.ssh, parallel: parallel, holding: holding, notice: err)
    }
}

/// `--process P` of `fleet logs` and `fleet exec --container`: the named process (default: the web process, or
/// the app's only worker), the selected hosts that run it, and the arguments `container.sh` takes for it (none
/// without `processes:`, where the web process is all there is).
struct ProcessChoice {
    var process: AppProcess
    var hosts: [HostEntry]
    var scriptArgs: [String]

    init(_ requested: String?, inventory: Inventory, hosts selected: [HostEntry]) throws {
        let names = inventory.processes.map(\.name)
        if let requested {
            guard let found = inventory.processes.first(where: { $0.name == requested }) else {
                throw InputError("--process", "unknown process '\(requested.prefix(60))' in \(inventory.file); its processes: \(names.joined(separator: ", "))")
            }
            process = found
        } else if let web = inventory.webProcess {
            process = web
        } else if inventory.processes.count == 1 {
            process = inventory.processes[0]
        } else {
            throw InputError("--process", "\(inventory.file) has no web process and several workers (\(names.joined(separator: ", "))): name one with --process")
        }
        let process = self.process
        hosts = selected.filter { process.runs(on: $0) }
        guard !hosts.isEmpty else {
            let runs = inventory.hosts.filter { process.runs(on: $0) }.map(\.name)
            let whereItRuns = runs.isEmpty ? "no host of \(inventory.file)" : Self.names(runs)
            throw InputError("--process", "process '\(process.name)' runs on none of the selected hosts (\(Self.names(selected.map(\.name)))); "
                + "it runs on \(whereItRuns) (hosts: \(process.hosts.description))")
        }
        scriptArgs = inventory.processesDeclared ? ["--process", process.name] : []
    }

    /// Host names for a message: the first 10, then how many more.
    static func names(_ list: [String]) -> String {
        list.count <= 10 ? list.joined(separator: ", ") : list.prefix(10).joined(separator: ", ") + " and \(list.count - 10) more"
    }
}
