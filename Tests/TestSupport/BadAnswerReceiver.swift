import Foundation

/// An HTTP receiver on 127.0.0.1 that reads each request whole, logs its path, and answers with the raw bytes
/// its path starts with: well-formed (`/ok`, and any other path), or one of the answers fleet must refuse
/// (`cases`), some of them endless. A python3 script the test starts and stops by pid.
public final class BadAnswerReceiver: @unchecked Sendable {
    /// Each bad answer's path, and what the warning must say about it.
    public static let cases: [(path: String, says: String)] = [
        ("/content-length-minus-one", "unusable answer: Content-Length \"-1\" is not a byte count"),
        ("/content-length-huge", "unusable answer: Content-Length 99999999999999999999 is over the 1048576 bytes"),
        ("/content-length-text", "unusable answer: Content-Length \"twelve\" is not a byte count"),
        ("/chunk-overflow", "unusable answer: a chunk of 0x7fffffffffffffff bytes takes the body past the 1048576 bytes"),
        ("/endless-headers", "unusable answer: the answer's headers go on past 65536 bytes"),
        ("/endless-body", "unusable answer: the answer's body goes on past the 1048576 bytes"),
        ("/closed-mid-chunk", "unusable answer: the server closed the connection in the middle of the chunked body"),
    ]

    static let script = #"""
    import os, socketserver, sys, threading
    out = sys.argv[1]
    lock = threading.Lock()
    OK = b"HTTP/1.1 200 OK\r\n"
    ANSWERS = {
        "/ok": OK + b"Content-Length: 3\r\n\r\nok\n",
        "/content-length-minus-one": OK + b"Content-Length: -1\r\n\r\nok",
        "/content-length-huge": OK + b"Content-Length: 99999999999999999999\r\n\r\nok",
        "/content-length-text": OK + b"Content-Length: twelve\r\n\r\nok",
        "/chunk-overflow": OK + b"Transfer-Encoding: chunked\r\n\r\n7fffffffffffffff\r\nok\r\n",
        "/closed-mid-chunk": OK + b"Transfer-Encoding: chunked\r\n\r\n10\r\nonly8byt",
    }
    # Sent again and again until the client hangs up.
    ENDLESS = {"/endless-headers": (OK, b"X-Filler: " + b"a" * 90 + b"\r\n"), "/endless-body": (OK + b"\r\n", b"x" * 65536)}
    class H(socketserver.BaseRequestHandler):
        def handle(self):
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            path = lines[0].split(b" ")[1].decode()
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(body) < length:
                chunk = self.request.recv(65536)
                if not chunk:
                    break
                body += chunk
            with lock:
                n = len(os.listdir(out))
                with open(os.path.join(out, "%04d" % n), "w") as f:
                    f.write(path)
            # A path that starts with a case's path (a Pushgateway's URL goes on with /metrics/job/...) is that case.
            key = next((k for k in list(ANSWERS) + list(ENDLESS) if k != "/ok" and path.startswith(k)), "/ok")
            try:
                if key in ENDLESS:
                    first, again = ENDLESS[key]
                    self.request.sendall(first)
                    while True:
                        self.request.sendall(again)
                else:
                    self.request.sendall(ANSWERS[key])
            except OSError:
                pass
    socketserver.ThreadingTCPServer.daemon_threads = True
    s = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
    print(s.server_address[1], flush=True)
    s.serve_forever()
    """#

    private let server: PythonServer
    public let dir: String
    public var port: Int { server.port }
    public var url: String { "http://127.0.0.1:\(port)" }

    public init() throws {
        dir = NSTemporaryDirectory() + "fleet-bad-answers-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir + "/requests", withIntermediateDirectories: true)
        server = try PythonServer(script: Self.script, dir: dir, arguments: [dir + "/requests"], failure: "the bad-answer receiver did not start")
    }

    /// The paths of the requests received so far, in order.
    public func paths() -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/requests")) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: dir + "/requests/" + $0, encoding: .utf8) }
    }

    public func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
