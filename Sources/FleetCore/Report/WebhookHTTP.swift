import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A failed delivery of metrics or of a notification. Its message names the endpoint without the parts of
/// the URL that may be secret (user, password, path, query), what happened, and what to do.
public struct DeliveryError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The one HTTP client of the report: a POST (or PUT) with a body and a hard timeout, through URLSession
/// (FoundationNetworking on Linux), no cookies, no cache, no proxy.
public enum HTTPPost {
    public struct Response: Sendable {
        public var status: Int
        public var body: Data
    }

    /// Sends `body` to `url`; throws `DeliveryError` on a bad URL, a transport error, or the timeout.
    /// A non-2xx status is returned, not thrown.
    public static func send(_ body: Data, to url: String, method: String = "POST", contentType: String,
                            timeout: Double) async throws -> Response {
        guard let target = checkedURL(url) else {
            throw DeliveryError("\(redact(url)) is not an http:// or https:// URL")
        }
        var request = URLRequest(url: target, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = method
        request.httpBody = body
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.setValue("fleet", forHTTPHeaderField: "User-Agent")
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = timeout
        config.httpShouldSetCookies = false
        config.connectionProxyDictionary = [:]
        config.urlCache = nil
        let session = URLSession(configuration: config)
        defer { session.finishTasksAndInvalidate() }
        do {
            let (data, response) = try await transfer(session: session, request: request, deadline: timeout + 1, reported: timeout)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            return Response(status: status, body: data)
        } catch let error as DeliveryError {
            throw DeliveryError("\(redact(url)): \(error.message)")
        } catch let error as URLError where error.code == .timedOut {
            throw DeliveryError("\(redact(url)): no answer within \(MetricsText.number(timeout)) s")
        } catch {
            throw DeliveryError("\(redact(url)): \(describe(error))")
        }
    }

    /// A data task with a completion handler (URLSession's async API can hang on Linux), resumed exactly once:
    /// by the task, or by the deadline, which also cancels the task. Never blocks a thread of the pool.
    static func transfer(session: URLSession, request: URLRequest, deadline: Double, reported: Double) async throws -> (Data, URLResponse?) {
        let once = Once()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Data, URLResponse?), Error>) in
            let task = session.dataTask(with: request) { data, response, error in
                guard once.claim() else { return }
                if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: (data ?? Data(), response)) }
            }
            task.resume()
            DispatchQueue.global().asyncAfter(deadline: .now() + deadline) {
                guard once.claim() else { return }
                task.cancel()
                continuation.resume(throwing: DeliveryError("no answer within \(MetricsText.number(reported)) s"))
            }
        }
    }

    final class Once: @unchecked Sendable {
        private let lock = NSLock()
        private var done = false
        func claim() -> Bool {
            lock.lock()
            defer { lock.unlock() }
            if done { return false }
            done = true
            return true
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

    static func describe(_ error: Error) -> String {
        if let e = error as? URLError {
            switch e.code {
            case .cannotConnectToHost: return "connection refused (is it running and listening there?)"
            case .cannotFindHost, .dnsLookupFailed: return "host name not found"
            case .notConnectedToInternet, .networkConnectionLost: return "network error (\(e.code.rawValue))"
            case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate:
                return "TLS handshake failed (certificate?)"
            default: return "transfer failed (URLError \(e.code.rawValue))"
            }
        }
        return "transfer failed (\(type(of: error)))"
    }

    /// First line of a response body, short and printable, for an error message.
    static func snippet(_ data: Data) -> String {
        let text = String(decoding: data.prefix(300), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return String(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.prefix(160).map(Character.init))
    }
}
