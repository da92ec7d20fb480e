import CFleetTLS
import Foundation
import SSHEngine

/// One TCP connection (TLS on top for https), non-blocking, every wait bounded by one deadline.
final class HTTPConnection {
    private let fd: Int32
    private var tls: OpaquePointer?
    private let deadline: ContinuousClock.Instant

    private init(fd: Int32, deadline: ContinuousClock.Instant) {
        self.fd = fd
        self.deadline = deadline
    }

    deinit {
        if let tls { fleet_tls_free(tls) }
        _ = Glibc.close(fd)
    }

    /// Connects to host:port (and shakes hands when `trust` is given), within the deadline.
    static func open(host: String, port: Int, trust: TLSTrust?, environment: [String: String],
                     deadline: ContinuousClock.Instant) throws -> HTTPConnection {
        let connection = HTTPConnection(fd: try connect(host: host, port: port, deadline: deadline), deadline: deadline)
        if let trust {
            let (file, dir) = try trust.locations(environment: environment)
            var error = [CChar](repeating: 0, count: 256)
            guard let tls = fleet_tls_client(connection.fd, host, file, dir, &error, error.count) else {
                throw HTTPFailure.tls(Self.text(error))
            }
            connection.tls = tls
            while true {
                let rc = fleet_tls_handshake(tls)
                if rc == 1 { break }
                try connection.waitFor(rc)
            }
        }
        return connection
    }

    /// The socket, through fleet's one TCP connector (SSHEngine's), its failure said in HTTP's terms.
    private static func connect(host: String, port: Int, deadline: ContinuousClock.Instant) throws -> Int32 {
        let left = ContinuousClock.now.duration(to: deadline)
        guard left > .zero else { throw HTTPFailure.timeout }
        do {
            return try TCPConnector.open(host: host, port: port, timeout: left)
        } catch {
            switch error {
            case .resolve(let reason): throw HTTPFailure.resolve(reason)
            case .timedOut: throw HTTPFailure.timeout
            case .failed(let code, _) where code == ECONNREFUSED: throw HTTPFailure.refused
            case .failed(_, let reason), .resources(_, let reason): throw HTTPFailure.network(reason)
            case .cancelled: throw HTTPFailure.network("cancelled")
            }
        }
    }

    /// Waits until the socket is ready for `events`; throws `.timeout` once the deadline passed.
    private static func wait(fd: Int32, events: Int16, deadline: ContinuousClock.Instant) throws {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { throw HTTPFailure.timeout }
            // At most a minute per poll, so the milliseconds always fit.
            let wait = min(left, .seconds(60))
            let millis = Int32(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000 + 1)
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&entry, 1, millis)
            if n < 0 && errno != EINTR { throw HTTPFailure.network(String(cString: strerror(errno))) }
            if n > 0 { return }
        }
    }

    /// Polls for what a TLS call asked for, or throws its error.
    private func waitFor(_ rc: Int) throws {
        switch Int32(rc) {
        case FLEET_TLS_WANT_READ: try Self.wait(fd: fd, events: Int16(POLLIN), deadline: deadline)
        case FLEET_TLS_WANT_WRITE: try Self.wait(fd: fd, events: Int16(POLLOUT), deadline: deadline)
        default:
            var text = [CChar](repeating: 0, count: 256)
            if let tls { fleet_tls_last_error(tls, &text, text.count) }
            throw HTTPFailure.tls(Self.text(text))
        }
    }

    private func waitFor(_ rc: Int32) throws { try waitFor(Int(rc)) }

    /// A C string filled in by the TLS shim.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sends every byte.
    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n: Int = bytes[offset...].withUnsafeBytes { chunk in
                if let tls { return fleet_tls_write(tls, chunk.baseAddress, chunk.count) }
                return Glibc.send(fd, chunk.baseAddress, chunk.count, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { offset += n; continue }
            if tls != nil { try waitFor(n); continue }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                try Self.wait(fd: fd, events: Int16(POLLOUT), deadline: deadline)
            } else {
                throw HTTPFailure.network(String(cString: strerror(errno)))
            }
        }
    }

    /// Some bytes (at most `limit`), or an empty array once the server closed the connection.
    func read(limit: Int = 16_384) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: limit)
        while true {
            let n: Int = buffer.withUnsafeMutableBytes { space in
                if let tls { return fleet_tls_read(tls, space.baseAddress, space.count) }
                return Glibc.recv(fd, space.baseAddress, space.count, 0)
            }
            if n >= 0 { return Array(buffer.prefix(n)) }
            if tls != nil { try waitFor(n); continue }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                try Self.wait(fd: fd, events: Int16(POLLIN), deadline: deadline)
            } else {
                throw HTTPFailure.network(String(cString: strerror(errno)))
            }
        }
    }
}
