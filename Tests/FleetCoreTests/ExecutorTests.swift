import Foundation
import SSHEngine
import Testing
@testable import FleetCore

/// A transport that records every call instead of connecting, and answers from a script.
final class RecordingTransport: Transport, @unchecked Sendable {
    struct Call: Equatable { var host: String; var kind: Step.Kind; var text: String; var mode: String? }
    private let lock = NSLock()
    private var calls: [Call] = []
    private var inputs: [String: [UInt8]] = [:]
    /// Exit status for a command, by host and substring; default 0.
    let failures: [(host: String, contains: String, status: Int32)]
    let unreachable: Set<String>
    /// How long each command takes.
    let delay: Duration
    /// Hosts whose nginx answers the verify endpoints with 502.
    let unhealthy: Set<String>

    init(failures: [(host: String, contains: String, status: Int32)] = [], unreachable: Set<String> = [], delay: Duration = .zero,
         unhealthy: Set<String> = []) {
        self.failures = failures
        self.unreachable = unreachable
        self.delay = delay
        self.unhealthy = unhealthy
    }

    func record(_ call: Call) { lock.lock(); calls.append(call); lock.unlock() }
    /// What the last command run on `host` with stdin received.
    func stdin(for host: String) -> [UInt8]? { lock.lock(); defer { lock.unlock() }; return inputs[host] }
    func recordStdin(_ host: String, _ bytes: [UInt8]) { lock.lock(); inputs[host] = bytes; lock.unlock() }
    func calls(for host: String) -> [Call] { lock.lock(); defer { lock.unlock() }; return calls.filter { $0.host == host } }

    /// The connection each host's last session was opened from.
    func connection(for host: String) -> Connection? { lock.lock(); defer { lock.unlock() }; return connections[host] }
    private var connections: [String: Connection] = [:]
    private func recordConnection(_ host: HostEntry) { lock.lock(); connections[host.name] = host.connection; lock.unlock() }

    func connect(_ host: HostEntry) async throws -> any HostSession {
        recordConnection(host)
        if unreachable.contains(host.name) { throw SSHError(.connectTimeout, host: host.name, "connection timed out") }
        return Session(hostName: host.name, transport: self)
    }

    struct Session: HostSession {
        let hostName: String
        let transport: RecordingTransport
        func run(_ command: String, timeout: Duration?, stdin: [UInt8], onLine: LineHandler?) async throws -> CommandResult {
            transport.record(Call(host: hostName, kind: .run, text: command, mode: nil))
            if transport.delay > .zero { try await Task.sleep(for: transport.delay) }
            if !stdin.isEmpty { transport.recordStdin(hostName, stdin) }
            let status = transport.failures.first { $0.host == hostName && command.contains($0.contains) }?.status ?? 0
            var json = "{\"script\":\"x\",\"ok\":\(status == 0),\"code\":\(status),\"version\":\"v2\",\"previous\":\"v1\",\"changed\":true}\n"
            // The check steps' own output: curl's "STATUS SECONDS" for verify, docker's config and size for the image.
            // A swap followed by its verify: the swap's line, then (when it succeeded) the marker and the answers.
            let answer = transport.unhealthy.contains(hostName) ? "502 0.002\n" : "200 0.002\n"
            if command.contains("curl") { json = status == 0 ? json + "fleet-verify:\n" + answer : json }
            if command.hasPrefix("docker image inspect") { json = "{\"User\":\"1000\",\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"]}}|1000\n" }
            return CommandResult(exitStatus: status, exitSignal: nil, stdout: Array(json.utf8),
                                 stderr: status == 0 ? [] : Array("boom on \(hostName)\n".utf8), duration: .zero)
        }
        func close() async {}
    }
}

@Suite("The executor runs exactly the plan")
struct ExecutorTests {
    static func plan(hosts: Int = 4, batch: String = "2", maxFailures: Int = 0, rollbackOnFailure: Bool = false) throws -> (Plan, Inventory) {
        let inventory = try Fixture.load(Fixture.hosts(hosts, batch: batch, extra: "rollout: {batch: \(batch), max_failures: \(maxFailures)}\n")
            .replacingOccurrences(of: "rollout: {batch: \(batch)}\n", with: ""))
        let input = PlanInput(inventory: inventory, command: .deploy, version: "v2", hosts: inventory.hosts,
                              run: RunContext(runId: "run-1", who: "tester@ci", pid: 42, startedAt: "2026-11-27T10:00:00Z"),
                              playbookNames: ["deploy.sh", "lib.sh", "lock.sh", "preflight.sh", "rollback.sh"],
                              playbooksDir: "/fleet/playbooks", rollbackOnFailure: rollbackOnFailure)
        return (try PlanBuilder.build(input), inventory)
    }

    static func files(_ plan: Plan) -> UploadFiles {
        var playbooks: [String: [UInt8]] = [:]
        let steps = plan.stages.flatMap { $0.hosts.flatMap(\.steps) }
        for source in steps.flatMap({ $0.files?.map(\.source) ?? [] }) where source.kind == .playbook {
            playbooks[source.localPath!] = Array("#!/bin/bash\n# \(source.name)\n".utf8)
        }
        return UploadFiles(playbooks: playbooks, env: [])
    }

    /// Every host: the steps that ran are the plan's steps (pre-flight, image check, batch with its verify, release), in
    /// the plan's order, with the plan's exact strings; for a deploy and for a rollback.
    @Test(arguments: [PlanCommand.deploy, .rollback])
    func whatRanIsWhatThePlanSays(_ command: PlanCommand) async throws {
        let (deploy, inventory) = try Self.plan()
        let plan = command == .deploy ? deploy : try PlanBuilder.build(
            PlanInput(inventory: inventory, command: .rollback, hosts: inventory.hosts, run: deploy.run,
                      playbookNames: ["lib.sh", "lock.sh", "preflight.sh", "rollback.sh"], playbooksDir: "/fleet/playbooks"))
        let kinds = Set(plan.stages.map(\.kind))
        #expect(kinds.isSuperset(of: command == .deploy ? [.preflight, .imageCheck, .batch] : [.preflight, .batch]))
        #expect(plan.stages.filter { $0.kind == .batch }.flatMap(\.hosts).allSatisfy { $0.steps.last?.check?.kind == .verify })
        let transport = RecordingTransport()
        let report = await Executor(plan: plan, sessions: Self.sessions(transport, inventory), files: Self.files(plan)).run()
        #expect(report.exitCode == 0)
        #expect(report.hosts.allSatisfy { $0.outcome == .updated })
        for host in plan.hosts.map(\.name) {
            let stages = plan.stages + [Stage(kind: .batch, title: "finally", hosts: plan.finally)]
            let steps: [Step] = stages.flatMap { $0.hosts.filter { $0.host == host }.flatMap(\.steps) }
            let planned = steps.map { RecordingTransport.Call(host: host, kind: .run, text: $0.command ?? "", mode: nil) }
            #expect(transport.calls(for: host) == planned)
        }
    }

    static func sessions(_ transport: any Transport, _ inventory: Inventory) -> Sessions {
        Sessions(transport: transport, settings: inventory.ssh)
    }

    @Test func aFailedHostHaltsAfterItsBatch() async throws {
        let (plan, inventory) = try Self.plan(hosts: 4, batch: "2")
        let transport = RecordingTransport(failures: [(host: "h1", contains: "deploy.sh", status: 11)])
        let report = await Executor(plan: plan, sessions: Self.sessions(transport, inventory), files: Self.files(plan)).run()
        #expect(report.exitCode == 1)
        let outcomes = Dictionary(uniqueKeysWithValues: report.hosts.map { ($0.host, $0.outcome) })
        #expect(outcomes == ["h1": .failed, "h2": .updated, "h3": .notStarted, "h4": .notStarted])
        #expect(report.hosts[0].exitCode == 11)
        #expect(report.hosts[0].lastLines.contains("boom on h1"))
        // A failed host's time is what it took until it failed (it once read 0).
        let slow = RecordingTransport(failures: [(host: "h1", contains: "deploy.sh", status: 11)], delay: .milliseconds(20))
        let timed = await Executor(plan: plan, sessions: Self.sessions(slow, inventory), files: Self.files(plan)).run()
        #expect((timed.hosts.first { $0.host == "h1" }?.durationMs ?? 0) >= 20, "\(timed.hosts)")
        // The second batch never ran, but every host's lock was released.
        #expect(!transport.calls(for: "h3").contains { $0.kind == .run && $0.text.contains("deploy.sh --config") })
        for host in ["h1", "h2", "h3", "h4"] {
            #expect(transport.calls(for: host).last?.text.contains("release") == true)
        }
        #expect(Recap.text(report).contains("failed: h1 (deploy, exit 11)"))
    }

    /// The swap succeeded but the endpoints answer 502 through nginx: the host fails (phase verify), counts
    /// against max_failures, and the rollout halts after its batch.
    @Test func aHostWhoseEndpointsFailAfterItsSwapFailsAndHalts() async throws {
        let (plan, inventory) = try Self.plan(hosts: 4, batch: "2")
        let transport = RecordingTransport(unhealthy: ["h2"])
        let report = await Executor(plan: plan, sessions: Self.sessions(transport, inventory), files: Self.files(plan)).run()
        #expect(report.exitCode == ExitStatus.hostFailed)
        let h2 = try #require(report.hosts.first { $0.host == "h2" })
        #expect(h2.outcome == .failed && h2.phase == "verify")
        #expect(h2.error?.contains("/health gave 502, expected 200") == true, "\(h2.error ?? "")")
        #expect(report.hosts.first { $0.host == "h1" }?.outcome == .updated)
        #expect(report.hosts.filter { ["h3", "h4"].contains($0.host) }.allSatisfy { $0.outcome == .notStarted })
    }

    @Test func rollbackOnFailureUndoesTheUpdatedHosts() async throws {
        let (plan, inventory) = try Self.plan(hosts: 4, batch: "2", rollbackOnFailure: true)
        let transport = RecordingTransport(failures: [(host: "h2", contains: "deploy.sh", status: 11)])
        let report = await Executor(plan: plan, sessions: Self.sessions(transport, inventory), files: Self.files(plan)).run()
        let outcomes = Dictionary(uniqueKeysWithValues: report.hosts.map { ($0.host, $0.outcome) })
        #expect(outcomes["h1"] == .rolledBack)
        #expect(transport.calls(for: "h1").contains { $0.kind == .run && $0.text.contains("rollback.sh --config") })
        #expect(!transport.calls(for: "h2").contains { $0.kind == .run && $0.text.contains("rollback.sh --config") })
    }

    @Test func unreachableHostStopsEverythingBeforeAnyChange() async throws {
        let (plan, inventory) = try Self.plan(hosts: 3, batch: "3")
        let transport = RecordingTransport(unreachable: ["h2"])
        let report = await Executor(plan: plan, sessions: Self.sessions(transport, inventory), files: Self.files(plan)).run()
        #expect(report.exitCode == 4)
        for host in ["h1", "h3"] {
            #expect(!transport.calls(for: host).contains { $0.kind == .run && $0.text.contains("deploy.sh --config") })
        }
        // ...unless the plan says to skip it.
        let skipping = RecordingTransport(unreachable: ["h2"])
        var skipPlan = plan
        skipPlan.policy.skipUnreachable = true
        let second = await Executor(plan: skipPlan, sessions: Self.sessions(skipping, inventory), files: Self.files(plan)).run()
        #expect(second.hosts.first { $0.host == "h2" }?.outcome == .unreachable)
        #expect(second.hosts.filter { $0.outcome == .updated }.count == 2)
    }

    @Test func lockHeldIsExitThree() async throws {
        let (plan, inventory) = try Self.plan(hosts: 2, batch: "2")
        let transport = RecordingTransport(failures: [(host: "h2", contains: "lock.sh --config \"$t\"/1/fleet.conf acquire", status: 3)])
        let report = await Executor(plan: plan, sessions: Self.sessions(transport, inventory), files: Self.files(plan)).run()
        #expect(report.exitCode == 3)
        // The lock it never took is not "released".
        #expect(!transport.calls(for: "h2").contains { $0.text.contains("lock.sh --config /opt/fleet/shop/fleet.conf release") })
        #expect(transport.calls(for: "h1").last?.text.contains("release") == true)
    }

    /// Two runs started at the same moment: the one that finds the first host locked stops there, having touched
    /// no other host and released nothing (exactly one of the two goes on).
    @Test func aRunThatFindsTheFirstHostLockedTouchesNoOtherHost() async throws {
        let (plan, inventory) = try Self.plan(hosts: 4, batch: "2")
        let transport = RecordingTransport(failures: [(host: "h1", contains: "lock.sh --config \"$t\"/1/fleet.conf acquire", status: 3)])
        let report = await Executor(plan: plan, sessions: Self.sessions(transport, inventory), files: Self.files(plan)).run()
        #expect(report.exitCode == 3)
        #expect(transport.calls(for: "h1").count == 1)
        for host in ["h2", "h3", "h4"] { #expect(transport.calls(for: host).isEmpty, "\(host) was contacted") }
    }

    @Test func interruptStartsNoNewHost() async throws {
        let (plan, inventory) = try Self.plan(hosts: 4, batch: "1")
        let interrupt = Interrupt()
        let transport = RecordingTransport()
        let executor = Executor(plan: plan, sessions: Self.sessions(transport, inventory), files: Self.files(plan),
                                interrupt: interrupt, onEvent: { event in
            if case .hostDone(let report) = event, report.host == "h1" { interrupt.request("interrupted by SIGINT") }
        })
        let report = await executor.run()
        #expect(report.exitCode == 130)
        #expect(report.hosts.filter { $0.outcome == .updated }.map(\.host) == ["h1"])
        #expect(transport.calls(for: "h4").last?.text.contains("release") == true)
    }
}
