import Foundation

/// One HTTP/1.1 request and its answer over a fresh connection (`Connection: close`): no proxy, no redirect
/// followed, no cookie, no cache. The answer's body is kept up to `maxBody` bytes (the callers keep a line).
struct HTTPExchange: Sendable {
    var method: String
    var host: String
    var port: Int
    var secure: Bool
    /// Path and query as sent (percent-encoded), at least `/`.
    var target: String
    var headers: [(String, String)]
    var body: [UInt8]

    static let maxHeader = 65_536
    static let maxBody = 1 << 20

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
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(timeout * 1000)))
        let connection = try HTTPConnection.open(host: host, port: port, trust: secure ? trust : nil,
                                                 environment: environment, deadline: deadline)
        try connection.write(request)
        var received: [UInt8] = []
        while true {
            if let answer = try Self.parse(received, final: false) { return answer }
            let chunk = try connection.read()
            if chunk.isEmpty { break }
            received += chunk
            if received.count > Self.maxHeader + Self.maxBody { break }
        }
        guard let answer = try Self.parse(received, final: true) else {
            throw HTTPFailure.protocolError(received.isEmpty ? "the server closed the connection without an answer" : "incomplete answer")
        }
        return answer
    }

    /// The answer once it is complete (`final`: the connection ended, so whatever body arrived is the body);
    /// nil while more is needed. Interim 1xx answers are skipped.
    static func parse(_ bytes: [UInt8], final: Bool) throws -> HTTPPost.Response? {
        var start = 0
        while true {
            guard let end = headerEnd(bytes, from: start) else {
                if bytes.count - start > maxHeader { throw HTTPFailure.protocolError("answer headers over \(maxHeader) bytes") }
                return nil
            }
            let head = String(decoding: bytes[start..<end], as: UTF8.self)
            let lines = head.components(separatedBy: "\r\n")
            let words = lines[0].split(separator: " ", maxSplits: 2)
            guard words.count >= 2, words[0].hasPrefix("HTTP/1."), let status = Int(words[1]), (100...999).contains(status) else {
                throw HTTPFailure.protocolError("not an HTTP/1.x answer")
            }
            let bodyStart = end + 4
            if (100..<200).contains(status) { start = bodyStart; continue }
            var length: Int?
            var chunked = false
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if name == "content-length" { length = Int(value) }
                if name == "transfer-encoding" && value.lowercased().contains("chunked") { chunked = true }
            }
            let rest = Array(bytes[min(bodyStart, bytes.count)...])
            if chunked {
                guard let body = dechunk(rest) else { return final ? HTTPPost.Response(status: status, body: Data(rest.prefix(maxBody))) : nil }
                return HTTPPost.Response(status: status, body: Data(body.prefix(maxBody)))
            }
            if let length, !chunked {
                if rest.count >= length || rest.count >= maxBody { return HTTPPost.Response(status: status, body: Data(rest.prefix(min(length, maxBody)))) }
                return final ? HTTPPost.Response(status: status, body: Data(rest)) : nil
            }
            if status == 204 || status == 304 { return HTTPPost.Response(status: status, body: Data()) }
            return final ? HTTPPost.Response(status: status, body: Data(rest.prefix(maxBody))) : nil
        }
    }

    static func headerEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= start + 4 else { return nil }
        for i in start...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// A chunked body decoded, or nil while its last chunk has not arrived.
    static func dechunk(_ bytes: [UInt8]) -> [UInt8]? {
        var body: [UInt8] = []
        var i = 0
        while true {
            guard let lineEnd = (i..<max(i, bytes.count - 1)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }) else { return nil }
            let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else { return nil }
            if size == 0 { return body }
            let from = lineEnd + 2
            guard bytes.count >= from + size + 2 else { return nil }
            body += bytes[from..<(from + size)]
            i = from + size + 2
        }
    }
}
