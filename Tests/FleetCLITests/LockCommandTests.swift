import FleetCore
import Foundation
import Testing
import TestSupport
@testable import FleetCLI

@Suite("fleet lock on the lab")
struct LockCommandTests {
    @Test func statusShowsTheHolderAndReleaseSaysWhoseItWas() async throws {
        let lab = try LabApp(app: "cmds-lock", hosts: [("web1", "10.77.0.11"), ("web2", "10.77.0.12")],
                             nginxPort: 18182, ports: (19183, 19184))
        try await lab.use {
            let deployed = try await lab.deploy("v1", on: "web1")
            try #require(deployed.succeeded, "\(deployed.problem)\n\(deployed.stderr)")
            // A deploy that died: its fleet lock stays on both hosts.
            let scripts = try lab.scripts()
            let inventory = try lab.load()
            let taken = await Sessions(transport: SSHTransport(agentSocket: nil), settings: inventory.ssh).each(inventory.hosts) { _, session in
                try await scripts.installAndRun("lock.sh", ["acquire", "--run-id", "run-42", "--who", "alice@laptop", "--pid", "4242",
                                                            "--command", "deploy", "--version", "v2"], on: session)
            }
            for result in taken { #expect(try result.get().succeeded) }

            let status = Captured()
            #expect(try await LockStatus.parse(["--inventory", lab.inventoryPath, "--json"])
                .run(context: status.context(environment: LabApp.environment)) == 0)
            for (host, object) in byHost(status.out) {
                let lock = try #require(object["lock"] as? [String: Any], "\(host)")
                #expect(lock["who"] as? String == "alice@laptop")
                #expect(lock["pid"] as? Int == 4242)
                #expect(lock["command"] as? String == "deploy")
                #expect(lock["version"] as? String == "v2")
                #expect(lock["run_id"] as? String == "run-42")
                #expect((lock["age_seconds"] as? Int ?? -1) >= 0)
            }
            #expect(byHost(status.out).count == 2)

            // The lock is real: another run's deploy is refused with 3.
            let refused = try await lab.deploy("v2", on: "web1")
            #expect(refused.exitStatus == 3, "\(refused.problem)")

            let table = Captured()
            #expect(try await LockStatus.parse(["--inventory", lab.inventoryPath])
                .run(context: table.context(environment: LabApp.environment)) == 0)
            #expect(table.out.contains("alice@laptop") && table.out.contains("4242") && table.out.contains("run-42"), "\(table.out)")
            #expect(table.err.contains("2 host(s) locked") && table.err.contains("fleet lock release"), "\(table.err)")

            // A deploy still running on web2 (its deploy.sh holds the host lock): the lock is not stale, so the
            // release refuses everywhere and releases nothing, naming that run.
            // Its stand-in holds the host lock (flock on STATE/host.lock) and is named in host.holder.
            let running = Process()
            running.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
            running.arguments = ["-o", "\(lab.dir)/web2/state/host.lock", "sleep", "120"]
            try running.run()
            // KILL, and its sleep too: both inherit the test runner's blocked signals.
            let stop = { _ = runShell("pkill -KILL -P \(running.processIdentifier); kill -KILL \(running.processIdentifier) 2>/dev/null") }
            defer { stop() }
            // Until its flock holds the lock (a loaded machine may take a while to start it).
            let deadline = ContinuousClock.now + .seconds(20)
            while runShell("flock -n \(lab.dir)/web2/state/host.lock true").status == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            let holder = "\(lab.dir)/web2/state/host.holder"
            try "who=bob@ci\npid=\(running.processIdentifier)\ncommand=deploy\nversion=v3\nrun_id=run-77\nstarted_at=2026-11-29T10:00:00Z\n"
                .write(toFile: holder, atomically: true, encoding: .utf8)
            let busy = Captured()
            #expect(try await LockRelease.parse(["--inventory", lab.inventoryPath])
                .run(context: busy.context(environment: LabApp.environment)) == ExitStatus.lockHeld, "\(busy.out)\(busy.err)")
            #expect(busy.err.contains("web2: a bob@ci (pid \(running.processIdentifier), deploy v3, run run-77)"), "\(busy.err)")
            #expect(busy.err.contains("nothing was released") && busy.err.contains("--force run-77"), "\(busy.err)")
            let still = Captured()
            _ = try await LockStatus.parse(["--inventory", lab.inventoryPath, "--json"]).run(context: still.context(environment: LabApp.environment))
            #expect(byHost(still.out).values.allSatisfy { ($0["lock"] as? [String: Any])?["run_id"] as? String == "run-42" }, "\(still.out)")
            stop()
            running.waitUntilExit()
            try FileManager.default.removeItem(atPath: holder)

            let release = Captured()
            #expect(try await LockRelease.parse(["--inventory", lab.inventoryPath, "--hosts", "web1"])
                .run(context: release.context(environment: LabApp.environment)) == 0)
            #expect(release.out.contains("web1: released the fleet lock of alice@laptop (pid 4242, deploy v2, run run-42)"), "\(release.out)")

            let after = Captured()
            _ = try await LockStatus.parse(["--inventory", lab.inventoryPath, "--json"]).run(context: after.context(environment: LabApp.environment))
            #expect(byHost(after.out)["web1"]?["lock"] is NSNull)
            #expect((byHost(after.out)["web2"]?["lock"] as? [String: Any])?["who"] as? String == "alice@laptop")

            let all = Captured()
            #expect(try await LockRelease.parse(["--inventory", lab.inventoryPath])
                .run(context: all.context(environment: LabApp.environment)) == 0)
            #expect(all.out.contains("web1: no fleet lock was held"), "\(all.out)")
            #expect(all.out.contains("web2: released the fleet lock of alice@laptop"), "\(all.out)")

            // Free again: a deploy goes through.
            let again = try await lab.deploy("v2", on: "web1")
            #expect(again.succeeded, "\(again.problem)")
        }
    }

    @Test func unreachableHostMakesLockStatusExitOne() async throws {
        let lab = try LabApp(app: "cmds-lock2", hosts: [("web1", "10.77.0.11")], nginxPort: 18185, ports: (19189, 19190))
        let path = try lab.writeInventory(name: "dead", hostLines: ["  web1: 10.77.0.11", "  dead: 10.77.0.99"])
        let captured = Captured()
        let code = try await LockStatus.parse(["--inventory", path]).run(context: captured.context(environment: LabApp.environment))
        #expect(code == 1)
        let dead = try #require(captured.out.split(separator: "\n").first { $0.hasPrefix("dead") })
        #expect(dead.contains("UNREACHABLE"), "\(dead)")
        #expect(captured.out.contains("web1  free"), "\(captured.out)")

        // A release cannot know whether a run is alive on the host it cannot reach: it releases nothing (exit 4),
        // names that host and says how to leave it out; with --hosts, the others are released.
        let refused = Captured()
        #expect(try await LockRelease.parse(["--inventory", path]).run(context: refused.context(environment: LabApp.environment)) == 4)
        #expect(refused.err.contains("nothing was released: a run may be alive on dead") && refused.err.contains("--hosts"), "\(refused.err)")
        #expect(!refused.out.contains("web1:"), "\(refused.out)")
        let others = Captured()
        #expect(try await LockRelease.parse(["--inventory", path, "--hosts", "web1"]).run(context: others.context(environment: LabApp.environment)) == 0,
                "\(others.err)")
        #expect(others.out.contains("web1: no fleet lock was held"), "\(others.out)")
        await lab.stop()
    }
}
