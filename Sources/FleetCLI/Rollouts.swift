import FleetCore
import Foundation

/// A plan with what was loaded to build it.
struct BuiltPlan: Sendable {
    var plan: Plan
    var inventory: Inventory
    var playbooks: Playbooks
}

/// What plan, deploy and rollback share: building the plan from the options, printing it, and handing it to
/// FleetCore's `Rollout` with this machine's collaborators.
enum Rollouts {
    /// Inventory -> (probe) -> plan. Bad input throws (exit 2); contacts hosts only with `probe`.
    static func buildPlan(context: CommandContext, inventory options: InventoryOptions, selection: HostSelectionOptions,
                          scripts: PlaybookOptions, choices: PlanChoices, command: FleetCore.PlanCommand, version: String?,
                          rollbackTo: String?, probe: Bool, onlyHosts: [String]? = nil) async throws -> BuiltPlan {
        let inventory = try options.load(context, secrets: command == .deploy)
        var hosts = try selection.select(from: inventory)
        if let onlyHosts { hosts = hosts.filter { onlyHosts.contains($0.name) } }
        let playbooks = try scripts.load(inventory, context)
        try inventory.checkLocalFiles()
        let states = probe ? await Probe.read(inventory, hosts: hosts, sessions: try context.sessions(inventory)) : nil
        let input = PlanInput(inventory: inventory, command: command, version: version, rollbackTo: rollbackTo,
                              hosts: hosts, run: context.runContext(), playbookNames: playbooks.names,
                              playbooksDir: playbooks.dir, probe: states, force: choices.force,
                              rollbackOnFailure: choices.rollbackOnFailure, strictImage: choices.strictImage,
                              skipUnreachable: choices.skipUnreachable,
                              fleetVersion: playbooks.fleetVersion)
        return BuiltPlan(plan: try PlanBuilder.build(input), inventory: inventory, playbooks: playbooks)
    }

    /// `--retry-failed`: the hosts of the last recorded run that failed, were unreachable or did not start; with
    /// no local history (an ephemeral CI runner), the hosts whose own records say they are not on `version`.
    static func hostsToRetry(context: CommandContext, inventory options: InventoryOptions, selection: HostSelectionOptions,
                             scripts: PlaybookOptions, version: String) async throws -> (source: String, hosts: [String]) {
        let inventory = try options.load(context)
        if !History.list(inventory: inventory.file, environment: inventory.environment).isEmpty {
            let last = try History.hostsToRetry(inventory: inventory)
            return ("the last run, \(last.runId)", last.hosts)
        }
        let targets = try options.scriptTargets(selection, scripts, context)
        let statuses = await StatusReader.read(inventory: inventory, hosts: targets.hosts, sessions: try context.sessions(inventory),
                                               playbooks: targets.playbooks)
        return ("no local history: the hosts' own records, hosts not on \(version)", HostRecords.toRetry(statuses, version: version))
    }

    /// `fleet plan` and `--dry-run`: the plan as text, or as pretty JSON (one document) with `--json`.
    static func printPlan(_ plan: Plan, context: CommandContext, json: Bool) {
        context.out(json ? PlanRenderer.json(plan) : PlanRenderer.text(plan))
    }

    /// Runs a plan through `Rollout` (history, webhooks and the Pushgateway as the inventory says), shows its
    /// progress, prints the recap (or the JSON report), and returns fleet's exit code.
    static func execute(_ built: BuiltPlan, context: CommandContext, run options: RunOptions, json: Bool) async throws -> Int32 {
        let (plan, inventory) = (built.plan, built.inventory)
        let files = try UploadFiles(plan: plan, inventory: inventory, known: built.playbooks.bytesByPath)
        // On a terminal every message goes through the live view, which prints it above the host lines.
        let view = useLiveView(context, json: json, progress: options.progress) ? liveView(context, hosts: plan.hosts.map(\.name)) : nil
        var shown = context
        if let view { shown.err = view.log }
        let interrupt = Interrupt()
        shown.trapSignals(interrupt, shown.err)
        let onEvent: @Sendable (ExecutionEvent) -> Void
        if let view {
            onEvent = { view.handle($0) }
        } else {
            onEvent = printer(shown, json: json)
        }
        let rollout = Rollout(plan: plan, files: files, sessions: try shown.sessions(inventory, holding: plan.hosts.count),
                              interrupt: interrupt, recorder: HistoryFolder(),
                              notifier: Webhooks(inventory), metrics: Pushgateway(url: options.pushgateway ?? inventory.metrics.pushgateway),
                              onEvent: onEvent)
        view?.start()
        for warning in plan.warnings ?? [] { onEvent(.warning(warning)) }
        let report = await rollout.run()
        view?.finish()
        if json {
            shown.out("{\"event\":\"report\",\"report\":\(report.json())}\n")
        } else {
            shown.err(Recap.text(report, color: shown.useColor))
        }
        return report.exitCode
    }
}

extension CommandContext {
    /// `user@machine`, pid, a run id and the start time, in the scripts' token grammar.
    func runContext(now: Date = Date()) -> RunContext {
        let user = environment["USER"] ?? environment["LOGNAME"]
            ?? getpwuid(getuid()).map { String(decoding: UnsafeRawBufferPointer(start: $0.pointee.pw_name, count: strlen($0.pointee.pw_name)), as: UTF8.self) }
            ?? "unknown"
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        let machine = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._:+-")
        let who = String("\(user)@\(machine)".filter { allowed.contains($0) }.prefix(128))
        let stamp = ISO8601DateFormatter().string(from: now)
        let compact = stamp.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let runId = "\(compact)-\(String(UInt32.random(in: 0...0xFFFFFF), radix: 16))"
        return RunContext(runId: runId, who: who, pid: Int(getpid()), startedAt: stamp)
    }
}
