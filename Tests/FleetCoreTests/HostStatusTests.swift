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
}
