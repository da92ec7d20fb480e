import Foundation
import TestSupport
import Testing
@testable import FleetCore

/// An https receiver on 127.0.0.1 (python3's http.server behind its ssl module, started and stopped by the test,
/// by pid) with a self-signed certificate made by `openssl req` for the name `localhost` only. It records each
/// request's path, Authorization header and body.
final class TLSReceiver: @unchecked Sendable {
    private var server: PythonServer!
    let dir: String
    var port: Int { server.port }
    var certificate: String { dir + "/cert.pem" }

    static let script = #"""
    import http.server, threading, json, os, ssl, sys
    out, cert, key = sys.argv[1:4]
    # One request at a time counts and writes: concurrent requests must not share a file name.
    lock = threading.Lock()
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                n = len(os.listdir(out))
                with open(os.path.join(out, "%04d.json" % n), "w") as f:
                    json.dump({"path": self.path, "auth": self.headers.get("Authorization"), "body": body.decode()}, f)
            answer = b"stored\n"
            self.send_response(202)
            if self.path == "/chunked":
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"3\r\nsto\r\n4\r\nred\n\r\n0\r\n\r\n")
            else:
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
        def log_message(self, *a):
            pass
    s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    s.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    s.socket = context.wrap_socket(s.socket, server_side=True)
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """#

    init() throws {
        dir = NSTemporaryDirectory() + "fleet-https-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir + "/bodies", withIntermediateDirectories: true)
        let made = runTool("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                                "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                                                "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"])
        guard made.status == 0 else { throw DeliveryError("openssl req failed: \(made.output)") }
        server = try PythonServer(script: Self.script, dir: dir, arguments: [dir + "/bodies", dir + "/cert.pem", dir + "/key.pem"], failure: "the https receiver did not start")
    }

    func requests() -> [[String: String]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/bodies")) ?? []).sorted()
        return names.compactMap { name in
            FileManager.default.contents(atPath: dir + "/bodies/" + name)
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
                .map { $0.compactMapValues { $0 as? String } }
        }
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

/// Runs a tool and returns its exit status and output (short outputs only).
private func runTool(_ tool: String, _ arguments: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("https posts: TLS through OpenSSL, certificates verified", .serialized)
struct HTTPSTests {
    /// Trusting the receiver's own certificate, a post to https://localhost arrives whole, with the URL's user
    /// info as Basic authentication; a chunked answer is read too.
    @Test func trustedCertificateDelivers() async throws {
        let receiver = try TLSReceiver()
        defer { receiver.stop() }
        let url = "https://fleet:s3cret@localhost:\(receiver.port)/hooks/T0?x=1"
        let answer = try await HTTPPost.send(Data("{\"event\":\"started\"}".utf8), to: url, contentType: "application/json",
                                             timeout: 5, trust: .file(receiver.certificate))
        #expect(answer.status == 202)
        #expect(String(decoding: answer.body, as: UTF8.self) == "stored\n")
        let chunked = try await HTTPPost.send(Data("x".utf8), to: "https://localhost:\(receiver.port)/chunked",
                                              contentType: "text/plain", timeout: 5, trust: .file(receiver.certificate))
        #expect(chunked.status == 202 && String(decoding: chunked.body, as: UTF8.self) == "stored\n")
        let got = receiver.requests()
        try #require(got.count == 2)
        #expect(got[0]["path"] == "/hooks/T0?x=1" && got[0]["body"] == "{\"event\":\"started\"}")
        #expect(got[0]["auth"] == "Basic " + Data("fleet:s3cret".utf8).base64EncodedString())
    }

    /// By default only the system's CA bundle is trusted: a self-signed certificate is refused, and the error
    /// names neither the URL's path nor its user info.
    @Test func selfSignedRefusedByDefault() async throws {
        let receiver = try TLSReceiver()
        defer { receiver.stop() }
        do {
            _ = try await HTTPPost.send(Data(), to: "https://u:pw@localhost:\(receiver.port)/SECRETPATH", contentType: "text/plain",
                                        timeout: 5, trust: .system)
            Issue.record("a self-signed certificate was accepted")
        } catch let error as DeliveryError {
            #expect(error.message.hasPrefix("https://localhost:\(receiver.port)/...: TLS failed: certificate not trusted"), "\(error)")
            #expect(!error.message.contains("SECRETPATH") && !error.message.contains("pw"))
        }
        #expect(receiver.requests().isEmpty)
    }

    /// The certificate must name the host of the URL: it names localhost, so 127.0.0.1 is refused.
    @Test func certificateForAnotherNameRefused() async throws {
        let receiver = try TLSReceiver()
        defer { receiver.stop() }
        do {
            _ = try await HTTPPost.send(Data(), to: "https://127.0.0.1:\(receiver.port)/", contentType: "text/plain",
                                        timeout: 5, trust: .file(receiver.certificate))
            Issue.record("a certificate for localhost was accepted for 127.0.0.1")
        } catch let error as DeliveryError {
            #expect(error.message.contains("certificate not trusted") && error.message.contains("mismatch"), "\(error)")
        }
    }

    /// A plain http server on the https port: a TLS error within the timeout, not a hang.
    @Test func notTLSThere() async throws {
        let receiver = try Receiver()
        defer { receiver.stop() }
        let started = Date()
        do {
            _ = try await HTTPPost.send(Data(), to: "https://127.0.0.1:\(receiver.port)/", contentType: "text/plain", timeout: 3)
            Issue.record("an http server passed for https")
        } catch let error as DeliveryError {
            #expect(error.message.contains("TLS failed") || error.message.contains("no answer within 3 s"), "\(error)")
        }
        #expect(Date().timeIntervalSince(started) < 30)  // generous: a hang is forever; 2 shared cores
    }
}
