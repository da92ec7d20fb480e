import Foundation

/// Process limits that bound how many sessions fleet can hold and how many hosts can be in flight.
public enum Resources {
    /// Descriptors one open session holds: its socket and its wake-up descriptor, plus one of slack.
    static let descriptorsPerSession = 3
    /// A session through jump hosts: its end of the tunnel's socket pair, its wake-up descriptor, the pump's end
    /// of the pair, a share of the jump session's socket and two eventfds (10 tunnels share one), plus slack.
    static let descriptorsPerTunnelledSession = 4
    /// Descriptors kept for everything else (stdio, files read, the history, webhooks).
    static let reserved = 64

    public struct Budget: Sendable, Equatable {
        /// Hosts in flight at most.
        public var inFlight: Int
        /// Sessions open at once at most; past it, idle sessions are closed and opened again on next use.
        public var sessions: Int
    }

    /// Raises the soft descriptor limit toward the hard one, as far as `held` sessions (and `inFlight` hosts)
    /// need, and says through `notice` when the hard limit caps either.
    public static func budget(inFlight wanted: Int, held: Int, tunnelled: Bool = false, notice: (String) -> Void) -> Budget {
        let descriptorsPerSession = tunnelled ? Self.descriptorsPerTunnelledSession : Self.descriptorsPerSession
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            return Budget(inFlight: wanted, sessions: max(wanted, held))
        }
        let want = max(wanted, held)
        let needed = rlim_t(want * descriptorsPerSession + reserved)
        if limit.rlim_cur < needed {
            var raised = limit
            raised.rlim_cur = min(needed, limit.rlim_max)
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let possible = max(1, (Int(clamping: limit.rlim_cur) - reserved) / descriptorsPerSession)
        let inFlight = min(wanted, possible)
        if inFlight < wanted {
            notice("note: the open-file limit (\(limit.rlim_cur), hard \(limit.rlim_max)) allows \(possible) hosts in flight, not \(wanted); raise it with `ulimit -Hn` to go wider.\n")
        } else if possible < held {
            notice("note: the open-file limit (\(limit.rlim_cur), hard \(limit.rlim_max)) holds \(possible) sessions at once, not \(held): a host's session is closed when idle and opened again for its next step (raise `ulimit -Hn` to keep them).\n")
        }
        return Budget(inFlight: max(1, inFlight), sessions: max(1, min(possible, want)))
    }
}
