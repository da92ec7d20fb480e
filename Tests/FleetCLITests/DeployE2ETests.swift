import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// fleet deploy and rollback end to end on the lab: 4 hosts, batch 2, load on every host's nginx throughout.
@Suite("Rolling deploys on the lab", .serialized)
struct DeployE2ETests {
    func deploy(_ inventory: String, _ args: [String], _ captured: Captured = Captured()) async throws -> (Int32, Captured) {
        let command = try Deploy.parse(["--inventory", inventory] + args)
        return (try await command.run(context: E2E.context(captured)), captured)
    }

    @Test func v1ToV2ThenBrokenV3ThenRollbackOneHost() async throws {
        let inventory = try E2E.inventory()
        let (base, baseOut) = try await deploy(inventory, ["v1"])
        #expect(base == 0, "\(baseOut.err)")

        // v1 -> v2 under load: zero failed requests, every host on v2.
        var code: Int32 = -1
        var captured = Captured()
        let load = try await underLoad {
            (code, captured) = try await deploy(inventory, ["v2"])
        }
        #expect(code == 0, "\(captured.err)")
        #expect(totalRequests(load) > 100)
        #expect(failedRequests(load) == 0, "\(load)")
        for host in 1...E2E.hostCount { #expect(await E2E.serving(host) == "v2") }
        #expect(captured.err.contains("updated (\(E2E.hostCount)): web1, web2, web3"))

        // The JSON report, and the history beside the inventory.
        let (jsonCode, jsonOut) = try await deploy(inventory, ["--json", "v2"])
        #expect(jsonCode == 0)
        let last = jsonOut.out.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("{\"event\":\"report\""))
        let history = History.list(inventory: inventory, environment: "e2e").compactMap { try? $0.get() }
        #expect(history.count == 3)
        #expect(history.last?.hosts.allSatisfy { $0.outcome == .skipped } == true)

        // --probe reads each host read-only: every host is on v2 already, so the plan changes none.
        let probed = Captured()
        #expect(try await PlanCommand.parse(["--inventory", inventory, "--probe", "--json", "v2"]).run(context: E2E.context(probed)) == 0)
        let probedPlan = try JSONSerialization.jsonObject(with: Data(probed.out.utf8)) as? [String: Any]
        #expect((probedPlan?["skipped"] as? [Any])?.count == E2E.hostCount, "\(probed.out.prefix(400))")

        // Broken v3: halts after the first batch; those hosts still serve v2; the second batch untouched.
        var broken: Int32 = -1
        var brokenOut = Captured()
        let load3 = try await underLoad {
            (broken, brokenOut) = try await deploy(inventory, ["v3"])
        }
        #expect(broken == 1)
        #expect(failedRequests(load3) == 0, "\(load3)")
        let report = try #require(History.list(inventory: inventory, environment: "e2e").compactMap { try? $0.get() }.last)
        let outcome = Dictionary(uniqueKeysWithValues: report.hosts.map { ($0.host, $0.outcome) })
        #expect(outcome["web1"] == .failed && outcome["web2"] == .failed)
        for host in 3...E2E.hostCount { #expect(outcome["web\(host)"] == .notStarted) }
        #expect(report.hosts.first { $0.host == "web1" }?.exitCode == 11)
        #expect(brokenOut.err.contains("halted:"))
        for host in 1...E2E.hostCount { #expect(await E2E.serving(host) == "v2") }

        // Roll one host back: it returns to v1, its previous release; the others stay.
        let back = try Rollback.parse(["--inventory", inventory, "--host", "web1"])
        let backOut = Captured()
        #expect(try await back.run(context: E2E.context(backOut)) == 0, "\(backOut.err)")
        #expect(await E2E.serving(1) == "v1")
        #expect(await E2E.serving(2) == "v2")

        // The env file's values appear nowhere: output, reports, history, plan.
        let plan = Captured()
        _ = try await PlanCommand.parse(["--inventory", inventory, "v2"]).run(context: E2E.context(plan))
        #expect(plan.out.contains("SECRET_TOKEN"))
        let folder = (inventory as NSString).deletingLastPathComponent
        let historyText = await sh("cat \(folder)/.fleet/history/e2e/*.json")
        for text in [baseOut.err, captured.err, jsonOut.out, brokenOut.err, backOut.err, plan.out, historyText] {
            #expect(!text.contains(E2E.secret))
        }
    }

    @Test func concurrentDeployIsRefusedNamingTheHolder() async throws {
        let inventory = try E2E.inventory()
        // The host scripts on web2 (this test may run first, on a lab no deploy has touched yet).
        let (base, baseOut) = try await deploy(inventory, ["v1"])
        try #require(base == 0, "\(baseOut.err)")
        let state = "\(Lab.dir)/hosts/web2/opt"
        await sh("\(state)/bin/lock.sh --config \(state)/fleet.conf acquire --run-id other-run --who alice@laptop --pid 4242 --command deploy --version v9 >/dev/null 2>&1")
        defer { shNow("\(state)/bin/lock.sh --config \(state)/fleet.conf release --run-id other-run >/dev/null 2>&1") }
        let (code, captured) = try await deploy(inventory, ["v2"])
        #expect(code == 3, "\(captured.err)")
        #expect(captured.err.contains("alice@laptop"))
    }

    @Test func aHostWhoseSshdIsDownStopsTheDeployBeforeAnyChange() async throws {
        let inventory = try E2E.inventory()
        let last = E2E.hostCount
        let before = await E2E.serving(1..<last)
        await E2E.lab("stop-sshd web\(last)")
        defer { shNow("\(E2E.repo)/scripts/lab/lab.sh start-sshd web\(last) 2>&1") }
        let target = before[0] == "v1" ? "v2" : "v1"
        let (code, captured) = try await deploy(inventory, [target])
        #expect(code == 4, "\(captured.err)")
        #expect(captured.err.contains("web\(last)"))
        #expect(await E2E.serving(1..<last) == before)
    }
}
