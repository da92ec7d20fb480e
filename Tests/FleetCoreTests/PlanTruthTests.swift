import Foundation
import Testing
@testable import FleetCore

/// The plan's text says what happens in every case (issue 19, item 6): no env file is "none", never the
/// inventory's path; hosts that run no web process show no nginx health wait.
@Suite struct PlanTruthTests {
    @Test func withoutAnEnvFileThePlanSaysNone() throws {
        let inventory = try EnvSettingsTests().load("env:\n  clear: {LEVEL: info}\n  secret: [SHOP_DATABASE_URL]\n")
        #expect(inventory.envFile?.file == nil)
        let plan = try PlanBuilder.build(try PlanTests.input(inventory))
        let text = PlanRenderer.text(plan)
        #expect(!text.contains("env file \(Fixture.file)") && !text.contains("env file    \(Fixture.file)"), "the inventory is no env file:\n\(text)")
        #expect(text.contains("  env file    none\n"), "\(text)")
        #expect(text.contains("the values of env: in the inventory [2 keys: LEVEL, SHOP_DATABASE_URL; values not shown], env file none -> "))
        #expect(plan.envFile?.path == nil && PlanRenderer.json(plan).components(separatedBy: Fixture.file).count == 2)  // "inventory" only
        let uploads = plan.stages.flatMap { $0.hosts.flatMap(\.steps) }.flatMap { $0.files ?? [] }.map(\.source)
        #expect(uploads.filter { $0.kind == .envFile }.allSatisfy { $0.localPath == nil })
    }

    @Test func withNothingAtAllAnEmptyEnvFileIsUploaded() throws {
        let plan = try PlanBuilder.build(try PlanTests.input(try Fixture.load(Fixture.minimal)))
        let text = PlanRenderer.text(plan)
        #expect(text.contains("  env file    none (an empty env file is uploaded)\n") && text.contains("an empty env file -> "))
    }

    @Test func anEnvFileWithEnvSettingsIsNamed() throws {
        let inventory = try EnvSettingsTests().load("env:\n  clear: {LEVEL: debug}\n", envFile: true)
        let text = PlanRenderer.text(try PlanBuilder.build(try PlanTests.input(inventory)))
        #expect(text.contains("  env file    \(Fixture.envPath)\n"), "\(text)")
    }

    static let workersOnly = """
    app: shop
    image: registry.example.com/acme/shop
    processes:
      job:
        role: worker
        cmd: [bin/jobs]
        stop_timeout: 60s
    hosts:
      jobs1: 10.0.0.13
      jobs2: 10.0.0.14

    """

    @Test func anAppOfWorkersOnlyShowsNoHealthWait() throws {
        let plan = try PlanBuilder.build(try PlanTests.input(try Fixture.load(Self.workersOnly)))
        let text = PlanRenderer.text(plan)
        #expect(!text.contains("health wait 30s") && !text.contains("wait for health") && !text.contains("drain"), "\(text)")
        #expect(text.contains("  per host    workers only: the swap takes at most 155s, no nginx health wait (workers: check 5s, stop 60s before SIGKILL, docker 90s)\n"),
                "\(text)")
        let swaps = plan.stages.filter { $0.kind == .batch }.flatMap { $0.hosts.flatMap(\.steps) }
        #expect(!swaps.isEmpty && swaps.allSatisfy { $0.timeoutSeconds == 155 })
        #expect(swaps.allSatisfy { $0.check == nil && $0.command?.contains("curl") == false })
    }

    @Test func hostsWithoutTheWebProcessAreNamed() throws {
        let plan = try PlanBuilder.build(try PlanTests.input(try Fixture.load(ProcessesTests.inventory)))
        #expect(plan.hostTime?.workersOnly == ["jobs1"])
        let text = PlanRenderer.text(plan)
        #expect(text.contains("  per host    with the web process: the swap takes at most 307s (health wait 30s twice"))
        #expect(text.contains("  per host    workers only (jobs1): the swap takes at most 215s, no nginx health wait"))
    }
}
