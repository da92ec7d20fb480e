import Foundation
import Testing
@testable import FleetCore

/// The recording-transport comparison of `ExecutorTests.whatRanIsWhatThePlanSays`, on an inventory that uses
/// everything that adds steps: hooks, an env file, processes (a worker on two hosts), a registry login,
/// `--rollback-on-failure`. Every command that ran is the plan's, string for string, in the plan's order.
@Suite("The executor runs exactly the plan of a full inventory")
struct ExecutorFullPlanTests {
    static let extra = """
    processes:
      web: {hosts: {tags: [eu, us]}}
      job: {cmd: [bin/jobs, start], hosts: [web1, db1], stop_timeout: 60s}
    registry: {server: registry.example.com, username: deploy-bot, password: {env: SHOP_REGISTRY_PASSWORD}}
    container: {memory: 1g, volumes: ["shop-storage:/rails/storage"]}

    """

    static func plan() throws -> (Plan, Inventory) {
        let yaml = Fixture.full.replacingOccurrences(of: "pause: 5s", with: "pause: 0s").replacingOccurrences(of: "max_failures: 1", with: "max_failures: 0")
            .replacingOccurrences(of: "hosts:\n  web1: {address", with: extra + "hosts:\n  web1: {address")
        let context = LoaderContext(home: "/home/tester", user: "tester", variables: ["SHOP_REGISTRY_PASSWORD": "pw-\(UUID().uuidString)"])
        let files = Fixture.files()
        let inventory = try InventoryLoader.parse(yaml: yaml, path: Fixture.file, context: context) { files[$0] }
        let input = PlanInput(inventory: inventory, command: .deploy, version: "v2", hosts: inventory.hosts,
                              run: RunContext(runId: "run-1", who: "tester@ci", pid: 42, startedAt: "2026-11-27T10:00:00Z"),
                              playbookNames: ["deploy.sh", "hook.sh", "lib.sh", "lock.sh", "preflight.sh", "rollback.sh"],
                              playbooksDir: "/fleet/playbooks", rollbackOnFailure: true)
        return (try PlanBuilder.build(input), inventory)
    }

    func planned(_ plan: Plan, _ host: String, stages: [Stage]) -> [RecordingTransport.Call] {
        stages.flatMap { $0.hosts.filter { $0.host == host }.flatMap(\.steps) }
            .map { RecordingTransport.Call(host: host, kind: .run, text: $0.command ?? "", mode: nil) }
    }

    @Test func everyStepOfEveryHostRanAsPlanned() async throws {
        let (plan, inventory) = try Self.plan()
        let kinds = Set(plan.stages.map(\.kind))
        #expect(kinds.isSuperset(of: [.preflight, .imageCheck, .hook, .batch]), "\(kinds)")
        let steps = plan.stages.flatMap { $0.hosts.flatMap(\.steps) }.compactMap(\.command)
        #expect(steps.contains { $0.contains("preflight.sh") && $0.contains("--login") }, "the registry login is a step")
        #expect(steps.contains { $0.contains("hook.sh") }, "the hooks are steps")
        let transport = RecordingTransport()
        let report = await Executor(plan: plan, sessions: ExecutorTests.sessions(transport, inventory), files: ExecutorTests.files(plan)).run()
        #expect(report.exitCode == 0, "\(report.hosts)")
        for host in plan.hosts.map(\.name) {
            let all = plan.stages + [Stage(kind: .batch, title: "finally", hosts: plan.finally)]
            #expect(transport.calls(for: host) == planned(plan, host, stages: all), "\(host)")
            #expect(transport.connection(for: host) == plan.hosts.first { $0.name == host }?.connection, "\(host): connected as planned")
        }
    }

    /// A failure in the second batch: the host the first batch updated runs the plan's undo steps, exactly, and
    /// then its release.
    @Test func theUndoStepsRanAsPlanned() async throws {
        let (plan, inventory) = try Self.plan()
        let first = try #require(plan.stages.first { $0.kind == .batch }?.hosts.first?.host)
        let second = try #require(plan.stages.filter { $0.kind == .batch }.dropFirst().first?.hosts.first?.host)
        let transport = RecordingTransport(failures: [(host: second, contains: "deploy.sh", status: 11)])
        let report = await Executor(plan: plan, sessions: ExecutorTests.sessions(transport, inventory), files: ExecutorTests.files(plan)).run()
        #expect(report.hosts.first { $0.host == first }?.outcome == .rolledBack, "\(report.hosts)")
        let undo = planned(plan, first, stages: [Stage(kind: .batch, title: "undo", hosts: plan.onFailure)])
        let release = planned(plan, first, stages: [Stage(kind: .batch, title: "finally", hosts: plan.finally)])
        #expect(!undo.isEmpty)
        let calls = transport.calls(for: first)
        #expect(Array(calls.suffix(undo.count + release.count)) == undo + release, "\(calls.map(\.text))")
    }
}

/// The after_rollout hook runs on the lead host; when that host failed its own swap (a run that tolerates a
/// failure), the hook is not silently left out: the run halts saying why.
@Suite struct HookHostFailedTests {
    @Test func afterRolloutOnAFailedLeadHostHaltsTheRun() async throws {
        let (planned, inventory) = try ExecutorFullPlanTests.plan()
        var plan = planned
        plan.policy.maxFailures = 5
        plan.policy.rollbackOnFailure = false
        plan.onFailure = []
        let lead = try #require(plan.leadHost)
        #expect(plan.stages.last?.kind == .hook && plan.stages.last?.hosts.first?.host == lead)
        let transport = RecordingTransport(failures: [(host: lead, contains: "deploy.sh", status: 11)])
        let report = await Executor(plan: plan, sessions: ExecutorTests.sessions(transport, inventory), files: ExecutorTests.files(plan)).run()
        #expect(report.exitCode == ExitStatus.hostFailed)
        #expect(report.haltReason == "the after_rollout hook could not run: its host \(lead) failed earlier in this run")
        #expect(!transport.calls(for: lead).contains { $0.text.contains("hook.sh") && $0.text.contains("--env release") })
    }
}
