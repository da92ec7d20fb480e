import ArgumentParser
import FleetCore
import Foundation

/// `fleet plan`: exactly what `fleet deploy` would run, without running it.
public struct PlanCommand: ContextCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show exactly what deploy would do: every host, batch and step; env values hidden.",
        discussion: "Nothing is contacted unless --probe is given, which reads each host's current release read-only."
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions
    @OptionGroup public var rollout: RolloutOptions

    @Flag(help: "Connect read-only to every host: show its release, slot and lock; skip hosts already on VERSION.")
    public var probe = false

    @Argument(help: "The version to deploy (the image tag).")
    public var version: String

    public init() {}

    public func run(context: CommandContext) async throws -> Int32 {
        do {
            let plan = try await RolloutSupport.buildPlan(context: context, inventory: inventory, selection: selection,
                                                          rollout: rollout, command: .deploy, version: version,
                                                          rollbackTo: nil, probe: probe)
            RolloutSupport.printPlan(plan.plan, context: context, rollout: rollout)
            return 0
        } catch let error as InventoryError {
            context.err("error: \(error)\n")
            return 2
        }
    }
}
