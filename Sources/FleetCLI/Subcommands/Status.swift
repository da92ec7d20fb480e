import ArgumentParser
import FleetCore
import Foundation

/// `fleet status`: every host's release, slot, health through nginx, lock and last deploy, in parallel.
public struct Status: ContextCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show every host's release, slot, health, lock and last deploy.",
        discussion: """
            Reads each host in parallel through status.sh (changes nothing but the uploaded scripts). \
            Containers of the app that a host should not run (a second worker generation, a web container on a \
            host without the web process, a version the records do not name) are listed as UNEXPECTED. \
            Exit status: 0 when every host answered, is healthy through nginx and runs no unexpected container, \
            1 otherwise, 2 for a usage or inventory error.
            Example: fleet status --env production --json
            """
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions
    @OptionGroup public var scripts: PlaybookOptions

    @Flag(help: "Print one JSON object per host and nothing else.")
    public var json = false

    public init() {}

    public func perform(context: CommandContext) async throws -> Int32 {
        let targets = try inventory.scriptTargets(selection, scripts, context)
        let statuses = await StatusReader.read(inventory: targets.inventory, hosts: targets.hosts,
                                               sessions: try context.sessions(targets.inventory), playbooks: targets.playbooks)
        if json {
            for status in statuses { context.out(jsonLine(status) + "\n") }
        } else {
            context.out(HostStatus.table(statuses, now: Date()))
            context.err(HostStatus.summary(statuses))
            for status in statuses where !status.answered || !status.healthy {
                context.err("\(status.host): \(status.error ?? "not healthy")\n")
            }
            for next in statuses.compactMap(\.unexpectedNext) { context.err(next + "\n") }
        }
        return statuses.allSatisfy { $0.answered && $0.healthy && !$0.unexpectedProblem } ? 0 : 1
    }
}
