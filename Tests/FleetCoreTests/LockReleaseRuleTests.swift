import Testing
@testable import FleetCore

/// `LockReleaseRule.verdict`: `fleet lock release` never removes a lock while a run may be alive.
@Suite struct LockReleaseRuleTests {
    let hosts = ["web1", "web2", "web3"]
    let run = LockRecord(who: "bob@ci", pid: 7, command: "deploy", version: "v3", runId: "run-77")

    @Test func noRunAliveReleases() {
        #expect(LockReleaseRule.verdict(hosts: hosts, busy: [.success(nil), .success(nil), .success(nil)], force: nil) == .release)
    }

    @Test func aRunAliveAnywhereReleasesNothingUnlessForceNamesIt() {
        let busy: [Result<LockRecord?, HostFailure>] = [.success(nil), .success(run), .success(nil)]
        #expect(LockReleaseRule.verdict(hosts: hosts, busy: busy, force: nil) == .alive(["web2"], [run]))
        #expect(LockReleaseRule.verdict(hosts: hosts, busy: busy, force: "other-run") == .alive(["web2"], [run]))
        #expect(LockReleaseRule.verdict(hosts: hosts, busy: busy, force: "run-77") == .release)
    }

    @Test func aHostThatCannotBeReadReleasesNothing() {
        let down = HostFailure(host: "web3", message: "connection refused")
        let busy: [Result<LockRecord?, HostFailure>] = [.success(nil), .success(run), .failure(down)]
        #expect(LockReleaseRule.verdict(hosts: hosts, busy: busy, force: "run-77") == .unreadable([down]))
    }
}
