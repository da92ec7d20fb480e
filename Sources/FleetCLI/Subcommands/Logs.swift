import ArgumentParser
import FleetCore
import Foundation

/// `fleet logs`: the current containers' output from every selected host, each line prefixed by its host (and
/// process, with `processes:`), merged in arrival order; `-f` follows until Ctrl-C.
public struct Logs: ContextCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show the current containers' logs from every selected host, each line prefixed by its host.",
        discussion: """
            Runs docker logs on each host's current container (the slot nginx serves, or with --process a \
            worker's current container) in parallel, on the selected hosts that run that process; lines are \
            printed as they arrive, `web1 | ...` (`web1 job | ...` with processes: in the inventory). With -f it follows until Ctrl-C, then exits 0. Exit status: 0 \
            when every host answered, 1 when a host could not be read, 2 for a usage or inventory error.
            Example: fleet logs --env production --hosts web2 --since 10m -f
            """
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions
    @OptionGroup public var scripts: PlaybookOptions

    @Option(help: "The process whose logs to show (default: the web process, or the app's only one).")
    public var process: String?

    @Option(help: "Lines from the end of each log to start with.")
    public var lines = 100

    @Option(help: "Only lines newer than this, like 10m, 2h or 1d.")
    public var since: String?

    @Flag(name: [.short, .long], help: "Keep following until Ctrl-C.")
    public var follow = false

    public init() {}

    public func validate() throws {
        guard lines >= 0 else { throw ValidationError("--lines must be 0 or more, not \(lines)") }
        if let since, since.range(of: "^[0-9]{1,6}[smhd]$", options: .regularExpression) == nil {
            throw ValidationError("--since '\(since)': expected a duration like 10m, 2h or 1d")
        }
    }

    public func perform(context: CommandContext) async throws -> Int32 {
        let targets = try inventory.scriptTargets(selection, scripts, context)
        let choice = try ProcessChoice(process, inventory: targets.inventory, hosts: targets.hosts)
        let scripts = HostScripts(inventory: targets.inventory, playbooks: targets.playbooks)
        let follow = self.follow
        let label = targets.inventory.processesDeclared ? " " + choice.process.name : ""
        let args = choice.scriptArgs + ["logs", "--lines", String(lines)] + (since.map { ["--since", $0] } ?? []) + (follow ? ["--follow"] : [])
        let sessions = try context.sessions(targets.inventory)
        let width = choice.hosts.map { $0.name.count + label.count }.max() ?? 0
        let interrupt = Interrupt()
        context.trapSignals(interrupt, { _ in })
        let done = Interrupt()  // used as a flag: set once every host's logs ended
        let work = Task {
            defer { done.request("done") }
            return await sessions.each(choice.hosts) { host, session in
                let prefix = (host.name + label).padding(toLength: width, withPad: " ", startingAt: 0) + " | "
                let output = try await scripts.installAndRun("container.sh", args, on: session, timeout: follow ? nil : .seconds(120)) { kind, line in
                    if kind == .stdout { context.out(prefix + line + "\n") } else { context.err(prefix + line + "\n") }
                }
                if !output.succeeded, let json = output.json { throw HostFailure(host: host.name, message: json["error"]?.text ?? output.problem) }
                return output.exitStatus
            }
        }
        // Ctrl-C ends a follow: every session's wait wakes, and that is a clean end.
        while follow, interrupt.requested == nil, done.requested == nil {
            try? await Task.sleep(for: .milliseconds(100))
        }
        if interrupt.requested != nil { work.cancel() }
        let results = await work.value
        if interrupt.requested != nil { return ExitStatus.ok }
        var failed = 0
        for case .failure(let failure) in results {
            failed += 1
            context.err("error: \(failure.description)\n")
        }
        return failed == 0 ? ExitStatus.ok : ExitStatus.hostFailed
    }
}
