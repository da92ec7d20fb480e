import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// A CI runner that starts empty every time: no `.fleet/history` beside the inventory. `fleet history` and
/// `deploy --retry-failed` fall back to what the hosts themselves record.
extension DeployE2ETests {
    @Test func anEphemeralRunnerReadsTheHostsOwnRecords() async throws {
        let inventory = try E2E.inventory()
        let (base, baseOut) = try await deploy(inventory, ["v1"])
        try #require(base == 0, "\(baseOut.err)")
        // A fresh runner: the same inventory and env file in a folder with no history.
        let fresh = NSTemporaryDirectory() + "fleet-runner-\(UInt32.random(in: 0...UInt32.max))/inventory"
        try FileManager.default.createDirectory(atPath: fresh, withIntermediateDirectories: true)
        let source = (inventory as NSString).deletingLastPathComponent
        for name in ["e2e.yml", "e2e.env"] { try FileManager.default.copyItem(atPath: "\(source)/\(name)", toPath: "\(fresh)/\(name)") }
        let copy = fresh + "/e2e.yml"

        let history = Captured()
        #expect(try await HistoryCommand.parse(["--inventory", copy]).run(context: E2E.context(history)) == 0, "\(history.err)")
        #expect(history.err.contains("reading the hosts' own records"), "\(history.err)")
        let rows = history.out.split(separator: "\n").map(String.init)
        #expect(rows.first?.hasPrefix("HOST") == true && rows.count == E2E.hostCount + 1, "\(history.out)")
        // Every host is on v1, and the last run it recorded is one that left it there: this deploy, an earlier
        // test's rollback to v1 that this deploy then left alone, or an earlier test's failed deploy (a host
        // that failed stays on its release, and this deploy found it already on v1).
        let onV1 = rows.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(onV1.allSatisfy { $0.count >= 7 && $0[1] == "v1" }, "\(history.out)")
        #expect(onV1.allSatisfy { $0.last == "failed" || ["deploy", "rollback"].contains($0[3]) && $0[4] == "v1" },
                "\(history.out)")

        // Every host is on v1: nothing to retry for v1; all of them for v2 (dry run: the plan targets them all).
        let same = Captured()
        #expect(try await Deploy.parse(["--inventory", copy, "--retry-failed", "v1"]).run(context: E2E.context(same)) == 0)
        #expect(same.err.contains("nothing to retry, no local history: the hosts' own records"), "\(same.err)")
        let next = Captured()
        #expect(try await Deploy.parse(["--inventory", copy, "--retry-failed", "--dry-run", "v2"]).run(context: E2E.context(next)) == 0,
                "\(next.err)")
        #expect(next.err.contains("retrying \(E2E.hostCount) hosts (no local history"), "\(next.err)")
        #expect(next.out.contains("\(E2E.hostCount) to change"), "\(next.out)")
    }
}
