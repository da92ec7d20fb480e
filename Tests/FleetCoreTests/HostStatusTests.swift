import Foundation
import Testing
@testable import FleetCore

/// What status.sh says of a host, read for `fleet status` and `fleet history`.
@Suite struct HostStatusTests {
    static let line = """
    {"script":"status","current":{"version":"v1"},"slot":"green","nginx":{"status":200},"serving_slot":"blue",\
    "serving_version":"v2","consistent":false,"inconsistency":"nginx points at blue (v2), but current is v1 on green",\
    "last":{"at":"2026-11-29T10:00:00Z","action":"deploy","version":"v2","result":"failed","code":14,"run_id":"r9"}}
    """

    @Test func nginxAndCurrentDisagreeingIsNotHealthy() throws {
        let json = try #require(JSONValue.resultLine(in: Self.line))
        let status = HostStatus(host: "web2", json: json, expectedStatus: 200, now: Date())
        #expect(!status.healthy)
        #expect(status.inconsistency == "nginx points at blue (v2), but current is v1 on green")
        #expect(status.error?.hasPrefix("NGINX AND CURRENT DISAGREE: nginx points at blue (v2)") == true)
        #expect(HostStatus.table([status], now: Date()).contains("DISAGREES (nginx vs current)"))
        #expect(status.lastRun?.runId == "r9" && status.lastRun?.result == "failed" && status.lastRun?.version == "v2")
        #expect(HostRecords.toRetry([status], version: "v2") == ["web2"])
    }

    @Test func agreeingIsHealthy() throws {
        let json = try #require(JSONValue.resultLine(in: Self.line.replacingOccurrences(of: "\"consistent\":false", with: "\"consistent\":true")
            .replacingOccurrences(of: "\"inconsistency\":\"nginx points at blue (v2), but current is v1 on green\"", with: "\"inconsistency\":null")))
        let status = HostStatus(host: "web2", json: json, expectedStatus: 200, now: Date())
        #expect(status.healthy && status.inconsistency == nil)
        #expect(HostRecords.toRetry([status], version: "v1").isEmpty)
    }

    /// A host that runs only workers (it ran the web process before: its records still name a slot, and nginx may
    /// still answer): no slot, no nginx health, "workers only", in the table and in `--json`.
    static let workersOnlyLine = """
    {"script":"status","current":{"version":"v2","image":"r/demo"},"previous":{"version":"v1"},"slot":"blue",\
    "health":"healthy","upstream":{"slot":"blue"},"nginx":{"status":200},"consistent":true,"inconsistency":null,\
    "web_process":"","workers":[{"process":"job","container":"demo-job-b","state":"running","version":"v2"}]}
    """

    @Test func aWorkersOnlyHostHasNoSlotAndNoNginxHealth() throws {
        let json = try #require(JSONValue.resultLine(in: Self.workersOnlyLine))
        let status = HostStatus(host: "web3", json: json, expectedStatus: 200, now: Date())
        #expect(status.healthy && status.slot == nil && status.nginxStatus == nil && status.container == nil)
        let table = HostStatus.table([status], now: Date())
        let row = try #require(table.split(separator: "\n").first { $0.hasPrefix("web3 ") }).split(separator: " ")
        #expect(Array(row.prefix(6)) == ["web3", "v2", "v1", "-", "workers", "only"], "\(table)")
        #expect(table.contains("web3 job") && table.contains("ok (running)"), "\(table)")
        let line = jsonLine(status)
        #expect(line.contains("\"health\":\"workers only\"") && !line.contains("\"slot\"") && !line.contains("nginx_status"), "\(line)")
        // Its worker not running: failing, still without a slot.
        let down = try #require(JSONValue.resultLine(in: Self.workersOnlyLine.replacingOccurrences(of: "\"running\"", with: "\"exited\"")))
        let failing = HostStatus(host: "web3", json: down, expectedStatus: 200, now: Date())
        let failingTable = HostStatus.table([failing], now: Date())
        let failingRow = try #require(failingTable.split(separator: "\n").first { $0.hasPrefix("web3 ") }).split(separator: " ")
        #expect(!failing.healthy && Array(failingRow.prefix(6)) == ["web3", "v2", "v1", "-", "FAILING", "(workers)"], "\(failingTable)")
    }

    /// Every container of the app (`app_containers`): the unexpected ones are rows of the table, in `--json` with
    /// why, make `fleet status` exit 1 and say what to do; not while a host script runs there.
    static let unexpectedLine = """
    {"script":"status","current":{"version":"v1"},"slot":"blue","nginx":{"status":200},"consistent":true,\
    "app_containers":[{"name":"demo-blue","kind":"web","process":"web","version":"v1","slot":"blue","state":"running",\
    "why":"","expected":true},{"name":"demo-job-b","kind":"worker","process":"job","version":"v2","slot":"",\
    "state":"running","why":"a second container of worker job (v2): the records name demo-job-a","expected":false}],\
    "unexpected":["demo-job-b"]}
    """

    @Test func anUnexpectedContainerIsShownWithWhyAndFails() throws {
        let json = try #require(JSONValue.resultLine(in: Self.unexpectedLine))
        let status = HostStatus(host: "web1", json: json, expectedStatus: 200, now: Date())
        #expect(status.healthy && status.unexpectedProblem)
        #expect(status.appContainers?.map(\.name) == ["demo-blue", "demo-job-b"])
        #expect(status.unexpected?.map(\.name) == ["demo-job-b"])
        let table = HostStatus.table([status], now: Date())
        let row = try #require(table.split(separator: "\n").first { $0.hasPrefix("web1 demo-job-b") }, "\(table)")
        #expect(row.contains("UNEXPECTED (running)") && row.contains("a second container of worker job (v2)"), "\(row)")
        #expect(!table.contains("web1 demo-blue"), "\(table)")
        let line = jsonLine(status)
        #expect(line.contains("\"unexpected\":[{") && line.contains("\"why\":\"a second container of worker job (v2)"), "\(line)")
        #expect(HostStatus.summary([status]).contains("1 with unexpected containers"))
        let next = try #require(status.unexpectedNext)
        #expect(next.contains("demo-job-b (a second container") && next.contains("`docker rm -f demo-job-b`") && next.contains("fleet deploy"), "\(next)")
        // While a host script runs (a deploy starts and stops containers under the host lock): shown, not a failure.
        var busy = status
        busy.running = LockRecord(JSONValue.resultLine(in: #"{"who":"a@b","pid":7,"command":"deploy","version":"v2","run_id":"r","started_at":"2026-11-29T10:00:00Z"}"#), now: Date())
        #expect(busy.running != nil && !busy.unexpectedProblem && busy.unexpectedNext == nil)
        #expect(HostStatus.table([busy], now: Date()).contains("unexpected (running), a host script runs"))
        // From an earlier fleet's scripts (no app_containers): nothing is unexpected.
        let old = HostStatus(host: "web1", json: try #require(JSONValue.resultLine(in: Self.line)), expectedStatus: 200, now: Date())
        #expect(old.appContainers == nil && old.unexpected == nil && !old.unexpectedProblem)
    }
}
