import Foundation
import Testing
@testable import FleetCore

@Suite struct BatchTests {
    @Test(arguments: [
        // (spec, hosts, sizes)
        ("1", 1, [1]), ("1", 7, [1, 1, 1, 1, 1, 1, 1]), ("3", 7, [3, 3, 1]), ("3", 10, [3, 3, 3, 1]), ("500", 100, [100]),
        ("\"25%\"", 1, [1]), ("\"25%\"", 7, [1, 1, 1, 1, 1, 1, 1]), ("\"30%\"", 10, [3, 3, 3, 1]),
        ("\"30%\"", 20, [6, 6, 6, 2]), ("\"25%\"", 100, [25, 25, 25, 25]), ("\"100%\"", 7, [7]), ("\"1%\"", 10, Array(repeating: 1, count: 10)),
        ("\"50%\"", 7, [3, 3, 1]), ("\"99%\"", 100, [99, 1]),
        ("[1, \"25%\", \"100%\"]", 1, [1]), ("[1, \"25%\", \"100%\"]", 7, [1, 1, 5]), ("[1, \"25%\", \"100%\"]", 10, [1, 2, 7]),
        ("[1, \"25%\", \"100%\"]", 100, [1, 25, 74]), ("[1, 5, \"20%\"]", 100, [1, 5, 20, 20, 20, 20, 14]),
        ("[2, \"10%\"]", 7, [2, 1, 1, 1, 1, 1]), ("[1, \"25%\"]", 10, [1, 2, 2, 2, 2, 1]),
    ] as [(String, Int, [Int])])
    func sizes(spec: String, hosts: Int, expected: [Int]) throws {
        let inv = try Fixture.load(Fixture.hosts(hosts, batch: spec))
        #expect(batchSizes(inv.rollout.batch, hostCount: hosts) == expected)
        let plan = try PlanBuilder.build(try PlanTests.input(inv))
        #expect(plan.stages.filter { $0.kind == .batch }.map(\.hosts.count) == expected)
        #expect(plan.stages.filter { $0.kind == .batch }.flatMap { $0.hosts.map(\.host) } == inv.hosts.map(\.name))
    }

    /// Percentages are of the selected hosts, not of the whole inventory.
    @Test func subsets() throws {
        let inv = try Fixture.load(Fixture.hosts(100, batch: "[1, \"50%\"]"))
        let plan = try PlanBuilder.build(try PlanTests.input(inv, hosts: ["h1?"]))  // h10..h19
        #expect(plan.hosts.map(\.name) == (10...19).map { "h\($0)" })
        #expect(plan.policy.batchSizes == [1, 5, 4])
        let skipped = try PlanBuilder.build(try PlanTests.input(inv, hosts: ["h1", "h2", "h3", "h4"],
                                                                 probe: ["h2": HostState(release: "v1.4.2")]))
        #expect(skipped.policy.batchSizes == [1, 1, 1])
        #expect(skipped.stages.filter { $0.kind == .batch }.map { $0.hosts.map(\.host) } == [["h1"], ["h3"], ["h4"]])
    }

    @Test func pausesBetweenBatchesOnly() throws {
        let inv = try Fixture.load(Fixture.hosts(3, batch: "1", extra: "rollout: {batch: 1, pause: 2m}\n").replacingOccurrences(of: "rollout: {batch: 1}\n", with: ""))
        let plan = try PlanBuilder.build(try PlanTests.input(inv))
        // Pre-flight on the first host alone (its lock decides between runs started at once), then the others.
        #expect(plan.stages.map(\.kind) == [.lock, .preflight, .imageCheck, .batch, .pause, .batch, .pause, .batch])
        #expect(plan.stages[0].hosts.map(\.host) == ["h1"] && plan.stages[1].hosts.map(\.host) == ["h2", "h3"])
        #expect(plan.stages[4].pauseMs == 120_000)
    }
}
