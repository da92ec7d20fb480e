/// One container of the app on a host, as `status.sh` lists it (`app_containers`): every container labelled
/// `fleet.app=APP`, judged against the host's records and processes.
public struct AppContainer: Sendable, Codable, Equatable {
    public var name: String
    /// web, worker, hook, other (the app's label but neither fleet.slot nor fleet.process).
    public var kind: String
    public var process: String?
    public var version: String?
    public var slot: String?
    /// running, exited, restarting, created...
    public var state: String
    /// False for a running container the host should not run (a second worker generation, a web container on a
    /// host without the web process, a version the records do not name...).
    public var expected: Bool
    /// Why it is unexpected (nil when expected).
    public var why: String?

    init?(_ json: JSONValue) {
        guard let name = json["name"]?.text else { return nil }
        self.name = name
        kind = json["kind"]?.text ?? "other"
        process = json["process"]?.text
        version = json["version"]?.text
        slot = json["slot"]?.text
        state = json["state"]?.text ?? "unknown"
        expected = json["expected"]?.bool ?? true
        why = expected ? nil : json["why"]?.text ?? "fleet did not start it, or no longer wants it"
    }
}

extension HostStatus {
    /// `app_containers` of `status.sh`'s JSON (nil from scripts of an earlier fleet, or when docker did not answer).
    mutating func readContainers(_ json: JSONValue) {
        guard let list = json["app_containers"], case .array(let items) = list else { return }
        appContainers = items.compactMap(AppContainer.init)
        let odd = (appContainers ?? []).filter { !$0.expected }
        unexpected = odd.isEmpty ? nil : odd
    }

    /// Unexpected containers that make `fleet status` exit 1: none while a host script runs there (a deploy starts
    /// its new containers and stops the old ones under the host lock).
    public var unexpectedProblem: Bool { answered && running == nil && !(unexpected ?? []).isEmpty }

    /// The status table's rows for this host's unexpected containers.
    func unexpectedRows() -> [[String]] {
        (unexpected ?? []).map { c in
            let what = running == nil ? "UNEXPECTED (\(c.state))" : "unexpected (\(c.state)), a host script runs"
            return ["  \(host) \(c.name)", c.version ?? "none", "-", c.slot ?? "-", what, "-", "-", StatusFormat.oneLine(c.why ?? "")]
        }
    }

    /// What to do about this host's unexpected containers (nil: none, or a host script runs there).
    public var unexpectedNext: String? {
        guard unexpectedProblem, let unexpected else { return nil }
        let list = unexpected.map { "\($0.name) (\($0.why ?? "unexpected"))" }.joined(separator: "; ")
        let names = unexpected.map(\.name).joined(separator: " ")
        return "\(host): UNEXPECTED CONTAINER\(unexpected.count == 1 ? "" : "S"): \(list) - nothing fleet records uses "
            + "\(unexpected.count == 1 ? "it" : "them"): remove \(unexpected.count == 1 ? "it" : "them") on \(host) with "
            + "`docker rm -f \(names)`; the next `fleet deploy` also stops the ones a cut-short run of fleet left"
    }
}
