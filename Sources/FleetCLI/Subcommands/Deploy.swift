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
    @OptionGroup public var rollout: RolloutOptions

    @Flag(name: .customLong("dry-run"), help: "Print the plan (as `fleet plan` does) and change nothing.")
    public var dryRun = false

    @Flag(help: "With --dry-run: read each host's current release first (read-only).")
    public var probe = false

    @Flag(name: .customLong("retry-failed"), help: "Only the hosts that failed, were unreachable or did not start in the last run.")
    public var retryFailed = false

    @Argument(help: "The version to deploy (the image tag).")
    public var version: String

    public init() {}

    public func run(context: CommandContext) async throws -> Int32 {
        let built: BuiltPlan
        do {
            var only: [String]?
            if retryFailed {
                let loaded = try inventory.load(context)
                only = try RolloutSupport.hostsToRetry(loaded)
                if only!.isEmpty {
                    let last = History.list(inventory: loaded.file, environment: loaded.environment).last?.runId ?? "?"
                    context.err("--retry-failed: nothing to retry, the last run (\(last)) left no failed host\n")
                    return 0
                }
                context.err("retrying \(only!.count) host\(only!.count == 1 ? "" : "s") of the last run: \(only!.joined(separator: ", "))\n")
            }
            built = try await RolloutSupport.buildPlan(context: context, inventory: inventory, selection: selection,
                                                       rollout: rollout, command: .deploy, version: version,
                                                       rollbackTo: nil, probe: probe && dryRun, onlyHosts: only)
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
    /// Runs a plan, records it, prints the recap (or the JSON report), and returns fleet's exit code.
    static func execute(_ built: BuiltPlan, context: CommandContext, rollout: RolloutOptions) async -> Int32 {
        let files: UploadFiles
        do {
            files = try UploadFiles(plan: built.plan, inventory: built.inventory)
        } catch {
            context.err("error: \(error)\n")
            return 2
        }
        // On a terminal every message goes through the live view, which prints it above the host lines.
        let view = useLiveView(context, rollout: rollout) ? liveView(context, hosts: built.plan.hosts.map(\.name)) : nil
        var shown = context
        if let view { shown.err = view.log }
        return await execute(built, files: files, context: shown, rollout: rollout, view: view)
    }

    private static func execute(_ built: BuiltPlan, files: UploadFiles, context: CommandContext, rollout: RolloutOptions,
                                view: LiveView?) async -> Int32 {
        let inventory = built.inventory
        let plan = built.plan
        let interrupt = Interrupt()
        context.trapSignals(interrupt, context.err)
        let transport = context.makeTransport()
        let onEvent: @Sendable (ExecutionEvent) -> Void
        if let view {
            onEvent = { view.handle($0) }
            view.start()
        } else {
            onEvent = printer(context, json: rollout.json)
        }
        var executor = Executor(plan: plan, settings: inventory.ssh, transport: transport,
                                files: files, interrupt: interrupt, skipUnreachable: rollout.skipUnreachable,
                                onEvent: onEvent)
        if plan.command == .deploy, let version = plan.version {
            executor.afterPreflight = imageCheck(inventory, version: version, strict: rollout.strictImage, context: context)
        }
        if !inventory.verify.isEmpty {
            executor.afterBatch = { hosts in
                let targets = inventory.hosts.filter { hosts.contains($0.name) }
                let results = await Verifier.verify(inventory: inventory, hosts: targets, transport: transport)
                var problems: [String: String] = [:]
                for result in results where !result.ok {
                    let failed = result.failedChecks.map { "\($0.path) gave \($0.status), expected \($0.expected)" }
                    problems[result.host] = "verify through nginx failed: " + (result.error ?? failed.joined(separator: "; "))
                }
                return problems
            }
        }
        let secrets = inventory.envFile?.secretValues ?? []
        let start = RunStart(runId: plan.run.runId, command: plan.command.rawValue, app: plan.app, environment: plan.environment,
                             image: plan.image, version: plan.version ?? plan.rollbackTo, who: plan.run.who,
                             startedAt: plan.run.startedAt, hosts: plan.hosts.map(\.name))
        for warning in await Notifier.send(event: .started(start), to: inventory.notify.webhooks, format: inventory.notify.format, redacting: secrets) {
            context.err("warning: \(warning)\n")
        }
        let report = await executor.run()
        view?.finish()
        for warning in await Notifier.send(event: .finished(report), to: inventory.notify.webhooks, format: inventory.notify.format, redacting: secrets) {
            context.err("warning: \(warning)\n")
        }
        let gateway = rollout.pushgateway ?? inventory.metrics.pushgateway
        if !gateway.isEmpty, let warning = await MetricsPusher.pushOrWarn(report: report, to: gateway) {
            context.err("warning: \(warning)\n")
        }
        do {
            try History.write(report)
        } catch {
            context.err("warning: could not record the run in the history folder: \(error)\n")
        }
        if rollout.json {
            context.out("{\"event\":\"report\",\"report\":\(report.json())}\n")
        } else {
            context.err(Recap.text(report, color: context.useColor))
        }
        return report.exitCode
    }

    /// The card's common failures, caught on the first host once the image is pulled: warnings, or a refusal
    /// with `--strict-image`.
    static func imageCheck(_ inventory: Inventory, version: String, strict: Bool,
                           context: CommandContext) -> @Sendable (any HostSession) async -> String? {
        { session in
            let warnings = await ImageCheck.inspect(session: session, image: "\(inventory.image):\(version)",
                                                    maxSizeMB: inventory.imageChecks.maxSizeMB)
            for warning in warnings { context.err("warning: \(warning.description)\n") }
            guard strict, !warnings.isEmpty else { return nil }
            return "--strict-image: the image has \(warnings.count) problem\(warnings.count == 1 ? "" : "s") (above); nothing was changed"
        }
    }

    /// The hosts to run again: failed, unreachable or not started in the last recorded run (none: nothing to do).
    static func hostsToRetry(_ inventory: Inventory) throws -> [String] {
        guard let last = History.list(inventory: inventory.file, environment: inventory.environment).last else {
            throw InventoryError(file: inventory.file, message: "--retry-failed: no earlier run of \(inventory.environment) is recorded in \(History.folder(inventory: inventory.file, environment: inventory.environment))")
        }
        return last.hosts.filter { [.failed, .unreachable, .notStarted].contains($0.outcome) }.map(\.host)
    }
}
