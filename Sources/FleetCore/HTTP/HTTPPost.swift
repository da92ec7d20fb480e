import Foundation
import SSHEngine

/// A failed delivery of metrics or of a notification. Its message names the endpoint without the parts of
/// the URL that may be secret (user, password, path, query), what happened, and what to do.
public struct DeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The one HTTP client of the report: a POST (or PUT) with a body and a hard timeout, over a socket of its own
/// (`HTTPExchange`: HTTP/1.1, TLS through OpenSSL for https, certificates checked against `trust`), no proxy,
/// no redirect, no cookie, no cache. The exchange runs on a thread of its own, never on Swift's pool.
public enum HTTPPost {
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
    }

    /// Sends `body` to `url`; throws `DeliveryError` on a bad URL, a transport error, or the timeout.
    /// A non-2xx status is returned, not thrown. https certificates must chain to `trust` (the system's CA
    /// bundle by default, see `TLSTrust`) and name the URL's host.
    public static func send(_ body: Data, to url: String, method: String = "POST", contentType: String,
                            timeout: Double, trust: TLSTrust = .system) async throws -> Response {
        guard let target = checkedURL(url),
              let exchange = HTTPExchange(method: method, url: target, contentType: contentType, body: Array(body)) else {
            throw DeliveryError("\(redact(url)) is not an http:// or https:// URL")
        }
        let environment = ProcessInfo.processInfo.environment
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, Error>) in
                do {
                    // The exchange blocks (connect, TLS, read): a thread of its own, never Swift's pool.
                    try DetachedThread.start {
                        do {
                            continuation.resume(returning: try exchange.perform(timeout: timeout, trust: trust, environment: environment))
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        } catch let failure as ThreadStartError {
            throw DeliveryError("\(redact(url)): \(failure.description)")
        } catch let failure as HTTPFailure {
            throw DeliveryError("\(redact(url)): \(describe(failure, timeout: timeout))")
        }
    }

    /// The URL when it is absolute http(s) with a host; nil otherwise.
    public static func checkedURL(_ text: String) -> URL? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
              let url = components.url else { return nil }
        return url
    }

    /// `scheme://host[:port]` only: paths of webhook URLs (Slack's, for one) and user info are secrets.
    public static func redact(_ text: String) -> String {
        guard let c = URLComponents(string: text), let scheme = c.scheme, let host = c.host, !host.isEmpty else {
            return "a URL that is not http(s)://HOST/..."
        }
        let port = c.port.map { ":\($0)" } ?? ""
        let hidden = (c.path.isEmpty || c.path == "/") && c.query == nil && c.user == nil ? "" : "/..."
        return "\(scheme)://\(host)\(port)\(hidden)"
    }

    static func describe(_ failure: HTTPFailure, timeout: Double) -> String {
        switch failure {
        case .timeout: return "no answer within \(MetricsText.number(timeout)) s"
        case .refused: return "connection refused (is it running and listening there?)"
        case .resolve(let why): return "host name not found (\(why))"
        case .network(let why): return "network error (\(why))"
        case .tls(let why): return "TLS failed: \(why)"
        case .answer(let why): return "unusable answer: \(why)"
        }
    }

    /// First line of a response body, short and printable, for an error message.
    static func snippet(_ data: Data) -> String {
        let text = String(decoding: data.prefix(300), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return String(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.prefix(160).map(Character.init))
    }
}
