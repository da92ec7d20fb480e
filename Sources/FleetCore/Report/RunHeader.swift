import Foundation

/// What every record of a run starts with, defined once: which run, of which app, by whom. The plan holds it,
/// the start notification (`RunStart`) and the report (`RunReport`, what history keeps) are made from it.
public struct RunHeader: Sendable, Equatable {
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
}

extension Plan {
    public var header: RunHeader {
        RunHeader(runId: run.runId, command: command.rawValue, app: app, environment: environment, inventory: inventory, image: image,
                  version: version ?? rollbackTo, who: run.who, startedAt: run.startedAt)
    }
}

extension RunStart {
    public init(_ header: RunHeader, hosts: [String]) {
        self.init(runId: header.runId, command: header.command, app: header.app, environment: header.environment, image: header.image,
                  version: header.version, who: header.who, startedAt: header.startedAt, hosts: hosts)
    }
}

extension RunReport {
    public init(_ header: RunHeader, finishedAt: String, durationMs: Int, exitCode: Int32, haltReason: String?, hosts: [HostReport]) {
        self.init(runId: header.runId, command: header.command, app: header.app, environment: header.environment,
                  inventory: header.inventory, image: header.image, version: header.version, who: header.who,
                  startedAt: header.startedAt, finishedAt: finishedAt, durationMs: durationMs, exitCode: exitCode,
                  haltReason: haltReason, hosts: hosts)
    }
}
