import Foundation
import Testing
import TestSupport

/// The fleet binary deploying with webhooks whose receiver answers `Content-Length: -1` and a chunk size of
/// 7fffffffffffffff: once SIGILL (exit 132) at the start notification. Now each answer is a warning, fleet ends
/// with the deploy's own exit code, and the run is recorded. The deploy's host is 127.0.0.1 port 1 (nothing
/// listens there), so it needs no lab: its own exit code is that of an unreachable host, measured by the same
/// deploy with a receiver that answers well.
@Suite("fleet deploy with webhooks that answer badly", .serialized)
struct WebhookAnswerE2ETests {
    /// Runs `fleet deploy v2` on an inventory with these webhooks; its exit status, output and history files.
    func deploy(webhooks: [String]) async throws -> (status: Int32, output: String, history: [String]) {
        let binary = try #require(E2E.fleetBinary(), "no fleet binary beside the tests (swift build)")
        let folder = NSTemporaryDirectory() + "fleet-webhook-e2e-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let inventory = """
        app: demo
        image: 10.77.0.1:5000/demo
        ssh:
          user: root
          connect_timeout: 5s
        notify:
          webhooks: [\(webhooks.joined(separator: ", "))]
        hosts:
          web1: {address: 127.0.0.1, port: 1}

        """
        try inventory.write(toFile: folder + "/shop.yml", atomically: true, encoding: .utf8)
        let output = folder + "/output.txt"
        let child = try E2E.spawn(binary, ["deploy", "--inventory", folder + "/shop.yml", "v2"], output: output)
        let status = await child.exitStatus()
        let history = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/.fleet/history/shop")) ?? []
        return (status, E2E.read(output), history)
    }

    @Test func badAnswersAreWarningsAndTheDeployKeepsItsExitCode() async throws {
        let receiver = try BadAnswerReceiver()
        defer { receiver.stop() }
        let good = try await deploy(webhooks: [receiver.url + "/ok"])
        #expect(good.status == 4, "an unreachable host's deploy: \(good.output)")
        #expect(!good.output.contains("not delivered"), "\(good.output)")

        let urls = [receiver.url + "/content-length-minus-one", receiver.url + "/chunk-overflow"]
        let bad = try await deploy(webhooks: urls)
        #expect(bad.status == good.status, "fleet ended with \(bad.status), not the deploy's \(good.status): \(bad.output)")
        let endpoint = "http://127.0.0.1:\(receiver.port)/..."
        for event in ["deploy started", "deploy finished"] {
            #expect(bad.output.contains("warning: webhook 1 of 2 (\(event)) not delivered: \(endpoint): "
                + "unusable answer: Content-Length \"-1\" is not a byte count"), "\(bad.output)")
            #expect(bad.output.contains("warning: webhook 2 of 2 (\(event)) not delivered: \(endpoint): "
                + "unusable answer: a chunk of 0x7fffffffffffffff bytes"), "\(bad.output)")
        }
        #expect(bad.output.contains("== deploy v2 of demo"), "the recap: \(bad.output)")
        #expect(bad.history.count == 1, "the run's record: \(bad.history)")
        // Both receivers were told twice (start and finish).
        let paths = receiver.paths()
        #expect(paths.filter { $0 == "/content-length-minus-one" }.count == 2 && paths.filter { $0 == "/chunk-overflow" }.count == 2,
                "\(paths)")
    }
}

/// The same on the lab: a deploy that works ends with 0 despite both webhooks, and its record is written. (In
/// the same serialized suite as the other rolling deploys of the demo app: they share the lab's hosts.)
extension DeployE2ETests {
    @Test func aGoodDeployStaysGoodWhateverItsWebhooksAnswer() async throws {
        let binary = try #require(E2E.fleetBinary(), "no fleet binary beside the tests (swift build)")
        let receiver = try BadAnswerReceiver()
        defer { receiver.stop() }
        let urls = [receiver.url + "/content-length-minus-one", receiver.url + "/chunk-overflow"]
        let inventory = try E2E.inventory(hosts: 1, extra: "notify:\n  webhooks: [\(urls.joined(separator: ", "))]\n")
        let folder = (inventory as NSString).deletingLastPathComponent
        let output = folder + "/output.txt"
        let child = try E2E.spawn(binary, ["deploy", "--inventory", inventory, "--progress", "plain", "v2"], output: output)
        let status = await child.exitStatus()
        let text = E2E.read(output)
        #expect(status == 0, "\(text)")
        #expect(text.contains("webhook 1 of 2 (deploy started) not delivered: http://127.0.0.1:\(receiver.port)/...: unusable answer: Content-Length \"-1\""), "\(text)")
        #expect(text.contains("webhook 2 of 2 (deploy finished) not delivered: http://127.0.0.1:\(receiver.port)/...: unusable answer: a chunk of 0x7fffffffffffffff"), "\(text)")
        let history = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/.fleet/history/e2e")) ?? []
        #expect(history.count == 1, "\(history)")
        #expect(await E2E.serving(1) == "v2")
    }
}
