import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// `fleet logs` and `fleet exec --container` against the current containers of an app of their own on the lab.
@Suite("fleet logs and exec --container on the lab")
struct LogsCommandTests {
    @Test func logsFromEveryHostAndCommandsInsideTheContainer() async throws {
        let lab = try LabApp(app: "cmds-logs", hosts: [("web1", "10.77.0.11"), ("web2", "10.77.0.12")],
                             nginxPort: 18186, ports: (19191, 19192))
        try await lab.use {
            // web2 has no release yet: exec there is refused by name.
            let none = Captured()
            #expect(try await Exec.parse(["--inventory", lab.inventoryPath, "--container", "--", "true"])
                .run(context: none.context(environment: LabApp.environment)) == 1)
            #expect(none.err.contains("web2") || none.out.contains("web2: no release of cmds-logs is deployed"), "\(none.out)\(none.err)")

            for host in ["web1", "web2"] {
                let deployed = try await lab.deploy("v1", on: host)
                try #require(deployed.succeeded, "\(deployed.problem)\n\(deployed.stderr)")
            }
            // Inside the container, as argv words (no shell of fleet's): write a line to the app's own output.
            let exec = Captured()
            #expect(try await Exec.parse(["--inventory", lab.inventoryPath, "--container", "--json", "--",
                                          "sh", "-c", "echo \"marker from $(cat /www/version)\" > /proc/1/fd/1; cat /www/version"])
                .run(context: exec.context(environment: LabApp.environment)) == 0, "\(exec.out)\(exec.err)")
            #expect(byHost(exec.out).values.allSatisfy { ($0["stdout"] as? String) == "v1\n" }, "\(exec.out)")

            let logs = Captured()
            #expect(try await Logs.parse(["--inventory", lab.inventoryPath, "--lines", "20"])
                .run(context: logs.context(environment: LabApp.environment)) == 0, "\(logs.err)")
            #expect(logs.out.contains("web1 | marker from v1") && logs.out.contains("web2 | marker from v1"), "\(logs.out)")
            // --since in days (docker's own durations have none) and --hosts: only web2's lines of the last day.
            let recent = Captured()
            #expect(try await Logs.parse(["--inventory", lab.inventoryPath, "--hosts", "web2", "--since", "1d"])
                .run(context: recent.context(environment: LabApp.environment)) == 0, "\(recent.err)")
            #expect(recent.out.contains("web2 | marker from v1") && !recent.out.contains("web1 |"), "\(recent.out)")

            // -f follows until Ctrl-C (the real binary, SIGINT), then exits 0 with lines from both hosts.
            let binary = try #require(E2E.fleetBinary(), "build the fleet binary first (swift build)")
            let log = NSTemporaryDirectory() + "fleet-logs-\(UInt32.random(in: 0...UInt32.max)).log"
            let child = try E2E.spawn(binary, ["logs", "--inventory", lab.inventoryPath, "-f", "--lines", "1"], output: log)
            let both = await E2E.waitFor(log, containing: "web2 | marker", seconds: 60)
            _ = await E2E.waitFor(log, containing: "web1 | marker", seconds: 30)
            kill(child.pid, SIGINT)
            let status = await child.exitStatus()
            #expect(both && status == 0, "\(E2E.read(log))")
            #expect(E2E.read(log).contains("web1 | marker from v1"), "\(E2E.read(log))")
        }
    }
}
