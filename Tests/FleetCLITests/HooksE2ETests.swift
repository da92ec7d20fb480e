import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// `hooks.before_rollout` and `hooks.after_rollout` on the lab, in an app of its own ("hooks-e2e": its own containers,
/// ports, folders and nginx on web1 and web2): both hooks run in the new image with the release's env (the env file
/// and a secret from fleet's environment), their output is shown (plain progress, `--json` events, the recap when
/// one fails), and a failing hook halts the deploy with exit 1 before any host changed.
@Suite("Hooks on the lab", .serialized)
struct HooksE2ETests {
    static let secret = "hook-s3cr3t-\(UInt32.random(in: 0...UInt32.max))"
    static let greeting = "hello-from-the-env-file"

    /// What a hook prints of its env: a value of the env file, and whether the secret is set (and its length),
    /// never the secret itself; one line on stdout and one on stderr.
    static func show(_ name: String) -> String {
        "[sh, -c, 'echo \"\(name): GREETING=$GREETING token=${HOOKS_TOKEN:+set} length=${#HOOKS_TOKEN}\"; echo \"\(name) on stderr\" >&2']"
    }

    static func yaml(before: String, after: String) -> String {
        """
        env_file: hooks.env
        env:
          secret: [HOOKS_TOKEN]
        rollout: {batch: 1}
        hooks:
          before_rollout: \(before)
          after_rollout: \(after)

        """
    }

    func deploy(_ inventory: String, _ args: [String]) async throws -> (Int32, Captured) {
        let captured = Captured()
        var environment = LabApp.environment
        environment["USER"] = "e2e"
        environment["HOOKS_TOKEN"] = Self.secret
        let code = try await Deploy.parse(["--inventory", inventory] + args).run(context: captured.context(environment: environment))
        return (code, captured)
    }

    /// The version the app's nginx serves on each host, as "web1 v1" (lab.shell answers "exit N: OUTPUT").
    func serving(_ lab: LabApp) async throws -> [String] {
        let answers = try await lab.shell({ _ in "curl -s -m 5 http://127.0.0.1:\(lab.nginxPort)/version" }, on: lab.hosts.map(\.name))
        return zip(lab.hosts, answers).map { host, answer in
            "\(host.name) " + answer.replacingOccurrences(of: "exit 0: ", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Files a run left on a host: its uploads in `incoming/` and a fleet lock.
    func leftovers(_ lab: LabApp) -> [String] {
        lab.hosts.flatMap { host in
            let incoming = (try? FileManager.default.contentsOfDirectory(atPath: "\(lab.dir)/\(host.name)/opt/incoming")) ?? []
            let lock = FileManager.default.fileExists(atPath: "\(lab.dir)/\(host.name)/state/fleet.lock") ? ["fleet.lock"] : []
            return (incoming + lock).map { "\(host.name): \($0)" }
        }
    }

    @Test func bothHooksSeeTheReleaseEnvAndAFailingHookChangesNothing() async throws {
        let lab = try LabApp(app: "hooks-e2e", hosts: [("web1", "10.77.0.11"), ("web2", "10.77.0.12")],
                             nginxPort: 18197, ports: (19211, 19212))
        try "GREETING=\(Self.greeting)\n".write(toFile: lab.dir + "/inventory/hooks.env", atomically: true, encoding: .utf8)
        let inventory = try lab.writeInventory(name: "hooks", extra: Self.yaml(before: Self.show("before"), after: Self.show("after")))
        let failing = try lab.writeInventory(name: "failing", extra: Self.yaml(
            before: "[sh, -c, 'echo \"the hook says no\"; echo \"last words\" >&2; exit 3']", after: Self.show("after")))
        let seen = "GREETING=\(Self.greeting) token=set length=\(Self.secret.count)"
        try await lab.use {
            // Plain progress: both hooks exit 0; each line they print is shown as it comes, on the first host.
            let (code, plain) = try await deploy(inventory, ["v1"])
            #expect(code == 0, "\(plain.err)")
            for line in ["web1 before_rollout | before: \(seen)", "web1 before_rollout | before on stderr",
                         "web1 after_rollout | after: \(seen)", "web1 after_rollout | after on stderr"] {
                #expect(plain.err.contains(line), "\(line) not in:\n\(plain.err)")
            }
            #expect(!plain.err.contains("web2 before_rollout") && !plain.err.contains("web1 after_rollout | {"))
            #expect(try await serving(lab) == ["web1 v1", "web2 v1"])

            // --json: the hooks' lines are `output` events, in order, before the report.
            let (jsonCode, json) = try await deploy(inventory, ["--json", "v2"])
            #expect(jsonCode == 0, "\(json.out)")
            let events = jsonObjects(json.out)
            let output = events.filter { $0["event"] as? String == "output" }
            let lines = output.map { "\($0["host"] as? String ?? "") \($0["phase"] as? String ?? "") \($0["stream"] as? String ?? ""): \($0["line"] as? String ?? "")" }
            for line in ["web1 before_rollout stderr: before: \(seen)", "web1 after_rollout stderr: after: \(seen)",
                         "web1 after_rollout stderr: after on stderr"] {
                #expect(lines.contains(line), "\(line) not in \(lines)")
            }
            #expect(events.last?["event"] as? String == "report")
            #expect(try await serving(lab) == ["web1 v2", "web2 v2"])

            // A failing before_rollout: exit 1, halted before any batch; its last lines in the recap; both hosts
            // still serve v2; no upload or lock left behind.
            let (refused, recap) = try await deploy(failing, ["v1"])
            #expect(refused == ExitStatus.hostFailed, "\(recap.err)")
            #expect(recap.err.contains("web1 before_rollout | the hook says no"), "\(recap.err)")
            #expect(recap.err.contains("halted: the before_rollout hook failed on web1"), "\(recap.err)")
            #expect(recap.err.contains("failed: web1 (before_rollout, exit 1)"), "\(recap.err)")
            #expect(recap.err.contains("  | the hook says no") && recap.err.contains("  | last words"), "\(recap.err)")
            #expect(recap.err.contains("not started (1): web2"), "\(recap.err)")
            #expect(!recap.err.contains("after_rollout"), "\(recap.err)")
            #expect(try await serving(lab) == ["web1 v2", "web2 v2"])
            #expect(leftovers(lab).isEmpty, "\(leftovers(lab))")

            // The same with --json: the report's host entry carries the exit code and the hook's last lines.
            let (refusedJSON, failedJSON) = try await deploy(failing, ["--json", "v1"])
            #expect(refusedJSON == ExitStatus.hostFailed, "\(failedJSON.out)")
            let report = try #require(jsonObjects(failedJSON.out).last?["report"] as? [String: Any])
            let hosts = Dictionary(uniqueKeysWithValues: ((report["hosts"] as? [[String: Any]]) ?? []).compactMap { h in
                (h["host"] as? String).map { ($0, h) }
            })
            #expect(report["exit_code"] as? Int == 1)
            #expect(hosts["web1"]?["outcome"] as? String == "failed" && hosts["web1"]?["phase"] as? String == "before_rollout")
            #expect(hosts["web1"]?["exit_code"] as? Int == 1)
            #expect((hosts["web1"]?["last_lines"] as? [String])?.contains("the hook says no") == true, "\(hosts["web1"] ?? [:])")
            #expect(hosts["web2"]?["outcome"] as? String == "not_started")
            #expect(jsonObjects(failedJSON.out).contains { $0["event"] as? String == "output" && $0["line"] as? String == "last words" })
            #expect(try await serving(lab) == ["web1 v2", "web2 v2"])
            #expect(leftovers(lab).isEmpty, "\(leftovers(lab))")

            // The secret reached the hooks (their length above) and no output.
            for text in [plain.err, plain.out, json.out, json.err, recap.err, failedJSON.out] {
                #expect(!text.contains(Self.secret))
            }
        }
    }
}
