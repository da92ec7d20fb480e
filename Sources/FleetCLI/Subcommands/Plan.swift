import ArgumentParser
import FleetCore
import Foundation

/// `fleet plan`: exactly what `fleet deploy` would run, without running it.
public struct PlanCommand: ContextCommand {
    public static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show exactly what deploy would do: every host, batch and step; env values hidden.",
        discussion: """
            Nothing is contacted unless --probe is given, which reads each host's current release read-only and \
            ends with a summary line. Exit status: 0; 2 for a usage or inventory error; with --probe, 4 when a host \
            cannot be reached (deploy's pre-flight would stop there).
            """
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions
    @OptionGroup public var scripts: PlaybookOptions
    @OptionGroup public var choices: PlanChoiceOptions

    @Flag(help: "Connect read-only to every host: show its release, slot and lock; skip hosts already on VERSION.")
    public var probe = false

    @Flag(help: "Print the plan as one JSON object (pretty-printed, keys sorted) instead of text: its hosts, stages with every step's command line, timeout and files, the env file's key names (never values).")
    public var json = false

    @Argument(help: "The version to deploy (the image tag).")
    public var version: String

    public init() {}

    public func validate() throws {
        if choices.force && !probe { throw refuse("plan", ["--force"], "only a probe skips hosts already on the version; add --probe") }
    }

    public func perform(context: CommandContext) async throws -> Int32 {
        let built = try await Rollouts.buildPlan(context: context, inventory: inventory, selection: selection, scripts: scripts, choices: choices.choices,
                                                 command: .deploy, version: version, rollbackTo: nil, probe: probe)
        Rollouts.printPlan(built.plan, context: context, json: json)
        guard probe else { return ExitStatus.ok }
        let states = Dictionary(uniqueKeysWithValues: built.plan.hosts.compactMap { h in h.probe.map { (h.name, $0) } })
            .merging(built.plan.skipped.map { ($0.name, HostState(release: version)) }) { a, _ in a }
        let summary = Probe.summary(states, version: version)
        context.err(summary.line + "\n")
        if summary.unreachable > 0 {
            for host in built.plan.hosts { if let error = host.probe?.error { context.err("  \(error)\n") } }
            context.err("deploy's pre-flight would stop here (exit 4): fix the hosts above, or deploy with --skip-unreachable\n")
            return ExitStatus.preflight
        }
        return ExitStatus.ok
    }
}
