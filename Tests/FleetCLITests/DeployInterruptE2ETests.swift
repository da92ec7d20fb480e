import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// A rollout cut short on the lab: Ctrl-C to the real binary, and one host's SSH connection dropped mid-swap.
/// (In the same serialized suite as the other rolling deploys: they share the lab's hosts.)
extension DeployE2ETests {
    @Test func sigintMidRolloutLetsInFlightHostsFinishReleasesTheLockAndExits130() async throws {
        let inventory = try E2E.inventory()
        let (base, baseOut) = try await deploy(inventory, ["v1"])
        try #require(base == 0, "\(baseOut.err)")
        let binary = try #require(E2E.fleetBinary(), "build the fleet binary first (swift build)")
        let log = NSTemporaryDirectory() + "fleet-sigint-\(UInt32.random(in: 0...UInt32.max)).log"

        var status: Int32 = -1
        let load = try await underLoad {
            let child = try E2E.spawn(binary, ["deploy", "--inventory", inventory, "--progress", "plain", "v2"], output: log)
            // Interrupt once the first batch's swaps are under way.
            let started = await E2E.waitFor(log, containing: "web1 deploy (batch 1)", seconds: 180)
            try await Task.sleep(for: .milliseconds(500))
            kill(child.pid, SIGINT)
            status = await child.exitStatus()
            #expect(started, "\(E2E.read(log))")
        }
        let output = E2E.read(log)
        #expect(status == 130, "\(output)")
        #expect(output.contains("SIGINT: no new host starts"))
        #expect(failedRequests(load) == 0, "\(load)")

        // The first batch finished its swap; the second never started; no fleet lock is left anywhere.
        let report = try #require(History.list(inventory: inventory, environment: "e2e").compactMap { try? $0.get() }.last)
        let outcome = Dictionary(uniqueKeysWithValues: report.hosts.map { ($0.host, $0.outcome) })
        #expect(outcome["web1"] == .updated && outcome["web2"] == .updated, "\(output)")
        for host in 3...E2E.hostCount { #expect(outcome["web\(host)"] == .notStarted) }
        #expect(await E2E.serving(1...2) == ["v2", "v2"])
        for host in 3...E2E.hostCount { #expect(await E2E.serving(host) == "v1") }
        for host in 1...E2E.hostCount { #expect(await !E2E.fleetLockHeld(host), "web\(host)") }
    }

    @Test func aConnectionDroppedMidSwapFailsThatHostAndEveryHostStillServes() async throws {
        let inventory = try E2E.inventory()
        let (base, baseOut) = try await deploy(inventory, ["v1"])
        try #require(base == 0, "\(baseOut.err)")

        let captured = Captured()
        var code: Int32 = -1
        var dropped = 0
        let load = try await underLoad {
            let rollout = Task { try await deploy(inventory, ["v2"], captured).0 }
            // Once web1's swap runs, kill the sshd processes serving its connection (not the listener).
            let deadline = ContinuousClock.now + .seconds(180)
            while !captured.err.contains("web1 deploy (batch 1)") && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(800))
            dropped = await E2E.dropConnections(host: 1)
            code = try await rollout.value
        }
        #expect(dropped > 0, "no sshd connection process found for web1")
        #expect(code == 1, "\(captured.err)")
        #expect(failedRequests(load) == 0, "\(load)")
        let report = try #require(History.list(inventory: inventory, environment: "e2e").compactMap { try? $0.get() }.last)
        let web1 = try #require(report.hosts.first { $0.host == "web1" })
        #expect(web1.outcome == .failed || web1.outcome == .unreachable, "\(captured.err)")
        #expect(captured.err.contains("web1"))
        for host in 3...E2E.hostCount {
            #expect(report.hosts.first { $0.host == "web\(host)" }?.outcome == .notStarted)
        }
        // The host's own deploy script may still be finishing its swap: wait for it, then every host serves a
        // healthy release and no fleet lock is left.
        await E2E.waitForHostScripts(host: 1)
        for host in 1...E2E.hostCount {
            #expect(await ["v1", "v2"].contains(E2E.serving(host)), "web\(host)")
            #expect(await E2E.health(host) == "200", "web\(host)")
            #expect(await !E2E.fleetLockHeld(host), "web\(host)")
        }
    }
}
