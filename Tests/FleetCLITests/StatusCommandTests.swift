import FleetCore
import Foundation
import Testing
@testable import FleetCLI

@Suite("fleet status on the lab")
struct StatusCommandTests {
    /// web1 gets v1 then v2 through the real deploy.sh; web2 gets nothing; status says so for each.
    @Test func statusAfterRealDeploys() async throws {
        let lab = try LabApp(app: "cmds-status", hosts: [("web1", "10.77.0.11"), ("web2", "10.77.0.12")],
                             nginxPort: 18181, ports: (19181, 19182))
        try await lab.use {
            for version in ["v1", "v2"] {
                let out = try await lab.deploy(version, on: "web1")
                try #require(out.succeeded, "deploy \(version): \(out.problem)\n\(out.stderr)")
            }
            let captured = Captured()
            let code = try await Status.parse(["--inventory", lab.inventoryPath, "--json"])
                .run(context: captured.context(environment: LabApp.environment))
            #expect(code == 1, "web2 has no release, so it is not healthy")
            let lines = captured.out.split(separator: "\n")
            #expect(lines.count == 2 && jsonObjects(captured.out).count == 2, "only JSON on stdout: \(captured.out)")
            let hosts = byHost(captured.out)
            let web1 = try #require(hosts["web1"])
            #expect(web1["current"] as? String == "v2")
            #expect(web1["previous"] as? String == "v1")
            #expect(web1["healthy"] as? Bool == true)
            #expect(web1["nginx_status"] as? Int == 200)
            #expect(["blue", "green"].contains(web1["slot"] as? String ?? ""))
            #expect(web1["container"] as? String == "healthy")
            #expect((web1["deployed_by"] as? String)?.isEmpty == false)
            #expect((web1["deployed_at"] as? String)?.hasPrefix("20") == true)
            #expect(web1["lock"] == nil)
            // The scripts came from a folder (FLEET_PLAYBOOKS): the installed fleet.conf says so.
            #expect(web1["fleet_version"] as? String == FleetVersion.current + "+custom")
            let web2 = try #require(hosts["web2"])
            #expect(web2["answered"] as? Bool == true)
            #expect(web2["healthy"] as? Bool == false)
            #expect(web2["current"] == nil && web2["fleet_version"] == nil)
            #expect((web2["error"] as? String)?.contains("no release deployed yet") == true)

            let table = Captured()
            let one = try await Status.parse(["--inventory", lab.inventoryPath, "--hosts", "web1"])
                .run(context: table.context(environment: LabApp.environment))
            #expect(one == 0, "\(table.out)\(table.err)")
            let row = try #require(table.out.split(separator: "\n").first { $0.hasPrefix("web1") })
            #expect(row.contains("v2") && row.contains("v1") && row.contains("ok") && row.contains(FleetVersion.current + "+custom"), "\(row)")
            #expect(table.out.hasPrefix("HOST"))
            #expect(table.err.contains("1 hosts: 1 healthy"), "\(table.err)")
        }
    }

    /// A container with the app's labels that fleet did not start (another version, on the idle slot): `fleet status`
    /// lists it as UNEXPECTED with why, says how to remove it, and exits 1; once it is gone, 0.
    @Test func anUnexpectedContainerFailsStatus() async throws {
        let lab = try LabApp(app: "i21d-odd", hosts: [("web1", "10.77.0.11")], nginxPort: 18291, ports: (19291, 19292))
        try await lab.use {
            let out = try await lab.deploy("v1", on: "web1")
            try #require(out.succeeded, "deploy v1: \(out.problem)\n\(out.stderr)")
            let extra = "i21d-odd-extra"
            try await lab.shell({ _ in "docker run -d --name \(extra) --network none --label fleet.app=i21d-odd --label fleet.slot=green "
                + "--label fleet.version=v9 \(lab.image):v1 /bin/worker >/dev/null && echo started" }, on: ["web1"])
            let table = Captured()
            let code = try await Status.parse(["--inventory", lab.inventoryPath]).run(context: table.context(environment: LabApp.environment))
            #expect(code == 1, "\(table.out)\(table.err)")
            let row = try #require(table.out.split(separator: "\n").first { $0.hasPrefix("web1 \(extra)") }, "\(table.out)")
            #expect(row.contains("v9") && row.contains("UNEXPECTED (running)") && row.contains("fleet did not start"), "\(row)")
            #expect(table.err.contains("web1: UNEXPECTED CONTAINER: \(extra)") && table.err.contains("`docker rm -f \(extra)`"), "\(table.err)")
            let json = Captured()
            #expect(try await Status.parse(["--inventory", lab.inventoryPath, "--json"]).run(context: json.context(environment: LabApp.environment)) == 1)
            let web1 = try #require(byHost(json.out)["web1"])
            let odd = try #require((web1["unexpected"] as? [[String: Any]])?.first)
            #expect(odd["name"] as? String == extra && (odd["why"] as? String)?.contains("fleet did not start") == true, "\(odd)")
            #expect((web1["app_containers"] as? [[String: Any]])?.count == 2, "\(json.out)")
            try await lab.shell({ _ in "docker rm -f \(extra) >/dev/null" }, on: ["web1"])
            let after = Captured()
            #expect(try await Status.parse(["--inventory", lab.inventoryPath]).run(context: after.context(environment: LabApp.environment)) == 0,
                    "\(after.out)\(after.err)")
        }
    }

    /// An unreachable host is shown as such, with its error; the others are still read.
    @Test func unreachableHostShownWithItsError() async throws {
        let lab = try LabApp(app: "cmds-status2", hosts: [("web1", "10.77.0.11")], nginxPort: 18184, ports: (19187, 19188))
        let path = try lab.writeInventory(name: "dead", hostLines: ["  web1: 10.77.0.11", "  dead: 10.77.0.99"])
        let captured = Captured()
        let code = try await Status.parse(["--inventory", path]).run(context: captured.context(environment: LabApp.environment))
        await lab.stop()
        #expect(code == 1)
        let dead = try #require(captured.out.split(separator: "\n").first { $0.hasPrefix("dead") })
        #expect(dead.contains("UNREACHABLE") && dead.contains("10.77.0.99"), "\(dead)")
        #expect(captured.out.split(separator: "\n").contains { $0.hasPrefix("web1") })
        #expect(captured.err.contains("1 unreachable"), "\(captured.err)")
    }

    @Test func inventoryErrorExitsTwoAndContactsNothing() async throws {
        let captured = Captured()
        let code = try await Status.parse(["--inventory", "/tmp/no-such-folder/inventory/x.yml"])
            .run(context: captured.context(environment: LabApp.environment))
        #expect(code == 2)
        #expect(captured.err.contains("/tmp/no-such-folder/inventory/x.yml"))
        #expect(captured.out.isEmpty)
    }

    /// A folder named for the host scripts must hold them: exit 2, nothing contacted, no fallback to fleet's own.
    @Test func aPlaybooksFolderWithoutScriptsIsRefused() async throws {
        let path = try writeInventory(labInventory(hosts: "  web1: 10.77.0.11"))
        let captured = Captured()
        let code = try await Status.parse(["--inventory", path]).run(context: captured.context(environment: ["FLEET_PLAYBOOKS": "/tmp/no-such-playbooks"]))
        #expect(code == 2)
        #expect(captured.err.contains("/tmp/no-such-playbooks ($FLEET_PLAYBOOKS) holds no host scripts"), "\(captured.err)")
        #expect(captured.out.isEmpty)
    }

    @Test func ageFormatting() {
        #expect(StatusFormat.age(5) == "5s")
        #expect(StatusFormat.age(125) == "2m")
        #expect(StatusFormat.age(3 * 3600 + 5 * 60) == "3h05m")
        #expect(StatusFormat.age(2 * 86_400 + 4 * 3600) == "2d04h")
        #expect(StatusFormat.parseTime("2026-11-27T10:40:00Z") != nil)
    }
}
