import Foundation
import TestSupport
import Testing
@testable import FleetCore

/// A webhook receiver on 127.0.0.1 (python3's http.server, started and stopped by the test, by pid): it
/// records every request's path and body; `/fail` answers 500, `/slow` answers after 20 s.
final class Receiver: @unchecked Sendable {
    private var server: PythonServer!
    let dir: String
    var port: Int { server.port }

    static let script = #"""
    import http.server, threading, json, os, sys, time
    out = sys.argv[1]
    # One request at a time counts and writes: concurrent requests must not share a file name.
    lock = threading.Lock()
    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                n = len(os.listdir(out))
                with open(os.path.join(out, "%04d.json" % n), "w") as f:
                    json.dump({"path": self.path, "type": self.headers.get("Content-Type"), "body": body.decode()}, f)
            if self.path == "/slow":
                time.sleep(20)
            code = 500 if self.path == "/fail" else 200
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"no thanks\n" if code == 500 else b"ok\n")
        def log_message(self, *a):
            pass
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    s.daemon_threads = True
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """#

    init() throws {
        dir = NSTemporaryDirectory() + "fleet-notify-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir + "/bodies", withIntermediateDirectories: true)
        server = try PythonServer(script: Self.script, dir: dir, arguments: [dir + "/bodies"], failure: "the receiver did not start")
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The requests received so far, in order.
    func requests() -> [(path: String, type: String, body: String)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/bodies")) ?? []).sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: dir + "/bodies/" + name),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return (object["path"] as? String ?? "", object["type"] as? String ?? "", object["body"] as? String ?? "")
        }
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite("Webhook notifications to a local receiver", .serialized)
struct NotifyTests {
    static let secrets = ["postgres://u:s3cr3t-db-pass@db/shop", "hunter2-very-secret"]

    /// A failed deploy whose app printed a secret into the lines the report keeps.
    static var leakyReport: RunReport {
        var report = SampleReports.failedDeploy
        report.hosts[1].lastLines.append("connecting to postgres://u:s3cr3t-db-pass@db/shop failed")
        report.hosts[1].error = "app exited: SECRET_KEY=hunter2-very-secret is invalid"
        return report
    }

    @Test func jsonStartAndFinish() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let start = RunStart(runId: "r1", command: "deploy", app: "shop", environment: "production",
                             image: "registry.example.com/acme/shop", version: "v42", who: "alice@laptop",
                             startedAt: "2026-11-27T10:45:00Z", hosts: ["web1", "web2"])
        #expect(await Notifier.send(event: .started(start), to: [receiver.url + "/a"], format: .json, redacting: Self.secrets).isEmpty)
        #expect(await Notifier.send(event: .finished(Self.leakyReport), to: [receiver.url + "/a"], format: .json, redacting: Self.secrets).isEmpty)
        let got = receiver.requests()
        try #require(got.count == 2)
        #expect(got.allSatisfy { $0.type == "application/json" && $0.path == "/a" })
        let first = try JSONSerialization.jsonObject(with: Data(got[0].body.utf8)) as? [String: Any]
        #expect(first?["event"] as? String == "started")
        #expect((first?["start"] as? [String: Any])?["hosts"] as? [String] == ["web1", "web2"])
        let second = try JSONSerialization.jsonObject(with: Data(got[1].body.utf8)) as? [String: Any]
        #expect(second?["event"] as? String == "finished")
        let report = try RunReport.decode(try JSONSerialization.data(withJSONObject: second?["report"] ?? [:]))
        #expect(report.exitCode == 1)
        #expect(report.hosts[1].error == "app exited: SECRET_KEY=[hidden] is invalid")
        for request in got { for secret in Self.secrets { #expect(!request.body.contains(secret)) } }
        #expect(!got[1].body.contains("s3cr3t"))
    }

    @Test func slackTextIsTheRecap() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        #expect(await Notifier.send(event: .finished(Self.leakyReport), to: [receiver.url + "/slack"], format: .slack, redacting: Self.secrets).isEmpty)
        let got = receiver.requests()
        try #require(got.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data(got[0].body.utf8)) as? [String: Any]
        #expect(object?.keys.sorted() == ["text"])
        let text = try #require(object?["text"] as? String)
        #expect(text.hasPrefix("fleet deploy of shop v42 to production FAILED (exit 1) in 84.2 s"))
        #expect(text.contains("hosts: 1 ok, 1 failed, 1 skipped, 1 unreachable, 1 not started"))
        #expect(text.contains("failed: web2 (deploy, exit 11): app exited: SECRET_KEY=[hidden] is invalid; serves v41"))
        #expect(text.contains("unreachable: web4 (connect): connection refused"))
        #expect(text.contains("not started: web5"))
        for secret in Self.secrets { #expect(!text.contains(secret)) }
        #expect(!got[0].body.contains("hunter2"))
    }

    /// Every URL gets the event; a refused connection, a 500 and a receiver that never answers each give a
    /// warning (within the 5 s timeout) without any URL path in it, and the good receiver still got its copy.
    @Test func failuresAreWarnings() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let started = Date()
        let warnings = await Notifier.send(
            event: .finished(SampleReports.goodRollback),
            to: ["http://127.0.0.1:9/T0/SECRETPATH", receiver.url + "/fail", receiver.url + "/slow", receiver.url + "/ok"],
            format: .slack)
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 30, "took \(elapsed) s")  // generous: 2 shared cores; a hang is forever
        #expect(warnings.count == 3)
        #expect(warnings.first?.hasPrefix("warning: webhook 1 of 4 (rollback finished) not delivered: http://127.0.0.1:9/...") == true)
        #expect(warnings.contains { $0.contains("webhook 2 of 4") && $0.contains("answered HTTP 500: no thanks") })
        #expect(warnings.contains { $0.contains("webhook 3 of 4") && $0.contains("no answer within 5 s") })
        #expect(warnings.allSatisfy { !$0.contains("SECRETPATH") && !$0.contains("/slow") })
        // The receiver may log a request just after it answered it: give its log a moment under load.
        for _ in 0..<100 where receiver.requests().count < 3 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(receiver.requests().map(\.path).sorted() == ["/fail", "/ok", "/slow"])
    }

    @Test func startTextAndSlackEscaping() {
        let start = RunStart(runId: "r2", command: "rollback", app: "shop", environment: "staging", image: "i", version: nil,
                             who: "ci<bot>", startedAt: "t", hosts: ["web1"])
        #expect(NotifyText.text(.started(start))
            == "fleet rollback of shop to the previous release to staging started by ci&lt;bot&gt; (run r2): 1 host: web1")
    }
}
