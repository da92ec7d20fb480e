import Foundation

/// Paces SSH handshakes by what limits them: at most `PacingController.limit` in progress at once, the limit
/// moved by each finished handshake's own measurements (CPU, waiting for a core, waiting on the network). A host
/// gets one connection at a time, so each server sees at most one of our handshakes; servers that still drop
/// connections during handshakes (sshd's `MaxStartups`, shared by a bastion) make the limit shrink.
public actor HandshakePacer {
    private var controller: PacingController
    private var inProgress = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Counts of each verdict, for reports and tests.
    public private(set) var verdicts: [PacingController.Verdict: Int] = [:]

    public init(controller: PacingController) {
        self.controller = controller
    }

    /// 8 handshakes per core to begin with; more while they wait on the network and do not queue.
    public init(cores: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.init(controller: PacingController(cores: cores))
    }

    public var limit: Int { controller.limit }
    public var peak: Int { controller.peak }

    func acquire() async {
        if inProgress < controller.limit {
            inProgress += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// A handshake in progress heard from its server `seconds` after it began (before any handshake finished,
    /// the only sign of a long round trip).
    func firstByte(after seconds: Double) {
        if controller.firstByte(after: seconds) { verdicts[.earlyLatency, default: 0] += 1 }
        admit()
    }

    private func admit() {
        while inProgress < controller.limit, !waiters.isEmpty {
            inProgress += 1
            waiters.removeFirst().resume()
        }
    }

    func release(_ sample: PacingController.Sample?) {
        if let sample {
            let verdict = controller.record(sample)
            verdicts[verdict, default: 0] += 1
        }
        inProgress -= 1
        admit()
    }

    /// Runs `body` (a handshake that reports its own measurements) under the limit.
    public nonisolated func paced(_ body: @Sendable () async -> PacingController.Sample?) async {
        await acquire()
        let sample = await body()
        await release(sample)
    }
}

/// This thread's CPU time and time spent waiting for a core (Linux `/proc/thread-self/schedstat`), in seconds.
enum ThreadClock {
    struct Reading {
        var wall: UInt64
        /// nil where the kernel does not say (the whole handshake then counts as waiting on the network).
        var run: UInt64?
        var wait: UInt64?
    }

    static func read() -> Reading {
        let wall = Deadline.now()
        let fd = Glibc.open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return Reading(wall: wall) }
        defer { Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 96)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 95) }
        guard n > 0 else { return Reading(wall: wall) }
        let fields = buffer[0..<n].split(whereSeparator: { $0 == 0x20 || $0 == 0x0a })
        guard fields.count >= 2 else { return Reading(wall: wall) }
        return Reading(wall: wall, run: UInt64(String(decoding: fields[0], as: UTF8.self)),
                       wait: UInt64(String(decoding: fields[1], as: UTF8.self)))
    }

    static func sample(from a: Reading, to b: Reading, overloaded: Bool) -> PacingController.Sample {
        func seconds(_ x: UInt64?, _ y: UInt64?) -> Double {
            guard let x, let y, y >= x else { return 0 }
            return Double(y - x) / 1e9
        }
        return PacingController.Sample(wall: seconds(a.wall, b.wall), cpu: seconds(a.run, b.run),
                                       runQueue: seconds(a.wait, b.wait), overloaded: overloaded)
    }
}

extension SSHConnection {
    /// `open()` measured on this connection's own thread (the actor never leaves it during `open`).
    func openMeasured(pacer: HandshakePacer? = nil) async -> (error: (any Error)?, sample: PacingController.Sample?) {
        let before = ThreadClock.read()
        if let pacer {
            onFirstByte = {
                let seconds = Double(Deadline.now() &- before.wall) / 1e9
                Task { await pacer.firstByte(after: seconds) }
            }
        }
        defer { onFirstByte = nil }
        var failure: (any Error)?
        do { try await open() } catch { failure = error }
        let kind = (failure as? SSHError)?.kind
        let overloaded = kind == .handshake || kind == .disconnected
        return (failure, ThreadClock.sample(from: before, to: ThreadClock.read(), overloaded: overloaded))
    }

    /// Connects like `connect(to:options:)`, with the handshake paced by `pacer` (through `jumps`' tunnel when
    /// the target is reached through jump hosts; the tunnel is opened before the pacer's turn).
    public static func connect(to target: SSHTarget, options: SSHOptions,
                               pacer: HandshakePacer, jumps: JumpHosts? = nil) async throws -> SSHConnection {
        let connection = try SSHConnection(target: target, options: options)
        do {
            try await connection.tunnel(through: jumps)
        } catch {
            await connection.close()
            throw error
        }
        let outcome = Outcome()
        await pacer.paced {
            let (error, sample) = await connection.openMeasured(pacer: pacer)
            outcome.set(error)
            return sample
        }
        if let error = outcome.error {
            await connection.close()
            throw error
        }
        return connection
    }
}

/// The handshake's error, handed out of the paced closure.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    func set(_ error: (any Error)?) { lock.withLock { stored = error } }
    var error: (any Error)? { lock.withLock { stored } }
}
