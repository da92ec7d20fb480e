import Foundation
import Testing
@testable import FleetCore

/// Reports shared by the metrics and notification tests.
enum SampleReports {
    static let now = Date(timeIntervalSince1970: 1_795_000_000.25)

    /// A deploy of v42 where web2 failed (still serving v41), web3 was already on v42, web4 is unreachable
    /// and web5 never started.
    static let failedDeploy = RunReport(
        runId: "20261127-104500-ab12", command: "deploy", app: "shop", environment: "production",
        inventory: "/srv/app/inventory/production.yml", image: "registry.example.com/acme/shop", version: "v42",
        who: "alice@laptop", startedAt: "2026-11-27T10:45:00Z", finishedAt: "2026-11-27T10:46:24Z", durationMs: 84_200,
        exitCode: 1, haltReason: "web2 failed; max_failures is 0",
        hosts: [
            HostReport(host: "web1", outcome: .updated, phase: "deploy", batch: 1, from: "v41", to: "v42", durationMs: 30_000),
            HostReport(host: "web2", outcome: .failed, phase: "deploy", batch: 2, exitCode: 11,
                       error: "new container never became healthy", lastLines: ["GET /health: 503", "GET /health: 503"],
                       from: "v41", to: "v42", durationMs: 40_000),
            HostReport(host: "web3", outcome: .skipped, phase: "pre-flight", batch: 2, from: "v42", to: "v42"),
            HostReport(host: "web4", outcome: .unreachable, phase: "connect", error: "connection refused"),
            HostReport(host: "web5", outcome: .notStarted, phase: "deploy", from: "v41"),
        ])

    static let goodRollback = RunReport(
        runId: "20261127-110000-cd34", command: "rollback", app: "shop", environment: "production",
        inventory: "/srv/app/inventory/production.yml", image: "registry.example.com/acme/shop", version: nil,
        who: "bob@ci", startedAt: "2026-11-27T11:00:00Z", finishedAt: "2026-11-27T11:00:12Z", durationMs: 12_000,
        exitCode: 0, haltReason: nil,
        hosts: [
            HostReport(host: "web1", outcome: .updated, phase: "rollback", batch: 1, from: "v42", to: "v41", durationMs: 6_000),
            HostReport(host: "web2", outcome: .updated, phase: "rollback", batch: 1, from: "v41", to: "v41", durationMs: 6_000),
        ])
}

@Suite("Metrics text")
struct MetricsTextTests {
    @Test func failedDeployMatchesGolden() throws {
        let text = MetricsText.render(report: SampleReports.failedDeploy, now: SampleReports.now)
        try Golden.check(text, "metrics-deploy-failed.prom")
        #expect(!text.contains("fleet_deploy_last_success_timestamp_seconds"))
    }

    @Test func successfulRollbackMatchesGolden() throws {
        let text = MetricsText.render(report: SampleReports.goodRollback, now: SampleReports.now)
        try Golden.check(text, "metrics-rollback-ok.prom")
        #expect(text.contains("fleet_deploy_last_success_timestamp_seconds 1795000000.25\n"))
        #expect(text.contains("fleet_deploy_last_run_timestamp_seconds 1795000000.25\n"))
    }

    @Test func everyOutcomeIsPresentAndCountsAddUp() {
        let text = MetricsText.render(report: SampleReports.failedDeploy, now: SampleReports.now)
        var total = 0
        for outcome in ["ok", "failed", "rolled_back", "skipped", "unreachable", "not_started"] {
            let line = text.split(separator: "\n").first { $0.hasPrefix("fleet_deploy_hosts{outcome=\"\(outcome)\"} ") }
            #expect(line != nil, "missing outcome \(outcome)")
            total += Int(line?.split(separator: " ").last ?? "") ?? -100
        }
        #expect(total == SampleReports.failedDeploy.hosts.count)
        #expect(text.contains("fleet_deploy_hosts{outcome=\"rolled_back\"} 0\n"))
    }

    @Test func releaseInfoIsTheVersionEachHostServes() {
        let releases = SampleReports.failedDeploy.servedReleases
        #expect(releases.map(\.host) == ["web1", "web2", "web3", "web5"])
        #expect(releases.map(\.version) == ["v42", "v41", "v42", "v41"])
    }

    @Test func labelValuesAreEscaped() {
        #expect(MetricsText.escape("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
    }

    @Test func numbers() {
        #expect(MetricsText.number(84.2) == "84.2")
        #expect(MetricsText.number(84) == "84")
        #expect(MetricsText.number(0.0004) == "0")
        #expect(MetricsText.number(1_795_000_000.25) == "1795000000.25")
        #expect(MetricsText.number(.nan) == "NaN")
    }

    /// Prometheus's own parser accepts the text (promtool from Debian's prometheus package).
    @Test func promtoolAcceptsTheText() throws {
        guard let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: FileManager.default.isExecutableFile) else {
            Issue.record("promtool not found: apt-get install prometheus")
            return
        }
        for report in [SampleReports.failedDeploy, SampleReports.goodRollback] {
            let result = try runTool(promtool, ["check", "metrics"], stdin: MetricsText.render(report: report, now: SampleReports.now))
            #expect(result.status == 0, "promtool: \(result.output)")
        }
    }

    @Test func groupingKeyURL() throws {
        var report = SampleReports.failedDeploy
        #expect(try MetricsPusher.groupURL(base: "http://127.0.0.1:9091/", report: report)
            == "http://127.0.0.1:9091/metrics/job/fleet/app/shop/env/production/command/deploy")
        report.environment = "eu/west 1"
        #expect(try MetricsPusher.groupURL(base: "http://pg:9091/prefix", report: report)
            == "http://pg:9091/prefix/metrics/job/fleet/app/shop/env@base64/ZXUvd2VzdCAx/command/deploy")
        #expect(throws: DeliveryError.self) { try MetricsPusher.groupURL(base: "pg:9091", report: report) }
    }

    @Test func urlsAreRedactedInMessages() {
        #expect(HTTPPost.redact("https://hooks.slack.com/services/T000/B000/XXXXSECRET") == "https://hooks.slack.com/...")
        #expect(HTTPPost.redact("http://user:pw@127.0.0.1:9091") == "http://127.0.0.1:9091/...")
        #expect(HTTPPost.redact("http://127.0.0.1:9091") == "http://127.0.0.1:9091")
        #expect(HTTPPost.redact("not a url").contains("not http"))
    }
}

/// Runs a program, feeding `stdin`; returns its exit status and its stdout and stderr together. posix_spawn and
/// waitpid, not Foundation's Process: the child gets an empty signal mask (a test thread's blocked signals would
/// otherwise be inherited, and SIGTERM never reach a daemon it starts), and no pipe of other tests.
func runTool(_ path: String, _ arguments: [String], stdin: String = "") throws -> (status: Int32, output: String) {
    var input: [Int32] = [0, 0]
    var output: [Int32] = [0, 0]
    guard pipe(&input) == 0, pipe(&output) == 0 else { throw DeliveryError("pipe failed") }
    for fd in input + output { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, input[0], 0)
    posix_spawn_file_actions_adddup2(&actions, output[1], 1)
    posix_spawn_file_actions_adddup2(&actions, output[1], 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
    close(input[0])
    close(output[1])
    defer { close(output[0]) }
    guard spawned == 0 else {
        close(input[1])
        throw DeliveryError("cannot run \(path): error \(spawned)")
    }
    Data(stdin.utf8).withUnsafeBytes { _ = write(input[1], $0.baseAddress, $0.count) }
    close(input[1])
    var collected = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(output[0], &buffer, buffer.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        collected.append(contentsOf: buffer[0..<n])
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (code, String(decoding: collected, as: UTF8.self))
}
