import Foundation
import SSHEngine

/// The one owner of SSH sessions: every command's fan-out to hosts goes through it. It sizes the descriptor
/// budget once (raising the open-file limit), keeps at most `budget.sessions` sessions open (closing idle ones
/// when it must), runs at most `budget.inFlight` hosts at once, and turns a session that could not be opened
/// (connection, host key, authentication, or this machine out of descriptors or threads) into that host's error.
/// Each host's session is opened from its resolved connection (`HostEntry.connection`) alone.
public actor Sessions {
    public nonisolated let budget: Resources.Budget
    private let transport: any Transport
    private var open: [String: any HostSession] = [:]
    private var busy: Set<String> = []
    private var lastUse: [String: UInt64] = [:]
    private var ticks: UInt64 = 0

    /// `settings` size the budget (`ssh.parallel`, whether jump hosts are used); `holding`: how many sessions the
    /// caller keeps for later steps (a rollout keeps every host's session to release its lock at the end); 0 for
    /// one-shot fan-outs.
    public init(transport: any Transport, settings: SSHSettings, parallel: Int? = nil, holding: Int = 0,
                notice: (String) -> Void = { _ in }) {
        self.transport = transport
        self.budget = Resources.budget(inFlight: parallel ?? settings.parallel, held: holding, tunnelled: settings.usesJumps,
                                       notice: notice)
    }

    /// The host's session, opened on first use and kept (busy) until `giveBack`; closed by `close` or `closeAll`.
    public func lease(_ host: HostEntry) async throws -> any HostSession {
        busy.insert(host.name)
        ticks += 1
        lastUse[host.name] = ticks
        if let session = open[host.name] { return session }
        await makeRoom()
        do {
            let session = try await transport.connect(host)
            open[host.name] = session
            return session
        } catch {
            busy.remove(host.name)
            throw error
        }
    }

    /// The host's step is over; its session stays open for the next one.
    public func giveBack(_ host: String) {
        busy.remove(host)
    }

    /// The host's work is done (or its connection was lost): close its session.
    public func close(_ host: String) async {
        busy.remove(host)
        lastUse[host] = nil
        if let session = open.removeValue(forKey: host) { await session.close() }
    }

    public func closeAll() async {
        for host in Array(open.keys) { await close(host) }
    }

    public var openCount: Int { open.count }

    /// `body` on the host's session, leased for its duration; a lost connection closes the session.
    public nonisolated func using<Value: Sendable>(_ host: HostEntry,
                                                   _ body: @Sendable (any HostSession) async throws -> Value) async throws -> Value {
        let session = try await lease(host)
        do {
            let value = try await body(session)
            await giveBack(host.name)
            return value
        } catch {
            if HostFailure(host: host.name, error: error, unreachable: nil).unreachable { await close(host.name) } else { await giveBack(host.name) }
            throw error
        }
    }

    /// At the budget: close the idle sessions used longest ago until one more fits.
    private func makeRoom() async {
        while open.count >= budget.sessions {
            let idle = open.keys.filter { !busy.contains($0) }
            guard let oldest = idle.min(by: { (lastUse[$0] ?? 0) < (lastUse[$1] ?? 0) }) else { return }
            await close(oldest)
        }
    }

    /// One-shot fan-out: each host's session opened, `body` run on it, the session closed; at most
    /// `budget.inFlight` hosts at once, results in the hosts' order. A session that cannot be opened is an
    /// unreachable `HostFailure`; any other error a failure naming the host.
    /// `onDone` sees each host's result as soon as it is known, with the time the host took.
    public nonisolated func each<Value: Sendable>(
        _ hosts: [HostEntry], onDone: (@Sendable (Result<Value, HostFailure>, Duration) -> Void)? = nil,
        _ body: @escaping @Sendable (HostEntry, any HostSession) async throws -> Value
    ) async -> [Result<Value, HostFailure>] {
        await forEachHost(hosts, limit: budget.inFlight) { host in
            let began = ContinuousClock.now
            let result: Result<Value, HostFailure>
            do {
                let session = try await self.lease(host)
                do {
                    result = .success(try await body(host, session))
                } catch {
                    result = .failure(HostFailure(host: host.name, error: error, unreachable: nil))
                }
            } catch {
                result = .failure(HostFailure(host: host.name, error: error, unreachable: true))
            }
            await self.close(host.name)
            onDone?(result, ContinuousClock.now - began)
            return result
        }
    }
}

extension HostFailure {
    /// An error from a host's work, said for people. `unreachable` nil: decided by the error (a lost connection
    /// or one never made is unreachable).
    init(host: String, error: any Error, unreachable: Bool?) {
        switch error {
        case let failure as HostFailure:
            self = failure
        case let failure as StepFailure:
            self.init(host: host, message: failure.message, unreachable: unreachable ?? failure.unreachable)
        case let ssh as SSHError:
            self.init(host: host, message: ssh.description,
                      unreachable: unreachable ?? ssh.meansUnreachable)
        default:
            self.init(host: host, message: "\(error)", unreachable: unreachable ?? false)
        }
    }
}
