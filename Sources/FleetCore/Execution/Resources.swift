import Foundation

/// Process limits that bound how many hosts can be in flight.
public enum Resources {
    /// Descriptors one host in flight needs: its socket and its wake-up descriptor, plus slack.
    static let descriptorsPerHost = 3

    /// Raises the soft descriptor limit toward the hard one, and returns how many hosts may be in flight:
    /// `wanted`, or fewer (saying so through `warn`) when the hard limit cannot hold that many.
    public static func hostsInFlight(wanted: Int, warn: (String) -> Void) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return wanted }
        let needed = rlim_t(wanted * descriptorsPerHost + 64)
        if limit.rlim_cur < needed {
            var raised = limit
            raised.rlim_cur = min(needed, limit.rlim_max)
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let possible = max(1, (Int(limit.rlim_cur) - 64) / descriptorsPerHost)
        if possible < wanted {
            warn("note: the open-file limit (\(limit.rlim_cur), hard \(limit.rlim_max)) allows \(possible) hosts in flight, not \(wanted); raise it with `ulimit -n` to go wider.\n")
            return possible
        }
        return wanted
    }
}
