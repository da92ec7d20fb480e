import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// Deploy, rollback, status and logs on priv1 and priv2 (dockerd + nginx), reached only through the bastion
/// (`lab.sh up --servers` then `lab.sh bastion-up`).
@Suite("fleet deploy through a bastion", .serialized)
struct BastionDeployE2ETests {
    static func serving(_ i: Int) async -> String {
        await sh("ip netns exec fleetlab-priv\(i) curl -s -m 5 http://127.0.0.1/version").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func deployRollbackStatusAndLogsThroughTheBastion() async throws {
        guard FileManager.default.fileExists(atPath: BastionInventory.dir + "/priv1/nginx/nginx.conf") else { throw BastionDown() }
        let inventory = try BastionInventory.write(extra: """
            nginx:
              upstream_file: \(BastionInventory.dir)/{host}/nginx/fleet-demo.conf
              upstream_name: fleet_demo
              conf: \(BastionInventory.dir)/{host}/nginx/nginx.conf
              url: http://127.0.0.1:80
            health: {path: /health, status: 200, timeout: 20s, interval: 1s}
            rollout: {batch: 2}

            """)
        for version in ["v1", "v2"] {
            let captured = Captured()
            let code = try await Deploy.parse(["--inventory", inventory, "--progress", "plain", version])
                .run(context: E2E.context(captured))
            #expect(code == 0, "\(captured.out)\(captured.err)")
            #expect([await Self.serving(1), await Self.serving(2)] == [version, version])
        }

        let back = Captured()
        #expect(try await Rollback.parse(["--inventory", inventory, "--progress", "plain"]).run(context: E2E.context(back)) == 0,
                "\(back.out)\(back.err)")
        #expect([await Self.serving(1), await Self.serving(2)] == ["v1", "v1"])

        let status = Captured()
        #expect(try await Status.parse(["--inventory", inventory, "--json"]).run(context: E2E.context(status)) == 0,
                "\(status.out)\(status.err)")
        #expect(status.out.split(separator: "\n").count == 2)
        #expect(!status.out.contains("\"answered\":false"), "\(status.out)")

        // A line in each app's own output (the demo app logs nothing by itself), then read back by `fleet logs`.
        let marker = Captured()
        #expect(try await Exec.parse(["--inventory", inventory, "--container", "--", "sh", "-c", "echo bastion-marker > /proc/1/fd/1"])
            .run(context: E2E.context(marker)) == 0, "\(marker.out)\(marker.err)")
        let logs = Captured()
        #expect(try await Logs.parse(["--inventory", inventory, "--lines", "5"]).run(context: E2E.context(logs)) == 0,
                "\(logs.out)\(logs.err)")
        #expect(logs.out.split(separator: "\n").filter { $0.contains("bastion-marker") }.count == 2, "\(logs.out)")
    }
}
