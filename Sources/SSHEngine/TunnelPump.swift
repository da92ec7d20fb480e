import CLibSSH2
import Foundation

/// Moves bytes between a jump session's `direct-tcpip` channels and one end of a `socketpair` each; the target's
/// session handshakes over the other end as over a TCP socket.
///
/// `run` loops on the jump connection's own thread (never Swift's cooperative pool): `poll(2)` on the jump
/// session's socket, on every tunnel's local end, and on a control descriptor that `submit` and `stop` write to.
/// libssh2 keeps one half-sent packet per session: after any call answers EAGAIN with the outbound direction
/// blocked, only that same call is repeated until it completes (`stuck`), as libssh2 requires.
final class TunnelPump: @unchecked Sendable {
    let name: String
    let controlFD: Int32
    private let lock = NSLock()
    private var queue: [ChannelRequest] = []
    private var stopping = false
    private var deathCause: SSHError?

    // State of the pump's thread only (used by TunnelPump+Pipes.swift too).
    final class Pipe {
        let id: Int
        let channel: OpaquePointer
        let fd: Int32
        var toLocal: [UInt8] = []
        var toChannel: [UInt8] = []
        var localEOF = false
        var channelEOF = false
        var failed = false
        init(id: Int, channel: OpaquePointer, fd: Int32) {
            self.id = id
            self.channel = channel
            self.fd = fd
        }
    }
    enum Op: Equatable { case open, read(Int), write(Int), free(Int), keepalive }
    var session: OpaquePointer?
    var pipes: [Pipe] = []
    var closing: [(id: Int, channel: OpaquePointer)] = []
    private var opening: ChannelRequest?
    var stuck: Op?
    private var nextID = 0
    var scratch = [UInt8](repeating: 0, count: 32 * 1024)

    init(name: String) throws(SSHError) {
        self.name = name
        let fd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard fd >= 0 else { throw SSHError.resources(host: name, "cannot create the tunnel's control descriptor", errno: errno) }
        controlFD = fd
    }

    deinit { close(controlFD) }

    /// Queues a channel request (answered at once when the session is gone).
    func submit(_ request: ChannelRequest) {
        lock.lock()
        if let deathCause {
            lock.unlock()
            request.answer(.failure(deathCause))
            return
        }
        queue.append(request)
        lock.unlock()
        wake()
    }

    func stop() {
        lock.lock()
        stopping = true
        lock.unlock()
        wake()
    }

    /// The session could not carry tunnels at all: every request, now and later, fails.
    func abandon() {
        lock.lock()
        if deathCause == nil { deathCause = SSHError(.disconnected, host: name, "the jump session was closed") }
        let cause = deathCause!
        let waiting = queue
        queue.removeAll()
        lock.unlock()
        for request in waiting { request.answer(.failure(cause)) }
    }

    /// Why the session ended, once it has.
    var died: SSHError? {
        lock.lock()
        defer { lock.unlock() }
        return deathCause
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(controlFD, &one, 8)
    }

    /// Pumps until `stop()` or until the jump session fails; then every tunnel is closed and every request
    /// still waiting is answered.
    func run(session: OpaquePointer, socket: Int32, keepaliveInterval: Int) {
        self.session = session
        libssh2_keepalive_config(session, 0, UInt32(max(1, keepaliveInterval)))
        var failure: SSHError?
        while failure == nil {
            lock.lock()
            let stop = stopping
            lock.unlock()
            if stop { break }
            var progress = true
            while progress && failure == nil {
                progress = false
                do {
                    progress = try openNext() || progress
                    for pipe in pipes { progress = try step(pipe) || progress }
                    progress = try finishPipes() || progress
                } catch {
                    failure = error
                }
            }
            if failure != nil { break }
            var seconds: Int32 = 0
            if stuck == nil || stuck == .keepalive {
                let rc = libssh2_keepalive_send(session, &seconds)
                note(.keepalive, rc)
                if rc != 0 && rc != LibSSH2.eagain { failure = lost("keepalive", rc); break }
            }
            if let error = waitReady(socket: socket, seconds: seconds) { failure = error }
        }
        lock.lock()
        let cause = failure ?? deathCause ?? SSHError(.disconnected, host: name, "the jump session was closed")
        deathCause = cause
        let waiting = queue
        queue.removeAll()
        lock.unlock()
        opening?.answer(.failure(cause))
        for request in waiting { request.answer(.failure(cause)) }
        for pipe in pipes { close(pipe.fd) }
        pipes.removeAll()
        self.session = nil
    }

    /// Records a call that must be repeated alone (EAGAIN with a half-sent packet), or clears it.
    func note(_ op: Op, _ rc: Int32) {
        guard let session else { return }
        if rc == LibSSH2.eagain && libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
            stuck = op
        } else if stuck == op {
            stuck = nil
        }
    }

    func allowed(_ op: Op) -> Bool { stuck == nil || stuck == op }

    func lost(_ what: String, _ rc: Int32) -> SSHError {
        let error = LibSSH2.lastError(session)
        return SSHError(.disconnected, host: name, "\(what): the jump session was lost (\(error.message))",
                        hint: "The bastion or the network dropped the SSH connection.", code: rc)
    }

    static func isFatal(_ rc: Int32) -> Bool {
        rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_RECV || rc == LIBSSH2_ERROR_SOCKET_DISCONNECT
            || rc == LIBSSH2_ERROR_SOCKET_TIMEOUT || rc == LIBSSH2_ERROR_TIMEOUT
    }

    /// Starts or continues opening the next requested channel.
    private func openNext() throws(SSHError) -> Bool {
        if opening == nil {
            lock.lock()
            while !queue.isEmpty, opening == nil {
                let next = queue.removeFirst()
                if !next.isAnswered { opening = next }
            }
            lock.unlock()
        }
        guard let request = opening, allowed(.open), let session else { return false }
        guard let channel = libssh2_channel_direct_tcpip_ex(session, request.host, Int32(request.port), "127.0.0.1", 22) else {
            let code = libssh2_session_last_errno(session)
            note(.open, code)
            if code == LibSSH2.eagain { return false }
            opening = nil
            if Self.isFatal(code) { throw lost("opening a channel to \(request.host) port \(request.port)", code) }
            let error = LibSSH2.lastError(session)
            request.answer(.failure(SSHError(.channel, host: name, error.message, code: code)))
            return true
        }
        note(.open, 0)
        opening = nil
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            let code = errno
            nextID += 1
            closing.append((nextID, channel))
            request.answer(.failure(SSHError.resources(host: name, "cannot create the tunnel's socket pair", errno: code)))
            return true
        }
        nextID += 1
        pipes.append(Pipe(id: nextID, channel: channel, fd: fds[0]))
        if !request.answer(.success(fds[1])) { close(fds[1]) }
        return true
    }

    /// Waits for the jump socket (in the directions that can make progress), the tunnels' local ends, or the
    /// control descriptor; at most until the next keepalive is due.
    private func waitReady(socket: Int32, seconds: Int32) -> SSHError? {
        var events: Int16 = 0
        let directions = session.map { libssh2_session_block_directions($0) } ?? 0
        // Read the socket only when some call will consume what arrives (else poll would spin on it).
        let readers = opening != nil || !closing.isEmpty || pipes.contains { $0.toLocal.isEmpty && !$0.channelEOF && !$0.failed }
        if readers || stuck != nil { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        var fds = [pollfd(fd: controlFD, events: Int16(POLLIN), revents: 0), pollfd(fd: socket, events: events, revents: 0)]
        for pipe in pipes {
            var e: Int16 = 0
            if pipe.toChannel.isEmpty && !pipe.localEOF { e |= Int16(POLLIN) }
            if !pipe.toLocal.isEmpty { e |= Int16(POLLOUT) }
            fds.append(pollfd(fd: pipe.fd, events: e, revents: 0))
        }
        let timeout = Int32(max(1, min(Int(seconds), 60))) * 1000
        let n = poll(&fds, nfds_t(fds.count), timeout)
        if n < 0 && errno != EINTR {
            return SSHError(.protocolError, host: name, "poll failed: \(String(cString: strerror(errno)))")
        }
        if fds[0].revents != 0 {
            var value: UInt64 = 0
            _ = read(controlFD, &value, 8)
        }
        // A target that closed its end while its last bytes wait for the channel's window: poll would report
        // the hang-up at once, every time. Nobody is left to read the answer: close the tunnel.
        for (index, pipe) in pipes.enumerated() where fds[index + 2].events & Int16(POLLIN) == 0
            && fds[index + 2].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
            pipe.toChannel.removeAll()
            pipe.failed = true
        }
        if fds[1].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && !readers {
            return SSHError(.disconnected, host: name, "the jump session's connection was closed",
                            hint: "The bastion or the network dropped the SSH connection.")
        }
        return nil
    }
}
