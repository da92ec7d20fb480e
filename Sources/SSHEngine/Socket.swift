import CLibSSH2
import Foundation

/// A monotonic deadline, in nanoseconds of `CLOCK_MONOTONIC`.
struct Deadline: Sendable {
    let nanos: UInt64

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func after(_ duration: Duration) -> Deadline {
        let (seconds, attos) = duration.components
        let nanos = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attos) / 1_000_000_000)
        return Deadline(nanos: now() &+ nanos)
    }

    static let never = Deadline(nanos: .max)

    /// Milliseconds left, capped for use as a `poll(2)` timeout; 0 once passed.
    func remainingMillis(cap: Int32 = 60_000) -> Int32 {
        let current = Deadline.now()
        if current >= nanos { return 0 }
        return Int32(min(UInt64(cap), (nanos - current) / 1_000_000 + 1))
    }

    var passed: Bool { Deadline.now() >= nanos }
}

/// fleet's one TCP connector, for SSH sessions and HTTP posts alike: a non-blocking connection to host:port
/// (IPv4, IPv6 or a name) within a deadline, each address in turn, woken early through `wakeFD` (-1: none).
public enum TCPConnector {
    /// Why no connection was made, before a protocol says it in its own terms.
    public enum Failure: Error, Equatable {
        case resolve(String)
        case timedOut
        /// No descriptor or buffer for a socket (errno, what failed).
        case resources(Int32, String)
        /// Every address refused or failed: the last one's errno and reason.
        case failed(Int32, String)
        case cancelled
    }

    /// The connected socket (non-blocking, close-on-exec, TCP_NODELAY) within `timeout`.
    public static func open(host: String, port: Int, timeout: Duration, wakeFD: Int32 = -1) throws(Failure) -> Int32 {
        try open(host: host, port: port, deadline: Deadline.after(timeout), wakeFD: wakeFD)
    }

    static func open(host: String, port: Int, deadline: Deadline, wakeFD: Int32) throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        if rc != 0 || list == nil { throw .resolve(String(cString: gai_strerror(rc))) }
        defer { freeaddrinfo(list) }
        var last = Failure.failed(0, "no address")
        var entry = list
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 {
                let code = errno
                if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM { throw .resources(code, "cannot open a socket") }
                last = .failed(code, String(cString: strerror(code)))
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if CLibSSH2.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            let code = errno
            guard code == EINPROGRESS else {
                last = .failed(code, String(cString: strerror(code)))
                close(fd)
                continue
            }
            let ready: Bool
            do {
                ready = try Poller.wait(fd: fd, events: Int16(POLLOUT), deadline: deadline, wakeFD: wakeFD, name: host)
            } catch {
                close(fd)
                throw error.kind == .cancelled ? .cancelled : .failed(0, error.message)
            }
            guard ready else {
                close(fd)
                throw .timedOut
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 { return fd }
            last = .failed(soError, String(cString: strerror(soError)))
            close(fd)
        }
        throw last
    }

    /// For an SSH session: the failure said as an `SSHError` naming the host, with what to check.
    static func connect(host: String, port: Int, deadline: Deadline, wakeFD: Int32, name: String) throws -> Int32 {
        do {
            return try open(host: host, port: port, deadline: deadline, wakeFD: wakeFD)
        } catch {
            switch error {
            case .resolve(let reason):
                throw SSHError(.resolve, host: name, "cannot resolve \(host): \(reason)", hint: "Check the address in the inventory, or the machine's DNS.")
            case .timedOut:
                throw SSHError(.connectTimeout, host: name, "connection to \(host) port \(port) timed out",
                               hint: "Is the host up and is sshd listening on port \(port)? Check firewalls, or raise ssh.connect_timeout.")
            case .resources(let code, let what):
                throw SSHError.resources(host: name, what, errno: code)
            case .failed(_, let reason):
                throw SSHError(.connect, host: name, "cannot connect to \(host) port \(port): \(reason)",
                               hint: "Is the host up and is sshd listening on port \(port)?")
            case .cancelled:
                throw SSHError(.cancelled, host: name, "cancelled")
            }
        }
    }
}

/// `poll(2)` on one socket plus the connection's wake-up descriptor (written on cancellation).
enum Poller {
    /// Returns true when the socket is ready, false when the deadline passed; throws when woken (cancelled).
    static func wait(fd: Int32, events: Int16, deadline: Deadline, wakeFD: Int32, name: String) throws(SSHError) -> Bool {
        while true {
            let timeout = deadline.remainingMillis()
            if timeout == 0 && deadline.passed { return false }
            var fds = [pollfd(fd: fd, events: events, revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, 2, timeout)
            if n < 0 {
                if errno == EINTR { continue }
                throw SSHError(.protocolError, host: name, "poll failed: \(String(cString: strerror(errno)))")
            }
            if fds[1].revents != 0 {
                throw SSHError(.cancelled, host: name, "cancelled")
            }
            if fds[0].revents != 0 { return true }
            if deadline.passed { return false }
        }
    }
}
