import ArgumentParser
import FleetCore
import Foundation

/// `fleet rollback`: hosts go back to their previous release (or a named one), rolling, health-checked.
public struct Rollback: ContextCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Return hosts to their previous release (or --to VERSION), with its own env, in the same rolling order.",
        discussion: "`fleet rollback --host web2` alone finds web2's environment when only one inventory has it."
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions
    @OptionGroup public var rollout: RolloutOptions

    @Option(help: "One host (same as --hosts NAME).")
    public var host: String?

    @Option(help: "Go to this release instead of the previous one.")
    public var to: String?

    @Flag(name: .customLong("dry-run"), help: "Print the plan and change nothing.")
    public var dryRun = false

    public init() {}

    public func validate() throws {
        if host != nil && selection.hosts != nil { throw ValidationError("Give --host or --hosts, not both.") }
    }

    public func run(context: CommandContext) async throws -> Int32 {
        var selection = self.selection
        var inventory = self.inventory
        if let host {
            selection.hosts = host
            if inventory.env == nil && inventory.inventory == nil && (context.environment["FLEET_ENV"] ?? "").isEmpty {
                inventory.inventory = RolloutSupport.inventoryHolding(host: host, context: context)
            }
        }
        let built: BuiltPlan
        do {
            built = try await RolloutSupport.buildPlan(context: context, inventory: inventory, selection: selection,
                                                       rollout: rollout, command: .rollback, version: nil,
                                                       rollbackTo: to, probe: false)
        } catch let error as InventoryError {
            context.err("error: \(error)\n")
            return 2
        }
        if dryRun {
            RolloutSupport.printPlan(built.plan, context: context, rollout: rollout)
            return 0
        }
        return await RolloutSupport.execute(built, context: context, rollout: rollout)
    }
}

extension RolloutSupport {
    /// The only inventory in `inventory/` that has this host, if exactly one has it.
    static func inventoryHolding(host: String, context: CommandContext) -> String? {
        let dir = (context.currentDirectory as NSString).appendingPathComponent("inventory")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".yml") && !$0.hasSuffix(".example.yml") }.sorted()
        let holding = files.map { "\(dir)/\($0)" }.filter { path in
            (try? InventoryLoader.load(path: path))?.host(named: host) != nil
        }
        return holding.count == 1 ? holding[0] : nil
    }
}
