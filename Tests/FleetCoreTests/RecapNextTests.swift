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

    /// A host that failed after its switch (exit 20) points at the runbook for a host whose nginx and records
    /// disagree; a failed health check (11) at its own; an exit no runbook covers gets none.
    @Test func failuresNameTheirRunbook() {
        var failed = report(inventory: "/srv/app/inventory/production.yml", environment: "production")
        failed.hosts = [HostReport(host: "web2", outcome: .failed, phase: "deploy", exitCode: 20, error: "web2: switch back failed"),
                        HostReport(host: "web3", outcome: .failed, phase: "deploy", exitCode: 11, error: "web3: never healthy"),
                        HostReport(host: "web4", outcome: .failed, phase: "deploy", exitCode: 19, error: "web4: tag moved")]
        let text = Recap.text(failed)
        #expect(text.contains("failed: web2 (deploy, exit 20)\n  switch back failed\n  runbook: docs/runbooks/host-disagrees.md\n"), "\(text)")
        #expect(text.contains("failed: web3 (deploy, exit 11)\n  never healthy\n  runbook: docs/runbooks/failed-health-check.md\n"), "\(text)")
        #expect(text.contains("failed: web4 (deploy, exit 19)\n  tag moved\nnext:"), "\(text)")
    }
}
