import Foundation
import SSHEngine
import Testing
@testable import FleetCore

/// A transport whose lead host holds its pre-flight open (as a long pull would) after printing that its lock is
/// held, until every other host's pre-flight has started, or 20 s have passed.
final class LeadPullTransport: Transport, @unchecked Sendable {
    let lead: String
    let others: Set<String>
    private let lock = NSLock()
    private var started: Set<String> = []
    private var leadLock: Bool

    /// `leadLock` false: the lead's lock is held by another run (exit 3, no lock line).
    init(lead: String, others: Set<String>, leadLock: Bool = true) {
        self.lead = lead
        self.others = others
        self.leadLock = leadLock
    }

    var preflightsStarted: Set<String> { lock.withLock { started } }

    func connect(_ host: HostEntry) async throws -> any HostSession { Session(hostName: host.name, transport: self) }

    struct Session: HostSession {
        let hostName: String
        let transport: LeadPullTransport

        func run(_ command: String, timeout: Duration?, stdin: [UInt8], onLine: LineHandler?) async throws -> CommandResult {
            let preflight = command.contains("lock.sh") && command.contains("acquire")
            if preflight { _ = transport.lock.withLock { transport.started.insert(hostName) } }
            var status: Int32 = 0
            if preflight && hostName == transport.lead {
                guard transport.leadLock else { return Self.result(3) }
                onLine?(.stdout, StepFactory.lockHeldLine)
                for _ in 0..<200 where !transport.others.isSubset(of: transport.preflightsStarted) {
                    try await Task.sleep(for: .milliseconds(100))
                }
                if !transport.others.isSubset(of: transport.preflightsStarted) { status = 10 }
            }
            return Self.result(status, verify: command.contains("curl"))
        }

        static func result(_ status: Int32, verify: Bool = false) -> CommandResult {
            var line = "{\"ok\":\(status == 0),\"code\":\(status),\"version\":\"v2\",\"previous\":\"v1\",\"changed\":true}\n"
            if verify { line += "fleet-verify:\n200 0.002\n" }
            return CommandResult(exitStatus: status, exitSignal: nil, stdout: Array(line.utf8), stderr: [], duration: .zero)
        }

        func close() async {}
    }
}

@Suite struct LockFirstTests {
    /// The other hosts' pre-flight starts once the lead's lock is held, while the lead still pulls: the lead's
    /// command here ends only after they all started (it would fail with exit 10 after 20 s otherwise).
    @Test func theOthersStartOnceTheLeadsLockIsHeld() async throws {
        let (plan, inventory) = try ExecutorTests.plan(hosts: 3, batch: "3")
        #expect(plan.stages.first?.kind == .lock && plan.leadHost == "h1")
        let transport = LeadPullTransport(lead: "h1", others: ["h2", "h3"])
        let report = await Executor(plan: plan, sessions: ExecutorTests.sessions(transport, inventory), files: ExecutorTests.files(plan)).run()
        #expect(report.exitCode == ExitStatus.ok, "\(report.hosts.map { "\($0.host): \($0.error ?? "ok")" })")
        #expect(report.hosts.allSatisfy { $0.outcome == .updated })
    }

    /// The lead's lock held by another run: no other host is contacted, exit 3.
    @Test func aHeldLeadLockStartsNoOtherHost() async throws {
        let (plan, inventory) = try ExecutorTests.plan(hosts: 3, batch: "3")
        let transport = LeadPullTransport(lead: "h1", others: ["h2", "h3"], leadLock: false)
        let report = await Executor(plan: plan, sessions: ExecutorTests.sessions(transport, inventory), files: ExecutorTests.files(plan)).run()
        #expect(report.exitCode == ExitStatus.lockHeld)
        #expect(transport.preflightsStarted == ["h1"])
    }
}
