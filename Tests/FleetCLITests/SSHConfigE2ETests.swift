import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// `ssh.config: true` on the lab: the inventory names hosts by alias only, and `~/.ssh/config` (HOME set to a
/// folder of the test's own) supplies the address, user, port, key and known_hosts.
@Suite("ssh.config on the lab")
struct SSHConfigE2ETests {
    /// A home folder whose `.ssh/config` includes `conf.d/lab` (the aliases' HostName) and sets the rest for
    /// `lab-*`; `lab-closed` is sent to port 1, where nothing listens.
    static func home() throws -> String {
        let home = NSTemporaryDirectory() + "fleet-sshconfig-e2e-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: home + "/.ssh/conf.d", withIntermediateDirectories: true)
        try """
        Host lab-web1
          HostName 10.77.0.11
        Host lab-web2
          HostName 10.77.0.12
        Host lab-closed
          HostName 10.77.0.11
          Port 1

        """.write(toFile: home + "/.ssh/conf.d/lab", atomically: true, encoding: .utf8)
        try """
        Include conf.d/*
        Host lab-*
          User root
          Port 22
          IdentityFile \(Lab.dir)/client/id_ed25519
          IdentitiesOnly yes
          UserKnownHostsFile \(Lab.dir)/known_hosts
          StrictHostKeyChecking yes
          ConnectTimeout 10
          ServerAliveInterval 20
          ForwardAgent yes
        Host *
          User nobody-else

        """.write(toFile: home + "/.ssh/config", atomically: true, encoding: .utf8)
        return home
    }

    @Test func execThroughAliasesOnly() async throws {
        let home = try Self.home()
        let path = try writeInventory("""
        app: demo
        image: 10.77.0.1:5000/demo
        ssh:
          config: true
        hosts:
          web1: lab-web1
          web2: lab-web2
          closed: lab-closed

        """)
        let environment = ["HOME": home, "USER": "e2e", "FLEET_PLAYBOOKS": E2E.repo + "/playbooks"]

        let plan = Captured()
        let planCode = try await PlanCommand.parse(["--inventory", path, "v1"]).run(context: plan.context(environment: environment))
        #expect(planCode == 0)
        #expect(plan.out.contains("  ssh config  \(home)/.ssh/config; ignored ForwardAgent (\(home)/.ssh/config:11)\n"))
        #expect(plan.out.contains("   web1 (root@10.77.0.11:22)\n"))

        let ok = Captured()
        let code = try await Exec.parse(["--inventory", path, "--hosts", "web1,web2", "--json", "--", "true"])
            .run(context: ok.context(environment: environment))
        #expect(code == 0, "\(ok.out)\(ok.err)")
        let results = ok.out.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(Set(results.compactMap { $0["host"] as? String }) == ["web1", "web2"])
        #expect(results.allSatisfy { $0["exit_status"] as? Int == 0 })

        // The config's Port is the one used: lab-closed goes to port 1 and is refused there.
        let closed = Captured()
        let closedCode = try await Exec.parse(["--inventory", path, "--hosts", "closed", "--json", "--", "true"])
            .run(context: closed.context(environment: environment))
        #expect(closedCode != 0)
        #expect(closed.out.contains("port 1"), "\(closed.out)")
    }
}
