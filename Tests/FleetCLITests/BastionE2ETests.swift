import FleetCore
import Foundation
import SSHEngine
import Testing
@testable import FleetCLI

/// `lab.sh bastion-up`: priv1 and priv2 (10.78.0.11, .12) behind the bastion 10.77.0.250, no route from here.
enum BastionInventory {
    static let dir = Lab.dir + "/bastion"

    /// An inventory for priv1 and priv2 in a folder of its own; `proxyJump` nil leaves the key out.
    static func write(proxyJump: String? = "root@10.77.0.250", knownHosts: String = BastionInventory.dir + "/known_hosts",
                      hosts: String = "  priv1: 10.78.0.11\n  priv2: 10.78.0.12\n", extra: String = "",
                      sshConfig: String? = nil) throws -> String {
        guard FileManager.default.fileExists(atPath: dir + "/known_hosts") else { throw BastionDown() }
        let jump = (proxyJump.map { "  proxy_jump: \"\($0)\"\n" } ?? "") + (sshConfig.map { "  config: \($0)\n" } ?? "")
        return try writeInventory("""
            app: demo
            image: 10.77.0.1:5000/demo
            ssh:
              user: root
              identity_files: [\(Lab.dir)/client/id_ed25519]
              known_hosts: \(knownHosts)
              connect_timeout: 10s
            \(jump)paths:
              root: \(dir)/{host}/opt
              state: \(dir)/{host}/state
            \(extra)hosts:
            \(hosts)
            """, name: "bastion.yml")
    }
}

struct BastionDown: Error, CustomStringConvertible {
    var description: String { "the bastion lab is not up: run `sudo scripts/lab/lab.sh bastion-up` (scripts/test.sh does)" }
}

@Suite("fleet through a bastion (lab.sh bastion-up)", .serialized)
struct BastionE2ETests {
    @Test func withoutTheBastionTheHostsAreUnreachable() async throws {
        let captured = Captured()
        let inventory = try BastionInventory.write(proxyJump: nil)
        let code = try await Exec.parse(["--inventory", inventory, "--", "true"]).run(context: captured.context())
        #expect(code != 0)
        #expect(captured.out.contains("priv1") && captured.out.contains("10.78.0.11"), "\(captured.out)\(captured.err)")
    }

    /// No route in the inventory: the OpenSSH client config's ProxyJump takes the hosts through the bastion.
    @Test func sshConfigProxyJumpReachesThePrivateHosts() async throws {
        let config = NSTemporaryDirectory() + "fleet-bastion-sshconfig-\(UInt32.random(in: 0...UInt32.max))"
        try "Host priv* 10.78.0.*\n    ProxyJump root@10.77.0.250\n".write(toFile: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let inventory = try BastionInventory.write(proxyJump: nil, sshConfig: config)
        let plan = Captured()
        #expect(try await PlanCommand.parse(["--inventory", inventory, "v1"]).run(context: plan.context()) == 0, "\(plan.err)")
        #expect(plan.out.contains("10.77.0.250"), "the plan names the route: \(plan.out.prefix(1500))")
        let captured = Captured()
        let code = try await Exec.parse(["--inventory", inventory, "--", "hostname", "-I"]).run(context: captured.context())
        #expect(code == 0, "\(captured.out)\(captured.err)")
        #expect(captured.out.contains("10.78.0.11") && captured.out.contains("10.78.0.12"), "\(captured.out)")
    }

    @Test func execThroughTheBastion() async throws {
        let captured = Captured()
        let inventory = try BastionInventory.write()
        let code = try await Exec.parse(["--inventory", inventory, "--", "hostname", "-I"]).run(context: captured.context())
        #expect(code == 0, "\(captured.out)\(captured.err)")
        #expect(captured.out.contains("10.78.0.11") && captured.out.contains("10.78.0.12"), "\(captured.out)")
    }

    /// priv2 through the bastion, then priv1: a chain of two jumps, next to priv1 through the bastion alone.
    @Test func execThroughAChainOfTwoJumps() async throws {
        let captured = Captured()
        let inventory = try BastionInventory.write(hosts: """
              priv1: 10.78.0.11
              priv2: {address: 10.78.0.12, proxy_jump: "root@10.77.0.250,root@10.78.0.11"}

            """)
        let code = try await Exec.parse(["--inventory", inventory, "--json", "--", "hostname", "-I"]).run(context: captured.context())
        #expect(code == 0, "\(captured.out)\(captured.err)")
        #expect(captured.out.contains("10.78.0.12"))
    }

    @Test func planProbeShowsTheRoute() async throws {
        let captured = Captured()
        let inventory = try BastionInventory.write()
        // A version never deployed: every host is in the plan, whatever the deploy test left there.
        let code = try await PlanCommand.parse(["--inventory", inventory, "--probe", "v0-never"]).run(context: captured.context())
        #expect(code == 0, "\(captured.out)\(captured.err)")
        #expect(captured.out.contains("priv1 (root@10.78.0.11:22 via root@10.77.0.250:22) now: "), "\(captured.out)")
        #expect(captured.err.contains("probe: 2 reachable, 0 unreachable"), "\(captured.err)")
    }

    @Test func statusThroughTheBastion() async throws {
        let captured = Captured()
        let inventory = try BastionInventory.write()
        _ = try await Status.parse(["--inventory", inventory, "--json"])
            .run(context: captured.context(environment: ["FLEET_PLAYBOOKS": E2E.repo + "/playbooks"]))
        let objects = captured.out.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == 2, "\(captured.out)\(captured.err)")
        for object in objects { #expect(object["answered"] as? Bool == true, "\(object)") }
    }

    /// The bastion's key changed: refused before anything runs on any host, exit 4, the bastion named.
    @Test func changedBastionKeyIsRefusedBeforeAnyChange() async throws {
        let wrong = NSTemporaryDirectory() + "fleet-bastion-wrong-\(UInt32.random(in: 0...UInt32.max))"
        let known = BastionInventory.dir + "/known_hosts"
        _ = await sh("grep -v '^10.77.0.250 ' '\(known)' > '\(wrong)' && grep '^10.78.0.11 ' '\(known)' | sed 's/^10.78.0.11 /10.77.0.250 /' >> '\(wrong)'")
        let inventory = try BastionInventory.write(knownHosts: wrong)
        let captured = Captured()
        let code = try await Deploy.parse(["--inventory", inventory, "--json", "v1"]).run(context: captured.context())
        #expect(code == ExitStatus.preflight, "\(captured.out)\(captured.err)")
        let all = captured.out + captured.err
        #expect(all.contains("bastion 10.77.0.250:22: HOST KEY CHANGED for 10.77.0.250"), "\(all)")
        // Nothing of this run reached the private hosts (no lock, no file names its run id; the deploy suite may
        // use the same hosts at the same time, so their files are not compared whole).
        let report = jsonObjects(captured.out).last { ($0["event"] as? String) == "report" }?["report"] as? [String: Any]
        let runId = try #require(report?["run_id"] as? String, "\(captured.out)")
        #expect((report?["hosts"] as? [[String: Any]])?.allSatisfy { ($0["outcome"] as? String) != "updated" } == true, "\(captured.out)")
        #expect(await sh("grep -rl -- '\(runId)' '\(BastionInventory.dir)/priv1' '\(BastionInventory.dir)/priv2' 2>/dev/null").isEmpty)
    }

    /// 20 light hosts behind the light bastion (MaxSessions 10): two jump sessions carry them all.
    @Test func manyHostsShareJumpSessions() async throws {
        let light = Lab.dir + "/light/known_hosts"
        let lines = (try? String(contentsOfFile: light, encoding: .utf8))?.split(separator: "\n") ?? []
        guard lines.count >= 20 else { throw BastionDown() }
        let known = NSTemporaryDirectory() + "fleet-light-bastion-\(UInt32.random(in: 0...UInt32.max))"
        _ = await sh("cat '\(light)' > '\(known)' && grep '^127.0.9.1 ' '\(BastionInventory.dir)/known_hosts' >> '\(known)'")
        let hosts = lines.prefix(20).enumerated().map { "  light\($0.offset + 1): \($0.element.split(separator: " ")[0])\n" }.joined()
        let inventory = try BastionInventory.write(proxyJump: "root@127.0.9.1", knownHosts: known, hosts: hosts)
        let jumps = JumpHosts()
        let captured = Captured()
        let code = try await Exec.parse(["--inventory", inventory, "--json", "--", "echo", "ok"])
            .run(context: captured.context(transport: { SSHTransport(agentSocket: nil, jumps: jumps) }))
        #expect(code == 0, "\(captured.out)\(captured.err)")
        #expect(captured.out.split(separator: "\n").count == 20)
        let opened = await jumps.sessionsOpened
        #expect(opened >= 2 && opened <= 5, "\(opened) jump sessions for 20 hosts (shared: 2, a few more when a channel is refused)")
        #expect(await jumps.openSessions == 0)
    }
}
