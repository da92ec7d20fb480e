import ArgumentParser
import FleetCore
import Foundation

/// `fleet history`: the runs recorded next to the inventory, newest first.
public struct HistoryCommand: ContextCommand {
    public static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List recorded deploys and rollbacks, newest first.",
        discussion: """
            Reads <inventory folder>/.fleet/history/<env>/*.json (written by every deploy and rollback); contacts no \
            host. With no local history (an ephemeral CI runner), shows what each host recorded instead: its \
            release and the last run it saw. Exit status: 0; 1 when a host's record could not be read; 2 for a \
            usage or inventory error.
            """
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var scripts: PlaybookOptions

    @Option(help: "Show at most this many runs (default 20; 0 for all).")
    public var limit = 20

    @Flag(help: "Print one JSON object per run (the recorded report, newest first) and nothing else.")
    public var json = false

    public init() {}

    public func validate() throws {
        if limit < 0 { throw ValidationError("--limit must be 0 (all) or more, not \(limit)") }
    }

    public func perform(context: CommandContext) async throws -> Int32 {
        let inventory = try self.inventory.load(context)
        let recorded = History.list(inventory: inventory.file, environment: inventory.environment)
        for case .failure(let unreadable) in recorded { context.err("warning: \(unreadable)\n") }
        let all = recorded.compactMap { try? $0.get() }.sorted { a, b in
            a.startedAt != b.startedAt ? a.startedAt > b.startedAt : a.runId > b.runId
        }
        let runs = limit == 0 ? all : Array(all.prefix(limit))
        if json {
            for run in runs { context.out(run.json() + "\n") }
            return 0
        }
        let folder = History.folder(inventory: inventory.file, environment: inventory.environment)
        guard !recorded.isEmpty else {
            // An ephemeral CI runner: what the hosts themselves recorded.
            context.err("no runs recorded here (\(folder)); reading the hosts' own records\n")
            let playbooks = try scripts.load(inventory, context)
            let statuses = await StatusReader.read(inventory: inventory, hosts: inventory.hosts,
                                                   sessions: try context.sessions(inventory), playbooks: playbooks)
            if json {
                for status in statuses { context.out(jsonLine(HostLine(host: status.host, current: status.current, last: status.lastRun, error: status.error)) + "\n") }
            } else {
                context.out(HostRecords.table(statuses))
            }
            return statuses.allSatisfy(\.answered) ? ExitStatus.ok : ExitStatus.hostFailed
        }
        context.out(HistoryTable.render(runs))
        if runs.count < all.count {
            context.err("\(runs.count) of \(all.count) runs shown; --limit 0 shows all\n")
        }
        return 0
    }
}

/// One host's own record in `--json` output when there is no local history.
struct HostLine: Encodable {
    var host: String
    var current: String?
    var last: HostRun?
    var error: String?
}

/// The history table for people.
enum HistoryTable {
    static func render(_ runs: [RunReport]) -> String {
        let order: [HostOutcome] = [.updated, .skipped, .failed, .notStarted, .unreachable, .rolledBack]
        let rows = runs.map { run -> [String] in
            let counts = run.counts
            let outcome = order.compactMap { o in counts[o].flatMap { $0 > 0 ? "\($0) \(o.rawValue.replacingOccurrences(of: "_", with: " "))" : nil } }
            return [run.startedAt, run.runId, run.command, run.version ?? (run.command == "rollback" ? "previous" : "-"), run.who,
                    duration(run.durationMs), outcome.isEmpty ? "no hosts" : outcome.joined(separator: ", "),
                    String(run.exitCode) + (run.haltReason.map { " (\($0))" } ?? "")]
        }
        var header = ["STARTED", "RUN ID", "COMMAND", "VERSION", "BY", "TOOK", "HOSTS", "EXIT"]
        // With `processes:`, which of them each run deployed or rolled back (a column only when a run names any).
        let processes = runs.map(processNames)
        guard processes.contains(where: { !$0.isEmpty }) else { return StatusFormat.table(header, rows) }
        header.insert("PROCESSES", at: 4)
        return StatusFormat.table(header, zip(rows, processes).map { row, names in
            var row = row
            row.insert(names.isEmpty ? "web" : names.joined(separator: ","), at: 4)
            return row
        })
    }

    /// The processes a run's hosts name, in the order first seen.
    static func processNames(_ run: RunReport) -> [String] {
        var seen: [String] = []
        for name in run.hosts.flatMap({ $0.processes ?? [] }) where !seen.contains(name) { seen.append(name) }
        return seen
    }

    static func duration(_ ms: Int) -> String {
        ms < 60_000 ? String(format: "%.1fs", Double(ms) / 1000) : StatusFormat.age(ms / 1000)
    }
}
