/// How many SSH handshakes may be in progress at once, decided by what limits them (pure logic, no I/O).
///
/// A handshake's wall time splits three ways, measured on the connection's own thread (see `HandshakePacer`):
/// - `cpu`: the thread ran (key exchange, signatures: this machine's CPU);
/// - `runQueue`: the thread was ready but waited for a core;
/// - the rest, `networkWait`: the thread slept on its socket (round trips and the server's own work).
/// and against `baseline`, the quickest handshake of the run (the least queued one): any time above it is
/// queueing somewhere (this machine's cores, the servers, a shared link).
///
/// Rules, per finished handshake:
/// - it failed the way an overloaded server fails (the server closed the connection during the handshake, as
///   sshd does past `MaxStartups`): the limit drops by a quarter (at most once per `limit` handshakes), down to
///   `minimum`;
/// - it took more than `queueFactor` times the baseline: handshakes queue; one less, down to `floor`;
/// - it took at most `growFactor` times the baseline and mostly slept on the network (`networkShare` of its
///   wall time or more): handshakes are latency-bound and more in flight finish sooner; `growth` more (the
///   limit multiplies by 1 + growth per generation of handshakes), up to `ceiling`;
/// - anything else: unchanged.
/// Before the first handshake finishes (one to two seconds over a long path), each server's first bytes arriving
/// late (`firstByte(after:)`) grows the limit the same way, so the first wave is not the only one in flight.
/// With no delay a handshake is CPU work (here or on the server), more of them at once only queue, and the limit
/// falls to `floor`, 8 per core: the fixed pacing fleet used before, measured best with no delay on a busy
/// 2-core machine (docs/benchmarks/pacing.md). Over long round trips it grows until handshakes start queueing.
public struct PacingController: Sendable, Equatable {
    public struct Sample: Sendable, Equatable {
        /// Seconds, for the whole handshake (TCP connect, SSH handshake, host key check, authentication).
        public var wall: Double
        public var cpu: Double
        public var runQueue: Double
        /// The server closed or reset the connection during the handshake.
        public var overloaded: Bool

        public init(wall: Double, cpu: Double, runQueue: Double, overloaded: Bool = false) {
            self.wall = wall
            self.cpu = cpu
            self.runQueue = runQueue
            self.overloaded = overloaded
        }

        /// Time asleep on the socket: round trips and the server's work.
        public var networkWait: Double { max(0, wall - cpu - runQueue) }
    }

    public enum Verdict: String, Sendable, Equatable {
        case overloaded, queueing, latencyBound, steady, earlyLatency
    }

    public private(set) var limit: Int
    public let floor: Int
    public let ceiling: Int
    public let minimum: Int
    public var growth = 2
    public var networkShare = 0.5
    public var growFactor = 1.5
    public var queueFactor = 2.0
    public var earlyLatency = 0.06
    /// The quickest handshake so far (seconds); nil before the first.
    public private(set) var baseline: Double?
    /// The largest limit reached, for reports.
    public private(set) var peak: Int
    private var sinceDecrease = Int.max

    /// `start`: the limit before any measurement (default `floor`).
    public init(floor: Int, ceiling: Int, minimum: Int = 2, start: Int? = nil) {
        self.minimum = max(1, minimum)
        self.floor = max(self.minimum, floor)
        self.ceiling = max(self.floor, ceiling)
        self.limit = min(self.ceiling, max(self.floor, start ?? floor))
        self.peak = self.limit
    }

    /// At least 8 handshakes per core, at most `ceiling`; 32 per core to start with: with no delay the first
    /// handshakes finish within a fraction of a second and queueing brings the limit down to 8 per core, while
    /// over a long round trip the first wave is what the first seconds of a run can do.
    public init(cores: Int, ceiling: Int = 1024) {
        self.init(floor: 8 * max(1, cores), ceiling: ceiling, start: 32 * max(1, cores))
    }

    public func verdict(_ s: Sample, baseline: Double) -> Verdict {
        if s.overloaded { return .overloaded }
        if s.wall > queueFactor * baseline { return .queueing }
        if s.wall <= growFactor * baseline && s.networkWait >= networkShare * s.wall { return .latencyBound }
        return .steady
    }

    /// Before any handshake has finished, the time from a handshake's start to its server's first bytes (TCP
    /// connect and banner: one to two round trips) is the only sign of latency: at `earlyLatency` or more (far
    /// above the few milliseconds a handshake's CPU work takes here), `growth` more. Once handshakes finish,
    /// their own measurements decide. Returns whether the limit grew.
    @discardableResult
    public mutating func firstByte(after seconds: Double) -> Bool {
        guard baseline == nil, seconds >= earlyLatency, limit < ceiling else { return false }
        limit = min(ceiling, limit + growth)
        peak = max(peak, limit)
        return true
    }

    /// Takes one finished handshake into account; returns what it said about the limit.
    @discardableResult
    public mutating func record(_ sample: Sample) -> Verdict {
        sinceDecrease = sinceDecrease == Int.max ? Int.max : sinceDecrease + 1
        if !sample.overloaded { baseline = min(baseline ?? sample.wall, sample.wall) }
        let verdict = verdict(sample, baseline: baseline ?? sample.wall)
        switch verdict {
        case .overloaded:
            if sinceDecrease >= limit {
                limit = max(minimum, limit - max(1, limit / 4))
                sinceDecrease = 0
            }
        case .queueing:
            if limit > floor { limit -= 1 }
        case .latencyBound:
            limit = min(ceiling, limit + growth)
        case .steady, .earlyLatency:
            break
        }
        peak = max(peak, limit)
        return verdict
    }
}
