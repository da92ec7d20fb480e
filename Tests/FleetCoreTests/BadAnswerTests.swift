import Foundation
import Testing
import TestSupport
@testable import FleetCore

/// Webhooks and the Pushgateway answered by a local receiver with bytes no HTTP client should trust: each is
/// that post's warning naming the endpoint and what was wrong, within the timeout, and the other posts go.
@Suite("Bad HTTP answers are warnings", .serialized)
struct BadAnswerTests {
    static let start = RunStart(runId: "r1", command: "deploy", app: "shop", environment: "production", image: "i",
                                version: "v2", who: "ci@runner", startedAt: "2026-12-06T10:00:00Z", hosts: ["web1"])

    @Test func everyBadAnswerIsThatWebhooksWarning() async throws {
        let receiver = try BadAnswerReceiver()
        defer { receiver.stop() }
        let cases = BadAnswerReceiver.cases
        let urls = cases.map { receiver.url + $0.path } + [receiver.url + "/ok"]
        let started = Date()
        let warnings = await Notifier.send(event: .started(Self.start), to: urls, format: .json)
        #expect(Date().timeIntervalSince(started) < 30)  // generous: 2 shared cores; a hang is forever
        try #require(warnings.count == cases.count, "\(warnings)")
        for (index, (path, says)) in cases.enumerated() {
            let warning = warnings[index]
            #expect(warning.hasPrefix("warning: webhook \(index + 1) of \(urls.count) (deploy started) not delivered: "
                + "http://127.0.0.1:\(receiver.port)/...: \(says)"), "\(path): \(warning)")
            #expect(warning.hasSuffix("the run's result is unchanged. Check notify.webhooks in the inventory and that the receiver answers 2xx."))
        }
        #expect(receiver.paths().sorted() == urls.map { String($0.dropFirst(receiver.url.count)) }.sorted())
    }

    /// The finish event and a Pushgateway push take the same path through `HTTPPost`.
    @Test func finishNotificationAndMetricsPush() async throws {
        let receiver = try BadAnswerReceiver()
        defer { receiver.stop() }
        let finished = await Notifier.send(event: .finished(SampleReports.failedDeploy), to: [receiver.url + "/chunk-overflow"],
                                           format: .slack)
        #expect(finished.count == 1)
        #expect(finished.first?.contains("(deploy finished) not delivered: http://127.0.0.1:\(receiver.port)/...: unusable answer: a chunk of 0x7fffffffffffffff") == true,
                "\(finished)")
        let pushed = await MetricsPusher.pushOrWarn(report: SampleReports.failedDeploy, to: receiver.url + "/content-length-minus-one")
        #expect(pushed?.hasPrefix("warning: metrics not pushed to the Pushgateway: http://127.0.0.1:\(receiver.port)/...: unusable answer: Content-Length \"-1\" is not a byte count") == true,
                "\(pushed ?? "pushed")")
    }

    /// A timeout that does not fit a deadline (infinite, NaN, negative) is bounded, not a trap.
    @Test(arguments: [Double.infinity, .nan, -1, 1e300])
    func oddTimeoutsAreBounded(_ timeout: Double) async throws {
        let receiver = try BadAnswerReceiver()
        defer { receiver.stop() }
        do {
            let answer = try await HTTPPost.send(Data("x".utf8), to: receiver.url + "/ok", contentType: "text/plain", timeout: timeout)
            #expect(answer.status == 200 && timeout > 0)
        } catch let error as DeliveryError {
            #expect(!(timeout > 0) && error.message.contains("no answer within"), "\(error)")
        }
    }
}
