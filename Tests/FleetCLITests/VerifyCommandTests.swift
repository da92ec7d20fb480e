import FleetCore
import Foundation
import Testing
@testable import FleetCLI

@Suite("fleet verify on the lab")
struct VerifyCommandTests {
    /// Hosts that run only workers (`processes:`) have no nginx route: verify names them and leaves them alone
    /// (here they are unreachable addresses, so contacting them would fail).
    @Test func hostsWithoutTheWebProcessAreNotVerified() async throws {
        let path = try writeInventory(labInventory(hosts: "  jobs1: {address: 127.0.0.1, port: 1, tags: [jobs]}\n  jobs2: {address: 127.0.0.1, port: 2, tags: [jobs]}")
            + "\nprocesses:\n  job: {cmd: [/bin/worker]}\n")
        let captured = Captured()
        let code = try await Verify.parse(["--inventory", path]).run(context: captured.context())
        #expect(code == 0, "\(captured.out)\(captured.err)")
        #expect(captured.err.contains("not verified (no web process runs there): jobs1, jobs2"), "\(captured.err)")
    }

    @Test func deployedHostPassesAndMissingEndpointsFail() async throws {
        let lab = try LabApp(app: "cmds-verify", hosts: [("web1", "10.77.0.11"), ("web2", "10.77.0.12")],
                             nginxPort: 18183, ports: (19185, 19186))
        try await lab.use {
            let deployed = try await lab.deploy("v1", on: "web1")
            try #require(deployed.succeeded, "\(deployed.problem)\n\(deployed.stderr)")

            // The default (the health path alone) answers 200 on the deployed host.
            let ok = Captured()
            #expect(try await Verify.parse(["--inventory", lab.inventoryPath, "--hosts", "web1", "--json"]).run(context: ok.context()) == 0,
                    "\(ok.out)\(ok.err)")
            let web1 = try #require(byHost(ok.out)["web1"])
            #expect(web1["ok"] as? Bool == true)
            let checks = try #require(web1["checks"] as? [[String: Any]])
            #expect(checks.map { $0["path"] as? String ?? "" } == ["/health"])
            #expect(checks.allSatisfy { $0["status"] as? Int == 200 && $0["ok"] as? Bool == true && $0["time_ms"] is Int })

            // web2 runs nothing: nginx answers 502 there.
            let both = Captured()
            #expect(try await Verify.parse(["--inventory", lab.inventoryPath]).run(context: both.context()) == 1)
            #expect(both.out.contains("web2  /health") && both.out.contains("502") && both.out.contains("FAILED"), "\(both.out)")
            #expect(both.err.contains("1 of 2 hosts failed verification") && both.err.contains("web2: /health answered 502"), "\(both.err)")

            // A missing endpoint fails; an expected 404 passes.
            let missing = try lab.writeInventory(name: "missing", hostLines: ["  web1: 10.77.0.11"],
                                                 extra: "verify:\n  - /health\n  - {path: /missing, status: 200}\n")
            let bad = Captured()
            #expect(try await Verify.parse(["--inventory", missing, "--json"]).run(context: bad.context()) == 1)
            let badChecks = try #require(byHost(bad.out)["web1"]?["checks"] as? [[String: Any]])
            #expect(badChecks.last?["status"] as? Int == 404)
            #expect(badChecks.last?["ok"] as? Bool == false)
            let expected404 = try lab.writeInventory(name: "notfound", hostLines: ["  web1: 10.77.0.11"],
                                                     extra: "verify:\n  - path: /missing\n    status: 404\n")
            #expect(try await Verify.parse(["--inventory", expected404]).run(context: Captured().context()) == 0)

            // The library call deploy uses, with an unreachable host.
            let withDead = try lab.writeInventory(name: "dead", hostLines: ["  web1: 10.77.0.11", "  dead: 10.77.0.99"])
            let inventory = try InventoryLoader.load(path: withDead)
            let results = await Verifier.verify(inventory: inventory, hosts: inventory.hosts, sessions: Sessions(transport: SSHTransport(agentSocket: nil), settings: inventory.ssh))
            #expect(results.map(\.host) == ["web1", "dead"])
            #expect(results[0].ok)
            #expect(!results[1].ok && results[1].unreachable && results[1].error?.contains("dead") == true)
        }
    }
}

@Suite("the inventory's verify key")
struct VerifyInventoryTests {
    func load(_ extra: String) throws -> Inventory {
        try InventoryLoader.load(path: try writeInventory(labInventory(hosts: "  web1: 10.77.0.11") + "\n" + extra))
    }

    @Test func defaultIsTheHealthPathAlone() throws {
        // No `verify` key: the health path alone, with its status (an app without the card's extra endpoints is
        // never halted by them).
        #expect(try load("").verify == [VerifyEndpoint(path: "/health")])
        #expect(try load("health: {path: /up, status: 204}\n").verify == [VerifyEndpoint(path: "/up", status: 204)])
    }

    @Test func pathsAndMappings() throws {
        let inv = try load("verify:\n  - /health\n  - {path: /ready, status: 204}\n  - path: /old\n    status: 301\n")
        #expect(inv.verify == [VerifyEndpoint(path: "/health"), VerifyEndpoint(path: "/ready", status: 204), VerifyEndpoint(path: "/old", status: 301)])
    }

    @Test func badEntriesNameFileAndLine() throws {
        for (yaml, words) in [("verify: /health\n", "must be a list"), ("verify:\n  - health\n", "must start with /"),
                              ("verify:\n  - {path: /a, code: 200}\n", "unknown key 'verify.code'"),
                              ("verify:\n  - {status: 200}\n", "needs a path"), ("verify:\n  - {path: /a, status: 999}\n", "between 100 and 599"),
                              ("verify:\n  - \"/a b\"\n", "must start with /")] {
            do {
                _ = try load(yaml)
                Issue.record("accepted: \(yaml)")
            } catch let error as InventoryError {
                #expect("\(error)".contains(words), "\(error)")
                #expect(error.line != nil, "\(error)")
            }
        }
    }

    @Test func emptyListIsAUsageError() async throws {
        let path = try writeInventory(labInventory(hosts: "  web1: 10.77.0.11") + "\nverify: []\n")
        let captured = Captured()
        #expect(try await Verify.parse(["--inventory", path]).run(context: captured.context()) == 2)
        #expect(captured.err.contains("empty list"))
    }

    @Test func oneRemoteCommandQuotesTheURLs() throws {
        let inv = try load("verify: [/health, \"/q?a=1&b=2\"]\n")
        let line = Verifier.command(inventory: inv)
        #expect(line.contains("'http://127.0.0.1:80/q?a=1&b=2'"), "\(line)")
        #expect(line.contains("http://127.0.0.1:80/health"))
    }
}
