import ArgumentParser
import FleetCore

/// `--env` / `--inventory`: which inventory to read. Shared by every command that talks to hosts.
public struct InventoryOptions: ParsableArguments, Sendable {
    @Option(name: [.short, .long], help: "The environment: reads inventory/NAME.yml (default: $FLEET_ENV, else the only inventory).")
    public var env: String?

    @Option(name: [.short, .long], help: "Read this inventory file instead of inventory/ENV.yml.")
    public var inventory: String?

    public init() {}

    /// Loads and validates the inventory; errors name the file, line and column.
    func load(_ context: CommandContext) throws -> Inventory {
        let path = try InventoryLoader.resolvePath(env: env, inventory: inventory, cwd: context.currentDirectory,
                                                   environment: context.environment)
        return try InventoryLoader.load(path: path)
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
