import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// Issue 19: an inventory whose keys come only from `ssh.config` (an `IdentityFile` in a `Host 10.77.0.*`
/// block; no `ssh.identity_files`, no ssh-agent: `SSH_AUTH_SOCK` is not in fleet's environment and the transport
/// has no socket) reached every host with `fleet exec` but not with `fleet deploy` ("authentication as root
/// failed (no ssh-agent and no identity files configured)", exit 4): the plan rebuilt each host's connection
/// without what the config resolved. Now the plan carries the resolved connection, names the config's lines,
/// and deploy, rollback, status and plan --probe reach the hosts as exec does. An app of its own (`LabApp`).
@Suite("ssh.config alone: deploy, rollback and status on the lab")
struct SSHConfigDeployE2ETests {
    /// A home folder of its own, whose `.ssh/known_hosts` knows the lab's hosts (as a user's who has ssh'ed there).
    let home = NSTemporaryDirectory() + "fleet-conn-home-\(UInt32.random(in: 0...UInt32.max))"
    var environment: [String: String] { ["FLEET_PLAYBOOKS": LabApp.repo + "/playbooks", "USER": "e2e", "HOME": home, "NO_COLOR": "1"] }

    func run(_ command: some ContextCommand) async throws -> (Int32, Captured) {
        let captured = Captured()
        return (try await command.run(context: captured.context(environment: environment)), captured)
    }

    @Test func configOnlyInventoryDeploysRollsBackAndReports() async throws {
        let lab = try LabApp(app: "conn-cfg", hosts: [("web1", "10.77.0.11"), ("web2", "10.77.0.12")],
                             nginxPort: 18277, ports: (19277, 19278))
        try FileManager.default.createDirectory(atPath: home + "/.ssh", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Lab.dir + "/known_hosts", toPath: home + "/.ssh/known_hosts")
        let config = lab.dir + "/inventory/ssh_config"
        try """
        # the lab, as a new user writes it for ssh
        Host 10.77.0.*
          User root
          IdentityFile \(Lab.dir)/client/id_ed25519

        """.write(toFile: config, atomically: true, encoding: .utf8)
        let own = lab.inventoryYAML()
        let sshBlock = try #require(own.range(of: "ssh:\n[\\s\\S]*?(?=health:)", options: .regularExpression))
        let path = lab.dir + "/inventory/sshconfig.yml"
        try own.replacingCharacters(in: sshBlock, with: "ssh:\n  config: ssh_config\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("identity_files") == false)

        defer { try? FileManager.default.removeItem(atPath: home) }
        try await lab.use {
            // The plan names where each setting came from: the config's file and line.
            let (planCode, plan) = try await run(try PlanCommand.parse(["--inventory", path, "v1"]))
            #expect(planCode == 0, "\(plan.err)")
            #expect(plan.out.contains("\n  user         root (ssh.config \(config):3)\n"), "\(plan.out)")
            #expect(plan.out.contains("\n  identities   \(Lab.dir)/client/id_ed25519 (ssh.config \(config):4)\n"), "\(plan.out)")
            #expect(plan.out.contains("\n  known_hosts  \(home)/.ssh/known_hosts (default)\n"), "\(plan.out)")
            #expect(plan.out.contains("\n  agent        no, not set (environment SSH_AUTH_SOCK)\n"), "\(plan.out)")
            let (jsonCode, json) = try await run(try PlanCommand.parse(["--inventory", path, "--json", "v1"]))
            #expect(jsonCode == 0)
            #expect(json.out.contains("\"from\" : \"ssh.config \(config):4\""))

            // exec reached the hosts before the fix; deploy, rollback and status now reach them the same way.
            let (execCode, exec) = try await run(try Exec.parse(["--inventory", path, "--json", "--", "true"]))
            #expect(execCode == 0, "\(exec.out)\(exec.err)")
            for version in ["v1", "v2"] {
                let (code, deploy) = try await run(try Deploy.parse(["--inventory", path, version]))
                try #require(code == 0, "deploy \(version): exit \(code)\n\(deploy.err)")
            }
            let (statusCode, status) = try await run(try Status.parse(["--inventory", path, "--json"]))
            #expect(statusCode == 0, "\(status.out)\(status.err)")
            for host in ["web1", "web2"] {
                #expect(byHost(status.out)[host]?["current"] as? String == "v2", "\(status.out)")
            }

            let (backCode, back) = try await run(try Rollback.parse(["--inventory", path]))
            #expect(backCode == 0, "\(back.err)")
            let (afterCode, after) = try await run(try Status.parse(["--inventory", path, "--json"]))
            #expect(afterCode == 0, "\(after.out)\(after.err)")
            for host in ["web1", "web2"] {
                #expect(byHost(after.out)[host]?["current"] as? String == "v1", "\(after.out)")
                #expect(byHost(after.out)[host]?["healthy"] as? Bool == true, "\(after.out)")
            }

            // verify, lock status and logs reach the hosts the same way.
            let (verifyCode, verify) = try await run(try Verify.parse(["--inventory", path]))
            #expect(verifyCode == 0, "\(verify.out)\(verify.err)")
            let (lockCode, lock) = try await run(try LockStatus.parse(["--inventory", path]))
            #expect(lockCode == 0, "\(lock.out)\(lock.err)")
            let (logsCode, logs) = try await run(try Logs.parse(["--inventory", path, "--lines", "3"]))
            #expect(logsCode == 0, "\(logs.out)\(logs.err)")

            // plan --probe reads each host through the same connection.
            let (probeCode, probe) = try await run(try PlanCommand.parse(["--inventory", path, "--probe", "v2"]))
            #expect(probeCode == 0, "\(probe.err)")
            #expect(probe.out.contains("web1 (root@10.77.0.11:22) now: v1"), "\(probe.out)")
        }
    }
}
