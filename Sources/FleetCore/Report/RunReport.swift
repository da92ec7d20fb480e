import Foundation

/// What happened to one host in a deploy or rollback.
public enum HostOutcome: String, Sendable, Codable, CaseIterable {
    /// Now on the target release (deploy) or on the release it went back to (rollback).
    case updated
    /// Left alone: already on the version, or not reachable with --skip-unreachable.
    case skipped
    /// Its step failed; the host still serves a healthy release unless its error says otherwise.
    case failed
    /// Never started: the rollout halted or was interrupted first.
    case notStarted = "not_started"
    /// Could not be reached (connection, host key, authentication).
    case unreachable
    /// Updated by this run, then returned to its previous release (--rollback-on-failure).
    case rolledBack = "rolled_back"
}

/// One host's record in a run.
public struct HostReport: Sendable, Codable, Equatable {
    public var host: String
    public var outcome: HostOutcome
    /// The phase it reached or failed in: "connect", "pre-flight", "deploy", "rollback", "undo".
    public var phase: String
    /// 1-based batch number, when it was in one.
    public var batch: Int?
    /// The failing script's exit code (see docs/design.md), when a script failed.
    public var exitCode: Int32?
    /// What went wrong, said for people; nil when nothing did.
    public var error: String?
    /// The last lines of the failing step's output (stderr first), for the recap.
    public var lastLines: [String]
    /// Release before and after this run, when known.
    public var from: String?
    public var to: String?
    public var durationMs: Int
    /// The processes this run deployed or rolled back on the host (nil: the web process alone, without
    /// `processes:`).
    public var processes: [String]?

    public init(host: String, outcome: HostOutcome, phase: String, batch: Int? = nil, exitCode: Int32? = nil,
                error: String? = nil, lastLines: [String] = [], from: String? = nil, to: String? = nil,
                durationMs: Int = 0) {
        self.host = host
        self.outcome = outcome
        self.phase = phase
        self.batch = batch
        self.exitCode = exitCode
        self.error = error
        self.lastLines = lastLines
        self.from = from
        self.to = to
        self.durationMs = durationMs
    }
}

/// The final report of a deploy or rollback: printed as a recap, written as JSON to the history folder,
/// pushed as metrics and sent to webhooks. Holds no secret: env values never reach it.
public struct RunReport: Sendable, Codable, Equatable {
    public var format: Int = 1
    public var runId: String
    /// "deploy" or "rollback".
    public var command: String
    public var app: String
    public var environment: String
    public var inventory: String
    public var image: String
    /// Target version (deploy) or `--to` (rollback), nil for "the previous release".
    public var version: String?
    public var who: String
    public var startedAt: String
    public var finishedAt: String
    public var durationMs: Int
    /// fleet's exit code for this run (0, 1, 3, 4, 130; see docs/design.md).
    public var exitCode: Int32
    /// Why the rollout stopped early, if it did.
    public var haltReason: String?
    public var hosts: [HostReport]

    public init(runId: String, command: String, app: String, environment: String, inventory: String, image: String,
                version: String?, who: String, startedAt: String, finishedAt: String, durationMs: Int,
                exitCode: Int32, haltReason: String?, hosts: [HostReport]) {
        self.runId = runId
        self.command = command
        self.app = app
        self.environment = environment
        self.inventory = inventory
        self.image = image
        self.version = version
        self.who = who
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.durationMs = durationMs
        self.exitCode = exitCode
        self.haltReason = haltReason
        self.hosts = hosts
    }

    /// Hosts per outcome, every outcome present (0 where none).
    public var counts: [HostOutcome: Int] {
        var counts = Dictionary(uniqueKeysWithValues: HostOutcome.allCases.map { ($0, 0) })
        for host in hosts { counts[host.outcome, default: 0] += 1 }
        return counts
    }

    public var succeeded: Bool { exitCode == 0 }

    public func json(pretty: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public static func decode(_ data: Data) throws -> RunReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(RunReport.self, from: data)
    }
}
