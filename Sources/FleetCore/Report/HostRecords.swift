import Foundation

/// The last run a host itself recorded (a line of STATE_DIR/history, printed by status.sh as `last`).
public struct HostRun: Sendable, Codable, Equatable {
    public var at: String?
    /// deploy, rollback, recovered...
    public var action: String?
    public var version: String?
    public var runId: String?
    /// "failed" for a run that failed there; nil for one that switched.
    public var result: String?

    public init?(_ json: JSONValue?) {
        guard let json, case .object = json else { return nil }
        at = json["at"]?.text
        action = json["action"]?.text
        version = json["version"]?.text
        runId = json["run_id"]?.text
        result = json["result"]?.text
    }
}

/// What the hosts record of the runs, for a controller with no history of its own (an ephemeral CI runner):
/// `fleet history` shows it, `deploy --retry-failed` picks its hosts from it. The local history, when there is
/// one, wins: it also knows the hosts a run never started.
public enum HostRecords {
    /// The hosts to deploy `version` to again: those that did not answer, and those not on `version`.
    public static func toRetry(_ statuses: [HostStatus], version: String) -> [String] {
        statuses.filter { !$0.answered || $0.current != version }.map(\.host)
    }

    /// One row per host: its release now and the last run it recorded.
    public static func table(_ statuses: [HostStatus]) -> String {
        let rows = statuses.map { s -> [String] in
            guard s.answered else { return [s.host, "-", "-", "-", "-", "UNREACHABLE: " + StatusFormat.oneLine(s.error ?? "")] }
            let run = s.lastRun
            return [s.host, s.current ?? "none", run?.at ?? "-", [run?.action, run?.version].compactMap { $0 }.joined(separator: " "),
                    run?.runId ?? "-", run?.result ?? (run == nil ? "-" : "ok")]
        }
        return StatusFormat.table(["HOST", "CURRENT", "LAST RUN AT", "WHAT", "RUN ID", "RESULT"], rows)
    }
}
