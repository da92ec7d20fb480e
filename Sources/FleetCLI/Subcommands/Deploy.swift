import ArgumentParser
import FleetCore
import Foundation

/// `fleet deploy`: the rolling blue/green rollout of one version to every targeted host.
public struct Deploy: ContextCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Deploy VERSION to every targeted host: pre-flight everywhere, then batches, blue/green behind nginx.",
        discussion: """
            Exit status: 0 all done; 1 a host failed (the rollout halted, or finished within max_failures); \
            2 usage or inventory error; 3 lock held; 4 pre-flight failed, nothing changed; 130 interrupted.
            """
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions
    @OptionGroup public var scripts: PlaybookOptions
    @OptionGroup public var choices: PlanChoiceOptions
    @OptionGroup public var run: RunOptions

    @Flag(help: "Print newline-delimited JSON events and the final report instead of text (with --dry-run: the plan as one JSON object).")
    public var json = false

    @Flag(name: .customLong("dry-run"), help: "Print the plan (as `fleet plan` does) and change nothing.")
    public var dryRun = false

    @Flag(help: "With --dry-run: read each host's current release first (read-only).")
    public var probe = false

    @Flag(name: .customLong("retry-failed"), help: "Only the hosts that failed, were unreachable or did not start in the last run.")
    public var retryFailed = false

    @Argument(help: "The version to deploy (the image tag).")
    public var version: String

    public init() {}

    public func validate() throws {
        if probe && !dryRun { throw refuse("deploy", ["--probe"], "a deploy's pre-flight reads every host anyway; --probe goes with --dry-run") }
        if choices.force && !probe {
            throw refuse("deploy", ["--force"], "nothing is probed, so no host is skipped (a host already on VERSION with the same env is left as it is by deploy.sh); --force goes with --dry-run --probe")
        }
        if dryRun && !run.given.isEmpty { throw refuse("deploy", run.given, "--dry-run prints the plan and runs nothing") }
    }

    public func perform(context: CommandContext) async throws -> Int32 {
        var only: [String]?
        if retryFailed {
            let last = try await Rollouts.hostsToRetry(context: context, inventory: inventory, selection: selection, scripts: scripts, version: version)
            guard !last.hosts.isEmpty else {
                context.err("--retry-failed: nothing to retry, \(last.source) left no failed host\n")
                return ExitStatus.ok
            }
            context.err("retrying \(last.hosts.count) host\(last.hosts.count == 1 ? "" : "s") (\(last.source)): \(last.hosts.joined(separator: ", "))\n")
            only = last.hosts
        }
        var planChoices = choices.choices
        planChoices.skipUnreachable = run.skipUnreachable
        let built = try await Rollouts.buildPlan(context: context, inventory: inventory, selection: selection, scripts: scripts, choices: planChoices,
                                                 command: .deploy, version: version, rollbackTo: nil,
                                                 probe: probe && dryRun, onlyHosts: only)
        if dryRun {
            Rollouts.printPlan(built.plan, context: context, json: json)
            return ExitStatus.ok
        }
        return try await Rollouts.execute(built, context: context, run: run, json: json)
    }
}
