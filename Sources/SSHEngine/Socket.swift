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

/// Opens a non-blocking TCP connection to host:port (IPv4, IPv6 or a name), within the deadline.
enum TCPConnector {
    static func connect(host: String, port: Int, deadline: Deadline, wakeFD: Int32, name: String) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        if rc != 0 || list == nil {
            let reason = String(cString: gai_strerror(rc))
            throw SSHError(.resolve, host: name, "cannot resolve \(host): \(reason)",
                           hint: "Check the address in the inventory, or the machine's DNS.")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var timedOut = false
        var entry = list
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 {
                let code = errno
                if code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM {
                    throw SSHError.resources(host: name, "cannot open a socket", errno: code)
                }
                lastError = String(cString: strerror(code))
                continue
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let result = CLibSSH2.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen)
            if result == 0 { return fd }
            if errno != EINPROGRESS {
                lastError = String(cString: strerror(errno))
                close(fd)
                continue
            }
            do {
                let ready = try Poller.wait(fd: fd, events: Int16(POLLOUT), deadline: deadline, wakeFD: wakeFD, name: name)
                if !ready { timedOut = true; close(fd); break }
            } catch {
                close(fd)
                throw error
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 { return fd }
            lastError = String(cString: strerror(soError))
            close(fd)
        }
        if timedOut {
            throw SSHError(.connectTimeout, host: name, "connection to \(host) port \(port) timed out",
                           hint: "Is the host up and is sshd listening on port \(port)? Check firewalls, or raise ssh.connect_timeout.")
        }
        throw SSHError(.connect, host: name, "cannot connect to \(host) port \(port): \(lastError)",
                       hint: "Is the host up and is sshd listening on port \(port)?")
    }
}

/// `poll(2)` on one socket plus the connection's wake-up descriptor (written on cancellation).
enum Poller {
    /// Returns true when the socket is ready, false when the deadline passed; throws when woken (cancelled).
    static func wait(fd: Int32, events: Int16, deadline: Deadline, wakeFD: Int32, name: String) throws -> Bool {
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
