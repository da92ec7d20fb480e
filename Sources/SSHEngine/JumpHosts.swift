import CLibSSH2
import Foundation

/// The jump sessions of one run, shared by every target reached through them.
///
/// A target's session runs over a `direct-tcpip` channel of a jump host's session (`TunnelPump`). Targets on the
/// same route share a jump session, at most `channelsPerSession` each: past that, or when the bastion refuses
/// another channel, another jump session is opened. A route of several hops is a jump session whose own socket
/// is a tunnel through the route's earlier hops. A jump session is closed when its last tunnel is released.
public actor JumpHosts {
    /// Tunnels carried by one jump session before another is opened: OpenSSH's `MaxSessions` default, so a
    /// bastion that counts forwarded channels against it is never asked for more (see docs/ssh.md, Jump hosts).
    public static let defaultChannelsPerSession = 10

    public nonisolated let channelsPerSession: Int

    final class Jump: @unchecked Sendable {
        let id: Int
        let key: String
        let label: String
        let pump: TunnelPump
        var task: Task<SSHConnection, any Error>?
        var users = 0
        var full = false
        var closed = false
        init(id: Int, key: String, label: String, pump: TunnelPump) {
            self.id = id
            self.key = key
            self.label = label
            self.pump = pump
        }
    }

    private var jumps: [String: [Jump]] = [:]
    private var nextID = 0
    /// Jump sessions opened so far (for tests and measurements).
    public private(set) var sessionsOpened = 0
    /// Jump sessions open now.
    public var openSessions: Int { jumps.values.reduce(0) { $0 + $1.count } }

    public init(channelsPerSession: Int = JumpHosts.defaultChannelsPerSession) {
        self.channelsPerSession = max(1, channelsPerSession)
    }

    /// A tunnel to the target through its jump hosts: the local end's descriptor, and the lease to release
    /// when the target's session is closed. Errors name the target and the hop that failed.
    func tunnel(to target: SSHTarget, options: SSHOptions) async throws -> (Int32, JumpLease) {
        let route = target.via
        let key = route.map(\.description).joined(separator: ",")
        var refusals = 0
        while true {
            let jump = try pick(key) ?? start(route: route, key: key, options: options, target: target.name)
            jump.users += 1
            do {
                let fd = try await channel(jump, to: target, timeout: options.connectTimeout)
                return (fd, JumpLease(pool: self, id: jump.id, key: key))
            } catch let error as SSHError {
                let others = jump.users > 1
                await release(jump)
                let refused = error.kind == .channel && (error.message.contains("prohibited") || error.message.contains("shortage"))
                if refused && others && refusals < 3 {
                    // The bastion carries no more channels on this session: open another.
                    jump.full = true
                    refusals += 1
                    continue
                }
                if error.kind == .disconnected && refusals < 3 && error.message.contains("jump session") {
                    // An idle jump session was lost: open another.
                    jump.full = true
                    refusals += 1
                    continue
                }
                throw Self.named(error, target: target.name, label: jump.label, host: target.address, port: target.port)
            }
        }
    }

    /// A jump session on this route with room for one more tunnel.
    private func pick(_ key: String) -> Jump? {
        jumps[key]?.first { !$0.closed && !$0.full && $0.users < channelsPerSession && $0.pump.died == nil }
    }

    /// Opens a jump session to the route's last hop (through the earlier hops, if any).
    private func start(route: [JumpHost], key: String, options: SSHOptions, target: String) throws(SSHError) -> Jump {
        let hop = route[route.count - 1]
        let earlier = Array(route.dropLast())
        nextID += 1
        sessionsOpened += 1
        let label = earlier.isEmpty ? hop.label : "\(hop.label) (hop \(route.count), via \(earlier.map(\.endpoint).joined(separator: ", ")))"
        let pump: TunnelPump
        do { pump = try TunnelPump(name: label) } catch { throw Self.named(error, target: target, label: label, host: hop.address, port: hop.port) }
        let jump = Jump(id: nextID, key: key, label: label, pump: pump)
        let target = SSHTarget(name: label, address: hop.address, port: hop.port, user: hop.user, via: earlier)
        jump.task = Task {
            let connection = try await SSHConnection.connect(to: target, options: options, jumps: self)
            Task { await connection.pump(pump) }
            return connection
        }
        jumps[key, default: []].append(jump)
        return jump
    }

    /// Waits for the jump session, then for a channel from it (at most `timeout`, or until cancelled).
    private func channel(_ jump: Jump, to target: SSHTarget, timeout: Duration) async throws -> Int32 {
        guard let task = jump.task else { throw SSHError(.cancelled, host: target.name, "cancelled") }
        _ = try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        let request = ChannelRequest(host: target.address, port: target.port)
        let timer = Task {
            try await Task.sleep(for: timeout)
            request.answer(.failure(SSHError(.connectTimeout, host: jump.label,
                                             "no tunnel to \(target.address) port \(target.port) within \(timeout)")))
        }
        defer { timer.cancel() }
        return try await request.wait(submit: { jump.pump.submit(request) }, name: target.name)
    }

    /// The target's tunnel is closed: a jump session without tunnels is closed too.
    func release(id: Int, key: String) async {
        guard let jump = jumps[key]?.first(where: { $0.id == id }) else { return }
        await release(jump)
    }

    /// Closes the jump session once its last tunnel is gone, and returns only then (a command's end waits for
    /// its jump sessions as for its other sessions: no thread of fleet's is left using libssh2 at exit).
    private func release(_ jump: Jump) async {
        jump.users -= 1
        guard jump.users <= 0, !jump.closed else { return }
        jumps[jump.key]?.removeAll { $0 === jump }
        if jumps[jump.key]?.isEmpty == true { jumps[jump.key] = nil }
        jump.closed = true
        jump.pump.stop()
        guard let task = jump.task else { return }
        task.cancel()
        if let connection = try? await task.value { await connection.close() }
    }

    /// An error of a jump session or of its channel, said as the target's error, naming the hop.
    static func named(_ error: SSHError, target: String, label: String, host: String, port: Int) -> SSHError {
        if error.kind == .cancelled { return SSHError(.cancelled, host: target, "cancelled") }
        if error.kind == .channel && error.message.contains("connect failed") {
            return SSHError(.connect, host: target, "\(label) could not connect to \(host) port \(port) (\(error.message))",
                            hint: "Is the host up and is sshd listening on port \(port), and can the bastion reach it?", code: error.code)
        }
        if error.kind == .channel {
            return SSHError(.connect, host: target, "\(label) refused a tunnel to \(host) port \(port) (\(error.message))",
                            hint: "Does the bastion allow TCP forwarding (sshd: AllowTcpForwarding yes, no PermitOpen limit)?", code: error.code)
        }
        let message = error.message.hasPrefix("bastion ") ? error.message : "\(error.host): \(error.message)"
        return SSHError(error.kind, host: target, message, hint: error.hint, code: error.code)
    }
}

/// A target's hold on its jump session: released when the target's session is closed.
public final class JumpLease: Sendable {
    let pool: JumpHosts
    let id: Int
    let key: String

    init(pool: JumpHosts, id: Int, key: String) {
        self.pool = pool
        self.id = id
        self.key = key
    }

    func release() async { await pool.release(id: id, key: key) }
}
