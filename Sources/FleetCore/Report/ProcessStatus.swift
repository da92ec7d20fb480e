/// One worker process on a host, as `status.sh` reports it (with `processes:` only): its current container,
/// that container's state and version.
public struct WorkerStatus: Sendable, Codable, Equatable {
    public var process: String
    public var container: String?
    /// running, exited, restarting, missing...
    public var state: String
    public var version: String?

    init?(_ json: JSONValue) {
        guard let process = json["process"]?.text else { return nil }
        self.process = process
        container = json["container"]?.text.flatMap { $0.isEmpty ? nil : $0 }
        state = json["state"]?.text ?? "missing"
        version = json["version"]?.text.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Why this worker is not what the host's current release says (nil: it runs that release).
    func problem(current: String?) -> String? {
        if state != "running" { return "worker \(process) (\(container ?? "no container")) is \(state)" }
        if let current, version != current { return "worker \(process) runs \(version ?? "nothing"), not \(current)" }
        return nil
    }
}

extension HostStatus {
    /// The HEALTH of a host that runs no web process (its `health` in `--json`).
    public static let workersOnly = "workers only"

    /// The workers and the web process from `status.sh`'s JSON (hosts whose inventory has `processes:`): a host
    /// without the web process is judged by its workers, a host with both by both.
    mutating func readProcesses(_ json: JSONValue) {
        guard let list = json["workers"], case .array(let items) = list else { return }
        workers = items.compactMap(WorkerStatus.init)
        web = json["web_process"]?.text.flatMap { $0.isEmpty ? nil : $0 }
        if web == nil {
            // No web process here: no slot, no live web container, no health through nginx (whatever an earlier
            // web release left in the host's records).
            slot = nil
            container = nil
            nginxStatus = nil
            health = Self.workersOnly
        }
        if web == nil, inconsistency == nil {
            healthy = current != nil
            error = current == nil ? "no release deployed yet: fleet deploy" : nil
        }
        if let problem = (workers ?? []).compactMap({ $0.problem(current: current) }).first, inconsistency == nil {
            healthy = false
            error = (error.map { $0 + "; " } ?? "") + problem
        }
    }

    /// The status table's rows for this host's processes: the web one (when the host has workers too) and one per
    /// worker.
    func processRows() -> [[String]] {
        guard let workers, !workers.isEmpty || web == nil else { return [] }
        var rows: [[String]] = []
        if let web { rows.append(["  \(host) \(web)", current ?? "none", "-", slot ?? "-", healthy || inconsistency != nil ? "web" : "web FAILING", "-", "-", "-"]) }
        for w in workers {
            let state = w.problem(current: current) == nil ? "ok (\(w.state))" : "FAILING (\(w.state))"
            rows.append(["  \(host) \(w.process)", w.version ?? "none", "-", w.container ?? "-", state, "-", "-", "-"])
        }
        return rows
    }
}
