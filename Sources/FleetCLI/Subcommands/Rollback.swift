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
    @OptionGroup public var scripts: PlaybookOptions
    @OptionGroup public var run: RunOptions

    @Flag(help: "Print newline-delimited JSON events and the final report instead of text (with --dry-run: the plan as one JSON object).")
    public var json = false

    @Option(help: "One host (same as --hosts NAME).")
    public var host: String?

    @Option(help: "Go to this release instead of the previous one.")
    public var to: String?

    @Flag(name: .customLong("dry-run"), help: "Print the plan and change nothing.")
    public var dryRun = false

    public init() {}

    public func validate() throws {
        if host != nil && selection.hosts != nil { throw ValidationError("Give --host or --hosts, not both.") }
        if dryRun && !run.given.isEmpty { throw refuse("rollback", run.given, "--dry-run prints the plan and runs nothing") }
    }

    public func perform(context: CommandContext) async throws -> Int32 {
        var selection = self.selection
        var inventory = self.inventory
        if let host {
            selection.hosts = host
            if inventory.env == nil && inventory.inventory == nil && (context.environment["FLEET_ENV"] ?? "").isEmpty {
                inventory.inventory = InventoryLoader.only(holding: host, in: context.currentDirectory)
            }
        }
        let built = try await Rollouts.buildPlan(context: context, inventory: inventory, selection: selection, scripts: scripts,
                                                 choices: PlanChoices(skipUnreachable: run.skipUnreachable),
                                                 command: .rollback, version: nil, rollbackTo: to, probe: false)
        if dryRun {
            Rollouts.printPlan(built.plan, context: context, json: json)
            return ExitStatus.ok
        }
        return try await Rollouts.execute(built, context: context, run: run, json: json)
    }
}

extension InventoryLoader {
    /// The only inventory in `inventory/` that has this host, if exactly one has it.
    static func only(holding host: String, in currentDirectory: String) -> String? {
        let dir = (currentDirectory as NSString).appendingPathComponent("inventory")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".yml") && !$0.hasSuffix(".example.yml") }.sorted()
        let holding = files.map { "\(dir)/\($0)" }.filter { path in
            (try? InventoryLoader.load(path: path))?.host(named: host) != nil
        }
        return holding.count == 1 ? holding[0] : nil
    }
}
