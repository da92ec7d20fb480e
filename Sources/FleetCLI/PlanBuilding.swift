import FleetCore
import Foundation

/// A plan with what was loaded to build it.
struct BuiltPlan: Sendable {
    var plan: Plan
    var inventory: Inventory
}

extension RolloutSupport {
    /// `fleet plan` and `--dry-run`: the plan as text, or as pretty JSON (one document) with `--json`.
    static func printPlan(_ plan: Plan, context: CommandContext, rollout: RolloutOptions) {
        context.out(rollout.json ? PlanRenderer.json(plan) : PlanRenderer.text(plan))
    }

    /// Inventory -> (probe) -> plan. Throws `InventoryError` (exit 2) for any bad input; contacts hosts only
    /// with `probe`.
    static func buildPlan(context: CommandContext, inventory options: InventoryOptions, selection: HostSelectionOptions,
                          rollout: RolloutOptions, command: FleetCore.PlanCommand, version: String?, rollbackTo: String?,
                          probe: Bool, onlyHosts: [String]? = nil) async throws -> BuiltPlan {
        let inventory = try options.load(context)
        if let version { try validateVersion(version) }
        if let rollbackTo { try validateVersion(rollbackTo) }
        var hosts = try selection.select(from: inventory)
        if let onlyHosts { hosts = hosts.filter { onlyHosts.contains($0.name) } }
        let dir = try playbooksDir(inventory: inventory, context: context)
        var states: [String: HostState]?
        if probe {
            states = await Self.probe(inventory, hosts: hosts, transport: context.makeTransport())
        }
        let input = PlanInput(inventory: inventory, command: command, version: version, rollbackTo: rollbackTo,
                              hosts: hosts, run: runContext(context), playbookNames: playbookNames(in: dir),
                              playbooksDir: dir, probe: states, force: rollout.force,
                              rollbackOnFailure: rollout.rollbackOnFailure)
        return BuiltPlan(plan: try PlanBuilder.build(input), inventory: inventory)
    }
}
