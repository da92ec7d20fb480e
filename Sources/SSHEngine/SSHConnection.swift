import CLibSSH2
import Foundation

/// One SSH session to one host, reused for all of that host's work.
///
/// The actor runs on a thread of its own (`ThreadExecutor`): every libssh2 call and every `poll(2)` happens there,
/// never on Swift's cooperative pool. The session is non-blocking; waits are `poll(2)` on the socket and on a
/// wake-up descriptor that task cancellation writes to, so Ctrl-C ends every wait at once.
public actor SSHConnection {
    private let executor: ThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public nonisolated let target: SSHTarget
    let options: SSHOptions
    let wakeFD: Int32
    nonisolated(unsafe) var session: OpaquePointer?
    nonisolated(unsafe) var socketFD: Int32 = -1
    /// The host key the server proved it holds.
    public private(set) var hostKey: HostKey?
    private var closed = false
    /// The tunnel this session runs over, when the host is reached through jump hosts.
    private var tunnel: JumpLease?
    /// Told once, when the server's first bytes arrive during the handshake (the pacer's early latency signal).
    var onFirstByte: (@Sendable () -> Void)?

    /// Creates the session's wake-up descriptor and its thread; either failing (the open-file or thread limit
    /// reached) is this host's error, never a trap or a hang.
    init(target: SSHTarget, options: SSHOptions) throws(SSHError) {
        LibSSH2.ensureInitialised()
        self.target = target
        self.options = options
        let fd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard fd >= 0 else {
            throw SSHError.resources(host: target.name, "cannot create the session's wake-up descriptor", errno: errno)
        }
        do {
            self.executor = try ThreadExecutor(name: "ssh-\(target.name)")
        } catch {
            CLibSSH2.close(fd)
            throw SSHError.resources(host: target.name, "cannot start the session's thread", errno: error.code)
        }
        self.wakeFD = fd
    }

    deinit {
        if let session { libssh2_session_free(session) }
        if socketFD >= 0 { CLibSSH2.close(socketFD) }
        CLibSSH2.close(wakeFD)
        executor.shutdown()
        if let tunnel { Task { await tunnel.release() } }
    }

    /// Connects, checks the host key against known_hosts, and authenticates, unpaced (one host, or jump
    /// sessions; many hosts go through the paced `connect(to:options:pacer:jumps:)`).
    /// A target with jump hosts (`target.via`) is reached through a tunnel of `jumps`' sessions.
    public static func connect(to target: SSHTarget, options: SSHOptions, jumps: JumpHosts? = nil) async throws -> SSHConnection {
        let connection = try SSHConnection(target: target, options: options)
        do {
            try await connection.tunnel(through: jumps)
            try await connection.open()
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// For a host reached through jump hosts: its tunnel, whose local end becomes this session's socket.
    func tunnel(through jumps: JumpHosts?) async throws {
        guard !target.via.isEmpty else { return }
        guard let jumps else {
            throw SSHError(.connect, host: target.name, "\(target.address) is reached through jump hosts, and no jump pool was given")
        }
        let (fd, lease) = try await jumps.tunnel(to: target, options: options)
        adopt(socket: fd, lease: lease)
    }

    /// The local end of a tunnel through jump hosts, used as this session's socket.
    private func adopt(socket fd: Int32, lease: JumpLease) {
        socketFD = fd
        tunnel = lease
    }

    /// Runs `body` (on this connection's thread) so that cancelling the calling task wakes every wait in it.
    func cancellable<T>(_ body: () throws -> T) async throws -> T {
        let fd = wakeFD
        return try await withTaskCancellationHandler {
            if Task.isCancelled { throw SSHError(.cancelled, host: target.name, "cancelled") }
            return try body()
        } onCancel: {
            var one: UInt64 = 1
            _ = write(fd, &one, 8)
        }
    }

    func open() async throws {
        try await cancellable {
            let deadline = Deadline.after(options.connectTimeout)
            if socketFD < 0 {
                socketFD = try TCPConnector.connect(host: target.address, port: target.port, deadline: deadline,
                                                    wakeFD: wakeFD, name: target.name)
            }
            guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else {
                throw SSHError(.protocolError, host: target.name, "cannot create an SSH session")
            }
            self.session = session
            libssh2_session_set_blocking(session, 0)
            let knownHosts = try KnownHosts(session: session, path: options.knownHostsPath, host: target.name)
            let entryName = KnownHosts.entryName(host: target.address, port: target.port)
            let knownTypes = knownHosts.knownTypes(for: entryName)
            _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, hostKeyPreference(known: knownTypes))
            try handshake(deadline: deadline, knownTypes: knownTypes)
            try verifyHostKey(knownHosts, entryName: entryName)
            libssh2_keepalive_config(session, 1, UInt32(max(1, options.keepaliveInterval)))
            try authenticate(deadline: deadline)
        }
    }

    private func handshake(deadline: Deadline, knownTypes: [String]) throws {
        while true {
            let rc = libssh2_session_handshake(session, libssh2_socket_t(socketFD))
            if rc == 0 { return }
            if rc == LibSSH2.eagain {
                if try !waitSocket(until: deadline) {
                    throw SSHError(.connectTimeout, host: target.name,
                                   "\(target.address) port \(target.port) accepted the connection but did not complete the SSH handshake within \(options.connectTimeout)",
                                   hint: "Is an SSH server listening on that port, and is it overloaded? Raise ssh.connect_timeout or lower ssh.parallel.")
                }
                onFirstByte?()
                onFirstByte = nil
                continue
            }
            let error = LibSSH2.lastError(session)
            var hint = "Check that sshd on the host is healthy (its log says why it closed the connection)."
            if !knownTypes.isEmpty && error.code == LIBSSH2_ERROR_KEX_FAILURE {
                hint = "known_hosts (\(options.knownHostsPath)) holds only \(knownTypes.joined(separator: ", ")) keys for this host, and the server offers none of them. If the host was reinstalled, verify its new key and update known_hosts."
            }
            throw SSHError(.handshake, host: target.name, "SSH handshake with \(target.address) port \(target.port) failed: \(error.message)",
                           hint: hint, code: error.code)
        }
    }

    private func verifyHostKey(_ knownHosts: KnownHosts, entryName: String) throws {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type), length > 0 else {
            throw SSHError(.handshake, host: target.name, "the server sent no host key")
        }
        let blob = raw.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
        let typeName = KnownHosts.keyTypes.first(where: { $0.hostkey == type })?.name ?? "unknown"
        var fingerprint = "SHA256:?"
        if let hash = libssh2_hostkey_hash(session, LIBSSH2_HOSTKEY_HASH_SHA256) {
            let digest = hash.withMemoryRebound(to: UInt8.self, capacity: 32) { Data(UnsafeBufferPointer(start: $0, count: 32)) }
            fingerprint = "SHA256:" + digest.base64EncodedString().replacingOccurrences(of: "=", with: "")
        }
        let key = HostKey(type: typeName, blob: blob, fingerprint: fingerprint)
        hostKey = key
        let path = knownHosts.path
        switch knownHosts.check(name: entryName, key: key, hostkeyType: type) {
        case .match:
            return
        case .revoked:
            throw SSHError(.hostKeyRevoked, host: target.name,
                           "REVOKED HOST KEY for \(entryName): the server offers \(typeName) \(fingerprint), which \(path) marks @revoked. Nothing was run.",
                           hint: "A revoked key is never accepted, under any host_key_policy. Give the host a new key (ssh-keygen -A on the host after removing the old one), verify its fingerprint out of band, and add it to known_hosts.")
        case .mismatch:
            throw SSHError(.hostKeyChanged, host: target.name,
                           "HOST KEY CHANGED for \(entryName): the server offers \(typeName) \(fingerprint), which is not the key recorded in \(path). Nothing was run.",
                           hint: "This can be an attack or a reinstalled host. Verify the new fingerprint out of band (on the host: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then remove the old entry with: ssh-keygen -R '\(entryName)' -f '\(path)' and connect once with host_key_policy: accept-new.")
        case .notFound:
            if options.hostKeyPolicy == .acceptNew {
                try KnownHosts.append(line: key.knownHostsLine(name: entryName), to: path, host: target.name)
                return
            }
            let missing = knownHosts.certificateAuthorityNote(for: entryName) ?? "\(path) has no entry for it"
            throw SSHError(.hostKeyUnknown, host: target.name,
                           "unknown host key for \(entryName): the server offers \(typeName) \(fingerprint), and \(missing). Nothing was run.",
                           hint: "Verify the fingerprint out of band, then add it: ssh-keyscan -t ed25519 -p \(target.port) \(target.address) >> '\(path)'; or set ssh.host_key_policy: accept-new to record unknown keys on first use.")
        }
    }

    /// Waits until the socket is ready in the directions libssh2 is blocked on, at most one keepalive interval
    /// (so callers can send keepalives). Returns false once the deadline has passed. Throws when cancelled.
    func waitSocket(until deadline: Deadline) throws -> Bool {
        if deadline.passed { return false }
        let directions = libssh2_session_block_directions(session)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        // Wake at least once per keepalive interval (not every second: hundreds of idle sessions would spin).
        let slice = Deadline(nanos: min(deadline.nanos, Deadline.now() + UInt64(max(1, options.keepaliveInterval)) * 1_000_000_000))
        _ = try Poller.wait(fd: socketFD, events: events, deadline: slice, wakeFD: wakeFD, name: target.name)
        return !deadline.passed
    }

    /// Repeats a libssh2 call while it answers EAGAIN.
    func retry(_ what: String, until deadline: Deadline = .never, _ call: () -> Int32) throws -> Int32 {
        while true {
            let rc = call()
            if rc != LibSSH2.eagain { return rc }
            if try !waitSocket(until: deadline) {
                throw SSHError(.commandTimeout, host: target.name, "\(what) timed out")
            }
        }
    }

    func failure(_ kind: SSHError.Kind, _ what: String, hint: String? = nil) -> SSHError {
        let error = LibSSH2.lastError(session)
        if error.code == LIBSSH2_ERROR_SOCKET_DISCONNECT || error.code == LIBSSH2_ERROR_SOCKET_RECV
            || error.code == LIBSSH2_ERROR_SOCKET_SEND {
            return SSHError(.disconnected, host: target.name, "\(what): the connection was lost (\(error.message))",
                            hint: "The host or the network dropped the SSH connection; what was running there may have been interrupted.",
                            code: error.code)
        }
        return SSHError(kind, host: target.name, "\(what): \(error.message)", hint: hint, code: error.code)
    }

    /// Ends the session (politely, for at most a second) and frees everything. Safe to call twice.
    public func close() async {
        guard !closed else { return }
        closed = true
        if let session {
            let deadline = Deadline.after(.seconds(1))
            while libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "fleet done", "") == LibSSH2.eagain {
                guard (try? waitSocket(until: deadline)) == true else { break }
            }
            libssh2_session_free(session)
            self.session = nil
        }
        if socketFD >= 0 {
            CLibSSH2.close(socketFD)
            socketFD = -1
        }
        if let tunnel {
            self.tunnel = nil
            await tunnel.release()
        }
    }

    /// Carries tunnels for other sessions (this one being a jump host's) until `pump.stop()`; on this
    /// connection's own thread.
    func pump(_ pump: TunnelPump) {
        guard let session, !closed else { return pump.abandon() }
        pump.run(session: session, socket: socketFD, keepaliveInterval: options.keepaliveInterval)
    }
}
