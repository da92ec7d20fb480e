import Foundation
import Testing
@testable import SSHEngine

/// The handshake pacing controller: pure logic, driven by made-up measurements.
@Suite("Handshake pacing by what limits")
struct PacingTests {
    typealias Sample = PacingController.Sample

    /// 150 ms round trips: ~1 s asleep on the socket, 5 ms of CPU, no queue for a core.
    static let latencyBound = Sample(wall: 1.0, cpu: 0.005, runQueue: 0.001)
    /// The same handshake, 2.5x slower than the quickest: it queued (for cores here or at the servers).
    static let queued = Sample(wall: 2.5, cpu: 0.005, runQueue: 0.3)

    @Test func startsAtThirtyTwoPerCoreAndFallsToEight() {
        var c = PacingController(cores: 2)
        #expect(c.limit == 64)
        #expect(c.floor == 16)
        #expect(c.baseline == nil)
        // No delay, the servers on this machine: after the first, every handshake queues behind the others.
        c.record(Sample(wall: 0.03, cpu: 0.005, runQueue: 0))
        for _ in 0..<60 { c.record(Sample(wall: 0.12, cpu: 0.005, runQueue: 0.04)) }
        #expect(c.limit == 16)
    }

    @Test func verdicts() {
        let c = PacingController(floor: 16, ceiling: 1024)
        #expect(c.verdict(Self.latencyBound, baseline: 1.0) == .latencyBound)
        #expect(c.verdict(Self.queued, baseline: 1.0) == .queueing)
        #expect(c.verdict(Sample(wall: 1.8, cpu: 0.005, runQueue: 0), baseline: 1.0) == .steady)
        // As quick as the quickest, but CPU work: more in flight would only queue.
        #expect(c.verdict(Sample(wall: 0.02, cpu: 0.015, runQueue: 0.002), baseline: 0.02) == .steady)
        #expect(c.verdict(Sample(wall: 1, cpu: 0.01, runQueue: 0, overloaded: true), baseline: 1) == .overloaded)
    }

    @Test func growsWhileHandshakesWaitOnTheNetwork() {
        var c = PacingController(floor: 16, ceiling: 100)
        for _ in 0..<16 { c.record(Self.latencyBound) }
        #expect(c.limit == 48)  // one generation of 16 handshakes: x3
        for _ in 0..<100 { c.record(Self.latencyBound) }
        #expect(c.limit == 100)
        #expect(c.peak == 100)
        #expect(c.baseline == 1.0)
    }

    @Test func shrinksBackToTheFloorWhenHandshakesQueue() {
        var c = PacingController(floor: 16, ceiling: 1024)
        for _ in 0..<20 { c.record(Self.latencyBound) }
        #expect(c.limit == 56)
        for _ in 0..<30 { c.record(Self.queued) }
        #expect(c.limit == 26)
        for _ in 0..<100 { c.record(Self.queued) }
        #expect(c.limit == 16)  // never below the fixed pacing that is best with no delay
    }

    @Test func noDelayKeepsTheFixedPacing() {
        // CPU-bound handshakes (the servers elsewhere): quick, but no time asleep on the network.
        var c = PacingController(floor: 16, ceiling: 1024)
        for _ in 0..<500 { c.record(Sample(wall: 0.012, cpu: 0.008, runQueue: 0.002)) }
        #expect(c.limit == 16)
        #expect(c.peak == 16)
        // The servers on this machine: the first handshake is quick, the next ones queue behind each other.
        var local = PacingController(floor: 16, ceiling: 1024)
        local.record(Sample(wall: 0.03, cpu: 0.005, runQueue: 0))
        for _ in 0..<50 { local.record(Sample(wall: 0.12, cpu: 0.005, runQueue: 0.04)) }
        #expect(local.limit == 16)
        #expect(local.peak == 18)
    }

    @Test func lateFirstBytesGrowTheLimitOnlyBeforeAnyHandshakeFinished() {
        var c = PacingController(floor: 16, ceiling: 1024)
        #expect(c.firstByte(after: 0.01) == false)  // a near server: no sign of latency
        #expect(c.limit == 16)
        for _ in 0..<16 { c.firstByte(after: 0.3) }  // 150 ms: connect and banner, two round trips
        #expect(c.limit == 48)
        c.record(Sample(wall: 0.03, cpu: 0.02, runQueue: 0))  // the first finished handshake: quick CPU work
        #expect(c.firstByte(after: 0.3) == false)  // from now on finished handshakes decide
        #expect(c.limit == 48)
    }

    @Test func serversDroppingHandshakesShrinkTheLimitOncePerGeneration() {
        var c = PacingController(floor: 16, ceiling: 1024)
        let dropped = Sample(wall: 0.01, cpu: 0.001, runQueue: 0, overloaded: true)
        c.record(dropped)
        #expect(c.limit == 12)
        for _ in 0..<11 { c.record(dropped) }  // the same burst: no second cut before `limit` handshakes
        #expect(c.limit == 12)
        c.record(dropped)
        #expect(c.limit == 9)
        for _ in 0..<200 { c.record(dropped) }
        #expect(c.limit == 2)  // the minimum
    }

    @Test func readsThisThreadsSchedulerTimes() throws {
        guard FileManager.default.fileExists(atPath: "/proc/thread-self/schedstat") else { return }
        let a = ThreadClock.read()
        var x = 0.0
        for i in 0..<2_000_000 { x += Double(i).squareRoot() }
        #expect(x > 0)
        let b = ThreadClock.read()
        #expect(a.run != nil && a.wait != nil)
        let s = ThreadClock.sample(from: a, to: b, overloaded: false)
        #expect(s.cpu > 0)
        #expect(s.wall >= s.cpu * 0.5)
    }

    /// The pacer's gate: never more bodies at once than the limit, and the limit follows the samples.
    @Test func pacerHoldsTheLimitAndGrows() async {
        let pacer = HandshakePacer(controller: PacingController(floor: 4, ceiling: 12))
        let counter = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<60 {
                group.addTask {
                    await pacer.paced {
                        await counter.enter()
                        try? await Task.sleep(for: .milliseconds(5))
                        await counter.leave()
                        return PacingTests.latencyBound
                    }
                }
            }
        }
        #expect(await counter.peak <= 12)
        #expect(await counter.peak > 4)
        #expect(await pacer.limit == 12)
        #expect(await pacer.verdicts[.latencyBound] == 60)
    }
}

actor Counter {
    private var now = 0
    private(set) var peak = 0
    func enter() {
        now += 1
        peak = max(peak, now)
    }
    func leave() { now -= 1 }
}
