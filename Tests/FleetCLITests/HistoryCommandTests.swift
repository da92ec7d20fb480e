import FleetCore
import Foundation
import Testing
@testable import FleetCLI

@Suite("fleet history")
struct HistoryCommandTests {
    func report(_ id: String, _ command: String, _ version: String?, started: String, exit: Int32, hosts: [HostReport], inventory: String) -> RunReport {
        RunReport(runId: id, command: command, app: "demo", environment: "test", inventory: inventory, image: "10.77.0.1:5000/demo",
                  version: version, who: "alice@laptop", startedAt: started, finishedAt: started, durationMs: 12_345,
                  exitCode: exit, haltReason: exit == 1 ? "web2 failed" : nil, hosts: hosts)
    }

    @Test func listsRecordedRunsNewestFirst() async throws {
        let path = try writeInventory(labInventory(hosts: "  web1: 10.77.0.11\n  web2: 10.77.0.12"))
        try History.write(report("r1", "deploy", "v1", started: "2026-11-27T09:00:00Z", exit: 0,
                                 hosts: [HostReport(host: "web1", outcome: .updated, phase: "deploy"),
                                         HostReport(host: "web2", outcome: .updated, phase: "deploy")], inventory: path))
        try History.write(report("r2", "deploy", "v2", started: "2026-11-27T10:00:00Z", exit: 1,
                                 hosts: [HostReport(host: "web1", outcome: .updated, phase: "deploy"),
                                         HostReport(host: "web2", outcome: .failed, phase: "deploy", exitCode: 11)], inventory: path))
        try History.write(report("r3", "rollback", nil, started: "2026-11-27T11:00:00Z", exit: 0,
                                 hosts: [HostReport(host: "web1", outcome: .updated, phase: "rollback")], inventory: path))

        let captured = Captured()
        #expect(try await HistoryCommand.parse(["--inventory", path]).run(context: captured.context()) == 0)
        let lines = captured.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(captured.out)")
        #expect(lines[0].hasPrefix("STARTED"))
        #expect(lines[1].contains("r3") && lines[1].contains("rollback") && lines[1].contains("previous"))
        #expect(lines[2].contains("r2") && lines[2].contains("1 updated, 1 failed") && lines[2].contains("1 (web2 failed)"), "\(lines[2])")
        #expect(lines[3].contains("r1") && lines[3].contains("2 updated") && lines[3].contains("alice@laptop") && lines[3].contains("12.3s"))

        let json = Captured()
        #expect(try await HistoryCommand.parse(["--inventory", path, "--json"]).run(context: json.context()) == 0)
        let objects = jsonObjects(json.out)
        #expect(objects.map { $0["run_id"] as? String } == ["r3", "r2", "r1"])
        #expect(json.err.isEmpty)

        let limited = Captured()
        #expect(try await HistoryCommand.parse(["--inventory", path, "--limit", "1"]).run(context: limited.context()) == 0)
        #expect(limited.out.split(separator: "\n").count == 2)
        #expect(limited.err.contains("1 of 3 runs shown"))
    }

    /// A recorded run that cannot be read is named (never skipped): `fleet history` warns and lists the others;
    /// `--retry-failed` refuses to guess when it is the newest.
    @Test func anUnreadableRunIsNamedNotSkipped() async throws {
        let path = try writeInventory(labInventory(hosts: "  web1: 10.77.0.11"))
        try History.write(report("r1", "deploy", "v1", started: "2026-11-27T09:00:00Z", exit: 0,
                                 hosts: [HostReport(host: "web1", outcome: .updated, phase: "deploy")], inventory: path))
        let folder = History.folder(inventory: path, environment: "test")
        let broken = folder + "/r9-broken.json"  // after r1.json: the newest
        try "{\"run_id\": \"r2\", \"trunc".write(toFile: broken, atomically: true, encoding: .utf8)
        let captured = Captured()
        #expect(try await HistoryCommand.parse(["--inventory", path]).run(context: captured.context()) == 0)
        #expect(captured.err.contains("warning: \(broken): "), "\(captured.err)")
        #expect(captured.out.contains("r1"), "\(captured.out)")
        let inventory = try InventoryLoader.load(path: path)
        #expect { try History.hostsToRetry(inventory: inventory) } throws: { "\($0)".contains(broken) }
    }

    /// With `processes:`, a column says which processes each run deployed; without, there is none.
    @Test func runsOfAnAppWithProcessesNameThem() throws {
        var web = HostReport(host: "web1", outcome: .updated, phase: "deploy")
        web.processes = ["web", "job"]
        var worker = HostReport(host: "jobs1", outcome: .updated, phase: "deploy")
        worker.processes = ["job", "mailer"]
        let table = HistoryTable.render([report("r2", "deploy", "v2", started: "2026-11-27T10:00:00Z", exit: 0, hosts: [web, worker], inventory: "/x.yml"),
                                         report("r1", "deploy", "v1", started: "2026-11-27T09:00:00Z", exit: 0,
                                                hosts: [HostReport(host: "web1", outcome: .updated, phase: "deploy")], inventory: "/x.yml")])
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines[0].contains("VERSION  PROCESSES "), "\(table)")
        #expect(lines[1].contains(" v2       web,job,mailer "), "\(table)")
        #expect(lines[2].contains(" web "), "\(table)")
        let plain = HistoryTable.render([report("r1", "deploy", "v1", started: "2026-11-27T09:00:00Z", exit: 0,
                                               hosts: [HostReport(host: "web1", outcome: .updated, phase: "deploy")], inventory: "/x.yml")])
        #expect(!plain.contains("PROCESSES"))
    }

    /// No local history (an ephemeral CI runner): the hosts' own records, one row per host.
    @Test func noRunsHereReadsTheHosts() async throws {
        let path = try writeInventory(labInventory(hosts: "  web1: 10.77.0.11"))
        let captured = Captured()
        let code = try await HistoryCommand.parse(["--inventory", path])
            .run(context: captured.context(environment: ["FLEET_PLAYBOOKS": E2E.repo + "/playbooks"]))
        #expect(code == 0, "\(captured.err)")
        #expect(captured.err.contains("no runs recorded here") && captured.err.contains(".fleet/history/test"), "\(captured.err)")
        #expect(captured.out.hasPrefix("HOST") && captured.out.contains("web1"), "\(captured.out)")
    }

    @Test func badLimitIsAUsageError() {
        #expect(throws: (any Error).self) { try HistoryCommand.parse(["--limit", "-1"]) }
    }
}
