import Foundation
import Testing
@testable import FleetCore

@Suite struct PlanTests {
    static let run = RunContext(runId: "20261127T103000Z-4242", who: "alice@laptop", pid: 4242, startedAt: "2026-11-27T10:30:00Z")
    static let playbooks = ["lib.sh", "lock.sh", "preflight.sh", "deploy.sh", "rollback.sh", "hook.sh"]

    static func input(_ inv: Inventory, _ command: PlanCommand = .deploy, version: String? = "v1.4.2", to: String? = nil,
                      hosts: [String] = [], probe: [String: HostState]? = nil, force: Bool = false,
                      rollbackOnFailure: Bool = false) throws -> PlanInput {
        PlanInput(inventory: inv, command: command, version: version, rollbackTo: to,
                  hosts: try selectHosts(inv, patterns: hosts), run: run, playbookNames: playbooks,
                  playbooksDir: "/srv/app/playbooks", probe: probe, force: force, rollbackOnFailure: rollbackOnFailure,
                  fleetVersion: "0.0.0-golden") // pinned: a release's version bump leaves the golden files alone
    }

    @Test func deployGolden() throws {
        let inv = try Fixture.load(Fixture.full)
        let plan = try PlanBuilder.build(try Self.input(inv, probe: ["web3": HostState(release: "v1.4.2", slot: "green")],
                                                        rollbackOnFailure: true))
        try Golden.check(PlanRenderer.text(plan), "deploy.txt")
        try Golden.checkPlanJSON(plan, "deploy")
        let decoded = try JSONDecoder().decode(Plan.self, from: Data(PlanRenderer.json(plan).utf8))
        #expect(decoded == plan)
    }

    @Test func rollbackGolden() throws {
        let inv = try Fixture.load(Fixture.minimal + "paths: {root: \"/tmp/lab/{host}/opt\", state: \"/tmp/lab/{host}/state\"}\n")
        let plan = try PlanBuilder.build(try Self.input(inv, .rollback, version: nil))
        try Golden.check(PlanRenderer.text(plan), "rollback.txt")
        try Golden.checkPlanJSON(plan, "rollback")
        let to = try PlanBuilder.build(try Self.input(inv, .rollback, version: nil, to: "v1.4.1", hosts: ["web2"]))
        // The swap, then (it succeeded) the verify endpoints through nginx in the same command, never its status.
        #expect(to.stages.last { $0.kind == .batch }?.hosts.first?.steps.first?.command
                == "/tmp/lab/web2/opt/bin/rollback.sh --config /tmp/lab/web2/opt/fleet.conf --to v1.4.1 --run-id 20261127T103000Z-4242"
                + " || exit \"$?\"; echo fleet-verify:; (command -v curl >/dev/null || { echo 'curl is not installed' >&2; exit 127; }; "
                + "for u in http://127.0.0.1:80/health; do curl -s -o /dev/null --connect-timeout 3 --max-time 10 -w '%{http_code} %{time_total}\\n' \"$u\" || true; done) || true")
    }

    @Test func deployStepsAreExact() throws {
        let inv = try Fixture.load(Fixture.full)
        let plan = try PlanBuilder.build(try Self.input(inv, hosts: ["web1"]))
        let pre = try #require(plan.stages.first)
        #expect(pre.kind == .preflight)
        let steps = pre.hosts[0].steps
        // The lock is taken from the unpacked copy; only then do the files move into place (a refused run changes
        // nothing another run uses).
        let lock = "\"$t\"/0/lock.sh --config \"$t\"/1/fleet.conf acquire --run-id 20261127T103000Z-4242 --who alice@laptop --pid 4242 --command deploy --version v1.4.2"
        // One round trip: unpack, lock, files into place, the env file (a 0600 member of the same stream) into
        // incoming/, then pre-flight with the pull. A lock script that fails otherwise than "held" (3) took nothing.
        #expect(steps.count == 1)
        #expect(steps.first?.command == "set -e; umask 022; { install -d -m 0755 /opt/fleet/shop /opt/fleet/shop/bin && "
                + "install -d -m 0700 /opt/fleet/shop/incoming && t=$(mktemp -d /opt/fleet/shop/.fleet-install.XXXXXX) && "
                + "trap 'rm -rf \"$t\"' EXIT && tar -x -o -f - -C \"$t\"; } || exit 97; if " + lock
                + "; then :; else s=$?; [ \"$s\" -eq 3 ] || s=97; exit \"$s\"; fi; echo fleet-lock-held; "
                + "mv -f \"$t\"/0/* /opt/fleet/shop/bin/; mv -f \"$t\"/1/* /opt/fleet/shop/; "
                + "mv -f \"$t\"/2/env /opt/fleet/shop/incoming/v1.4.2.env; "
                + "rm -rf \"$t\"; trap - EXIT; "
                + "exec /opt/fleet/shop/bin/preflight.sh --config /opt/fleet/shop/fleet.conf --version v1.4.2 --pull")
        #expect(steps.first?.script == "lock")
        let installed = steps.first?.files ?? []
        #expect(installed.filter { $0.source.kind == .playbook }.map(\.path) == Self.playbooks.map { "/opt/fleet/shop/bin/" + $0 })
        #expect(installed.suffix(3).dropLast().map(\.path) == ["/opt/fleet/shop/fleet.conf", "/opt/fleet/shop/container.args"])
        #expect(installed.suffix(3).dropLast().allSatisfy { $0.mode == "0644" })
        let env = try #require(installed.last)
        #expect(env.source.kind == .envFile && env.source.count == 3 && env.mode == "0600" && env.member == "2/env")
        #expect(env.path == "/opt/fleet/shop/incoming/v1.4.2.env")
        let hook = try #require(plan.stages.first { $0.kind == .hook })
        // Hooks name the version and which of its env files, never a path an earlier step moves: before the
        // batches the upload pre-flight wrote, after them the release's own (deploy.sh moved the upload there).
        #expect(hook.hosts[0].steps[0].command == "/opt/fleet/shop/bin/hook.sh --config /opt/fleet/shop/fleet.conf --version v1.4.2 --env incoming -- alembic upgrade head")
        let after = try #require(plan.stages.last)
        #expect(after.hosts[0].steps[0].command == "/opt/fleet/shop/bin/hook.sh --config /opt/fleet/shop/fleet.conf --version v1.4.2 --env release -- pytest 'tests/smoke suite'")
        #expect(plan.stages.flatMap { $0.hosts.flatMap(\.steps) }.filter { $0.script == "hook" }.allSatisfy { !($0.command ?? "").contains("incoming/") })
        #expect(plan.finally[0].steps[0].command == "/opt/fleet/shop/bin/lock.sh --config /opt/fleet/shop/fleet.conf release --run-id 20261127T103000Z-4242")
        #expect(plan.onFailure.isEmpty)
    }

    @Test func probeSkipsAndForce() throws {
        let inv = try Fixture.load(Fixture.full)
        let probe = ["web1": HostState(release: "v1.4.2"), "web2": HostState(release: "v1.4.1"), "db1": HostState(error: "unreachable")]
        let plan = try PlanBuilder.build(try Self.input(inv, probe: probe))
        #expect(plan.skipped.map(\.name) == ["web1"])
        #expect(plan.hosts.map(\.name) == ["web2", "web3", "db1"])
        let forced = try PlanBuilder.build(try Self.input(inv, probe: probe, force: true))
        #expect(forced.skipped.isEmpty)
        let none = try PlanBuilder.build(try Self.input(inv, hosts: ["web1"], probe: probe))
        #expect(none.stages.isEmpty && none.finally.isEmpty)
        #expect(PlanRenderer.text(none).contains("Nothing to do"))
    }

    @Test func secretsAbsentFromPlan() throws {
        let inv = try Fixture.load(Fixture.full)
        let plan = try PlanBuilder.build(try Self.input(inv))
        for text in [PlanRenderer.text(plan), PlanRenderer.json(plan), String(describing: plan)] {
            #expect(!text.contains("hunter2"))
            #expect(!text.contains("s3cr3t"))
            #expect(text.contains("SECRET_KEY"))
        }
    }

    @Test func badVersionsRefused() throws {
        let inv = try Fixture.load(Fixture.minimal)
        for bad in ["v1;rm -rf /", "$(id)", "v 1", "v1\nid", "", ".hidden", "-rf", "`id`", String(repeating: "a", count: 129)] {
            let e = #expect(throws: InputError.self) { try PlanBuilder.build(try Self.input(inv, version: bad)) }
            #expect(e?.description.hasPrefix("version: ") == true)
            #expect(e.map { !$0.message.contains("\n") } == true)
        }
        for good in ["v1.4.2", "latest", "1.0", "_x", "A-b_c.9", String(repeating: "a", count: 128)] {
            #expect(throws: Never.self) { try validateVersion(good) }
        }
        #expect(throws: InputError.self) { try PlanBuilder.build(try Self.input(inv, version: nil)) }
    }

    /// deploy.sh moves the upload pre-flight wrote (ROOT/incoming/V.env) into the release: no later step of the same
    /// host (hook, verify, undo, release) may name it.
    @Test func noStepNamesTheUploadAfterTheDeployMovedIt() throws {
        let inv = try Fixture.load(Fixture.full)
        let plan = try PlanBuilder.build(try Self.input(inv, rollbackOnFailure: true))
        var moved: Set<String> = []
        for hostSteps in plan.stages.flatMap(\.hosts) + plan.onFailure + plan.finally {
            for step in hostSteps.steps {
                let command = step.command ?? ""
                if moved.contains(hostSteps.host) {
                    #expect(!command.contains("/incoming/v1.4.2.env"), "\(hostSteps.host): \(command)")
                }
                if step.script == "deploy" { moved.insert(hostSteps.host) }
            }
        }
        #expect(!moved.isEmpty && plan.stages.last?.kind == .hook)
    }

    @Test func unsafeRunContextRefused() throws {
        let inv = try Fixture.load(Fixture.minimal)
        var input = try Self.input(inv)
        input.run.who = "alice@laptop;id"
        let e = #expect(throws: InputError.self) { try PlanBuilder.build(input) }
        #expect(e?.message.contains("1 to 128 letters, digits or @ . _ : + -") == true)
        input = try Self.input(inv)
        input.playbookNames = ["../evil.sh"]
        let bad = #expect(throws: PlaybooksError.self) { try PlanBuilder.build(input) }
        #expect(bad?.message.contains("'../evil.sh' must be a plain file name") == true)
    }
}
