import Foundation

/// One HTTP/1.1 request and its answer over a fresh connection (`Connection: close`): no proxy, no redirect
/// followed, no cookie, no cache. The answer is read by `HTTPResponseParser` (at most 1 MiB of body kept).
struct HTTPExchange: Sendable {
    var method: String
    var host: String
    var port: Int
    var secure: Bool
    /// Path and query as sent (percent-encoded), at least `/`.
    var target: String
    var headers: [(String, String)]
    var body: [UInt8]

    /// From an http(s) URL (`HTTPPost.checkedURL` already accepted it); user info becomes Basic authentication.
    init?(method: String, url: URL, contentType: String, body: [UInt8]) {
        guard let c = URLComponents(url: url, resolvingAgainstBaseURL: false), let scheme = c.scheme?.lowercased(),
              let host = c.host, !host.isEmpty else { return nil }
        self.method = method
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        secure = scheme == "https"
        port = c.port ?? (secure ? 443 : 80)
        let path = c.percentEncodedPath.isEmpty ? "/" : c.percentEncodedPath
        target = path + (c.percentEncodedQuery.map { "?" + $0 } ?? "")
        let named = self.host.contains(":") ? "[\(self.host)]" : self.host
        let defaultPort = c.port == nil || c.port == (secure ? 443 : 80)
        headers = [("Host", defaultPort ? named : "\(named):\(port)"), ("User-Agent", "fleet/\(FleetVersion.current)"),
                   ("Content-Type", contentType), ("Content-Length", String(body.count)), ("Connection", "close")]
        if let user = c.user {
            let secret = Data((user + ":" + (c.password ?? "")).utf8).base64EncodedString()
            headers.append(("Authorization", "Basic " + secret))
        }
        self.body = body
    }

    var request: [UInt8] {
        var head = "\(method) \(target) HTTP/1.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    /// Connects, sends, reads the answer; every step within `timeout` seconds in all.
    func perform(timeout: Double, trust: TLSTrust, environment: [String: String]) throws -> HTTPPost.Response {
        // A day at most (and 0 for a negative or NaN timeout), so the milliseconds always fit an Int64.
        let millis = timeout > 0 ? Int64(min(timeout, 86_400) * 1000) : 0
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(millis))
        let connection = try HTTPConnection.open(host: host, port: port, trust: secure ? trust : nil,
                                                 environment: environment, deadline: deadline)
        try connection.write(request)
        var parser = HTTPResponseParser()
        while true {
            let bytes = try connection.read()
            do {
                if bytes.isEmpty { return try parser.finish() }
                if let answer = try parser.feed(bytes) { return answer }
            } catch {
                throw HTTPFailure.answer(error)
            }
        }
    }
}
