/// Whether `fleet lock release` may remove the fleet lock, from every selected host's `lock.sh status`: never while
/// a run may be alive. Pure: the CLI reads the hosts, asks, and prints what it says.
public enum LockReleaseRule {
    public enum Verdict: Sendable, Equatable {
        /// No run is alive on any host (or only the one `--force` names): release everywhere.
        case release
        /// These hosts could not be read: a run may be alive there (`--hosts` leaves them out).
        case unreadable([HostFailure])
        /// A deploy or rollback runs on these hosts now (host, its record), and `--force` does not name it.
        case alive([String], [LockRecord])
    }

    /// `busy`: per host (in `hosts` order), the record of the run alive there (nil: none), or why it could not be
    /// read. `force`: the run id `--force` names.
    public static func verdict(hosts: [String], busy: [Result<LockRecord?, HostFailure>], force: String?) -> Verdict {
        let unread = busy.compactMap { result -> HostFailure? in
            if case .failure(let failure) = result { return failure } else { return nil }
        }
        if !unread.isEmpty { return .unreadable(unread) }
        let alive = zip(hosts, busy).compactMap { host, result -> (String, LockRecord)? in
            guard case .success(let record?) = result, force == nil || record.runId != force else { return nil }
            return (host, record)
        }
        return alive.isEmpty ? .release : .alive(alive.map(\.0), alive.map(\.1))
    }
}
