import Foundation

/// Where runs are recorded: `<inventory folder>/.fleet/history/<env>/<run id>.json`.
public enum History {
    public static func folder(inventory: String, environment: String) -> String {
        let base = (inventory as NSString).deletingLastPathComponent
        return "\(base)/.fleet/history/\(environment)"
    }

    public static func write(_ report: RunReport) throws {
        let folder = folder(inventory: report.inventory, environment: report.environment)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try (report.json(pretty: true) + "\n").write(toFile: "\(folder)/\(report.runId).json", atomically: true, encoding: .utf8)
    }

    /// Recorded runs, oldest first; a file that cannot be read is there as its error, never skipped (a run
    /// `--retry-failed` cannot read must not look like a run with nothing to retry).
    public static func list(inventory: String, environment: String) -> [Result<RunReport, HistoryError>] {
        let folder = folder(inventory: inventory, environment: environment)
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.map { name in
            let path = "\(folder)/\(name)"
            guard let data = FileManager.default.contents(atPath: path) else {
                return .failure(HistoryError(path: path, reason: "cannot read the file"))
            }
            do {
                return .success(try RunReport.decode(data))
            } catch {
                return .failure(HistoryError(path: path, reason: "not a run report fleet can read"))
            }
        }
    }
}

extension History {
    /// `--retry-failed`: the hosts that failed, were unreachable or did not start in the last recorded run, and
    /// that run's id. Throws when no run is recorded, or when the last one cannot be read.
    public static func hostsToRetry(inventory: Inventory) throws -> (runId: String, hosts: [String]) {
        guard let last = list(inventory: inventory.file, environment: inventory.environment).last else {
            throw InputError("--retry-failed", "no earlier run of \(inventory.environment) is recorded in \(folder(inventory: inventory.file, environment: inventory.environment))")
        }
        let run = try last.get()
        return (run.runId, run.hosts.filter { [.failed, .unreachable, .notStarted].contains($0.outcome) }.map(\.host))
    }
}

/// A recorded run that cannot be read: which file, and what to do.
public struct HistoryError: Error, CustomStringConvertible, Sendable, Equatable {
    public var path: String
    public var reason: String

    public var description: String {
        "\(path): \(reason); move it out of the history folder (or delete it) if it is not needed"
    }
}

/// The history folder beside the inventory (`History`).
public struct HistoryFolder: RunRecorder {
    public init() {}

    public func record(_ report: RunReport) throws { try History.write(report) }
}
