import Foundation
import Testing
@testable import FleetCore

/// A real Pushgateway and Prometheus on loopback (scripts/ci/monitoring-up.sh), on ports of its own.
struct Monitoring {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    let dir: String
    let prometheus: String
    let pushgateway: String

    static func up(prometheusPort: Int = 19290, pushgatewayPort: Int = 19291) throws -> Monitoring {
        let dir = "/tmp/fleet-metrics-test-monitoring"
        let result = try runTool("/bin/bash", ["\(root)/scripts/ci/monitoring-up.sh", "--dir", dir,
                                               "--prometheus-port", "\(prometheusPort)", "--pushgateway-port", "\(pushgatewayPort)"])
        guard result.status == 0 else {
            throw DeliveryError("monitoring-up.sh failed (\(result.status)): \(result.output)")
        }
        return Monitoring(dir: dir, prometheus: "http://127.0.0.1:\(prometheusPort)", pushgateway: "http://127.0.0.1:\(pushgatewayPort)")
    }

    func down() {
        _ = try? runTool("/bin/bash", ["\(Self.root)/scripts/ci/monitoring-down.sh", "--dir", dir])
    }

    /// `/api/v1/query` results: each series' labels and value.
    func query(_ promql: String) async throws -> [(labels: [String: String], value: Double)] {
        // curl, not URLSession: URLSession's async API can hang on Linux (see HTTPPost.transfer).
        let answer = try runTool("/usr/bin/curl", ["-fsS", "--max-time", "3", "-G", prometheus + "/api/v1/query",
                                                   "--data-urlencode", "query=\(promql)"])
        let data = Data(answer.output.utf8)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let payload = object["data"] as? [String: Any], let result = payload["result"] as? [[String: Any]] else {
            throw DeliveryError("unexpected answer from Prometheus: \(String(decoding: data, as: UTF8.self))")
        }
        return result.map { series in
            let labels = series["metric"] as? [String: String] ?? [:]
            let value = (series["value"] as? [Any])?.last as? String
            return (labels, Double(value ?? "") ?? .nan)
        }
    }

    /// Queries until `done` holds for the answer or `seconds` pass; returns the last answer.
    func wait(for promql: String, seconds: Double = 30,
              until done: ([(labels: [String: String], value: Double)]) -> Bool) async throws -> [(labels: [String: String], value: Double)] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [(labels: [String: String], value: Double)] = []
        while Date() < deadline {
            last = (try? await query(promql)) ?? []
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(250))
        }
        return last
    }
}

@Suite("Metrics pushed to a real Pushgateway, found in a real Prometheus", .serialized)
struct MetricsPushTests {
    @Test func pushedMetricsReachPrometheus() async throws {
        let monitoring = try Monitoring.up()
        defer { monitoring.down() }
        var failed = SampleReports.failedDeploy
        failed.app = "pushtest"

        // 1. A good deploy: last run and last success carry the same time.
        var good = SampleReports.goodRollback
        good.app = "pushtest"
        good.command = "deploy"
        try await MetricsPusher.push(report: good, to: monitoring.pushgateway, now: Date(timeIntervalSince1970: 1_795_000_000))
        let success = try await monitoring.wait(for: "fleet_deploy_last_success_timestamp_seconds{app=\"pushtest\"}") { !$0.isEmpty }
        #expect(success.first?.value == 1_795_000_000)
        #expect(success.first?.labels["env"] == "production")
        #expect(success.first?.labels["command"] == "deploy")
        #expect(success.first?.labels["job"] == "fleet")

        // 2. A failed deploy later: hosts by outcome, release info, and the old success kept (POST).
        try await MetricsPusher.push(report: failed, to: monitoring.pushgateway, now: Date(timeIntervalSince1970: 1_795_000_600))
        let hosts = try await monitoring.wait(for: "fleet_deploy_hosts{app=\"pushtest\"}") { series in
            series.count == 6 && series.contains { $0.labels["outcome"] == "failed" && $0.value == 1 }
        }
        var byOutcome: [String: Double] = [:]
        for series in hosts { byOutcome[series.labels["outcome"] ?? "?"] = series.value }
        #expect(byOutcome == ["ok": 1, "failed": 1, "rolled_back": 0, "skipped": 1, "unreachable": 1, "not_started": 1])

        let releases = try await monitoring.query("fleet_release_info{app=\"pushtest\"}")
        var versions: [String: String] = [:]
        for series in releases { versions[series.labels["host"] ?? "?"] = series.labels["version"] }
        #expect(versions == ["web1": "v42", "web2": "v41", "web3": "v42", "web5": "v41"])

        let lastRun = try await monitoring.query("fleet_deploy_last_run_timestamp_seconds{app=\"pushtest\"}")
        #expect(lastRun.first?.value == 1_795_000_600)
        let kept = try await monitoring.query("fleet_deploy_last_success_timestamp_seconds{app=\"pushtest\"}")
        #expect(kept.first?.value == 1_795_000_000)
        let duration = try await monitoring.query("fleet_deploy_duration_seconds{app=\"pushtest\"}")
        #expect(duration.first?.value == 84.2)

        // 3. The ops engineer's DeployFailed alert fires on what fleet pushed.
        let alert = try await monitoring.wait(for: "ALERTS{alertname=\"DeployFailed\",app=\"pushtest\",alertstate=\"firing\"}") { !$0.isEmpty }
        #expect(!alert.isEmpty, "DeployFailed did not fire for the pushed failed deploy")
    }

    @Test func aFailedPushIsAWarningNamingWhatToCheck() async throws {
        // Port 9 on loopback: nothing listens (connection refused).
        let started = Date()
        let warning = await MetricsPusher.pushOrWarn(report: SampleReports.failedDeploy, to: "http://user:pw@127.0.0.1:9/")
        #expect(Date().timeIntervalSince(started) < 30)  // generous: a hang is forever; 2 shared cores
        let text = try #require(warning)
        #expect(text.hasPrefix("warning: metrics not pushed to the Pushgateway: http://127.0.0.1:9/..."))
        #expect(text.contains("--pushgateway"))
        #expect(!text.contains("pw"))
        #expect(await MetricsPusher.pushOrWarn(report: SampleReports.failedDeploy, to: "127.0.0.1:9091")?.contains("must be http(s)://") == true)
    }
}
