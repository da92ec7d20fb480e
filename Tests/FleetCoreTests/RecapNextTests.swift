import Testing
@testable import FleetCore

/// The "next:" line names the inventory the way the run did, so the command it suggests runs.
@Suite struct RecapNextTests {
    func report(inventory: String, environment: String, command: String = "deploy") -> RunReport {
        RunReport(runId: "r1", command: command, app: "shop", environment: environment, inventory: inventory, image: "x",
                  version: "v2", who: "a@b", startedAt: "", finishedAt: "", durationMs: 0, exitCode: 1, haltReason: nil,
                  hosts: [HostReport(host: "web2", outcome: .failed, phase: "deploy")])
    }

    @Test func envWhenTheInventoryIsWhereEnvLooks() {
        let next = Recap.nextSteps(report(inventory: "/srv/app/inventory/production.yml", environment: "production"))
        #expect(next == "next: fleet status --env production; fleet deploy --env production --retry-failed v2")
    }

    @Test func inventoryPathWhenTheRunUsedAFile() {
        let next = Recap.nextSteps(report(inventory: "/tmp/rt lab/rt.yml", environment: "rt"))
        #expect(next == "next: fleet status --inventory '/tmp/rt lab/rt.yml'; fleet deploy --inventory '/tmp/rt lab/rt.yml' --retry-failed v2")
    }

    @Test func aRollbackSuggestsARollbackOfTheFailedHosts() {
        let next = Recap.nextSteps(report(inventory: "/srv/app/inventory/production.yml", environment: "production", command: "rollback"))
        #expect(next == "next: fleet status --env production; once fixed: fleet rollback --env production --hosts web2")
    }
}
