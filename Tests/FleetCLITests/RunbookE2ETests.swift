@testable import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// Every `$ fleet ...` line of docs/runbooks runs, in the runbook's order, against the lab set up in the
/// situation the runbook is for (a broken release, a host that is down, a stale lock...). `--env production`
/// and `--env staging` are inventories of the lab's hosts; v42 is the lab's v2 and v40 its v1.
extension DeployE2ETests {
    struct RunbookCommand {
        var file: String
        var line: Int
        var block: Int
        var text: String
        var arguments: [String]
    }

    /// The commands of one runbook, with the console block each belongs to.
    static func runbookCommands(_ file: String) throws -> [RunbookCommand] {
        let text = try String(contentsOfFile: E2E.repo + "/docs/runbooks/" + file, encoding: .utf8)
        var commands: [RunbookCommand] = []
        var block = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("```console") { block += 1 }
            guard line.hasPrefix("$ fleet ") else { continue }
            var words = try #require(ShellWords.split(String(line.dropFirst("$ fleet ".count))), "\(file):\(index + 1)")
            if let redirect = words.firstIndex(of: ">") { words.removeSubrange(redirect..<min(redirect + 2, words.count)) }
            words = words.map { ["v42": "v2", "v40": "v1"][$0] ?? $0 }
            commands.append(RunbookCommand(file: file, line: index + 1, block: block, text: String(line.dropFirst(2)), arguments: words))
        }
        return commands
    }

    /// An app folder whose inventory/ holds production.yml and staging.yml for the lab's hosts.
    static func runbookApp() throws -> String {
        let inventory = try E2E.inventory()
        let source = (inventory as NSString).deletingLastPathComponent
        let app = (source as NSString).deletingLastPathComponent + "/app"
        try FileManager.default.createDirectory(atPath: app + "/inventory", withIntermediateDirectories: true)
        for name in ["production", "staging"] {
            try FileManager.default.copyItem(atPath: inventory, toPath: "\(app)/inventory/\(name).yml")
        }
        try FileManager.default.copyItem(atPath: source + "/e2e.env", toPath: app + "/inventory/e2e.env")
        return app
    }

    func runRunbook(_ command: RunbookCommand, in app: String) async throws -> (Int32, Captured) {
        let captured = Captured()
        let parsed = try FleetCommand.parseAsRoot(command.arguments)
        let runnable = try #require(parsed as? any ContextCommand, "\(command.file):\(command.line): not a fleet subcommand")
        let context = captured.context(cwd: app, environment: ["FLEET_PLAYBOOKS": E2E.repo + "/playbooks", "USER": "oncall"])
        return (try await runnable.run(context: context), captured)
    }

    @Test func everyRunbookCommandRunsInItsSituation() async throws {
        let app = try Self.runbookApp()
        let production = app + "/inventory/production.yml"
        let web3 = 3
        // Exit codes other than 0 that a runbook's situation calls for, by file:line.
        let expected: [String: Int32] = [
            "failed-health-check.md:25": 1,     // the lab keeps docker's data elsewhere: df says so, exit 1
            "host-never-came-back.md:9": 1,     // status: web3 unreachable
            "host-never-came-back.md:10": 4,    // plan --probe: web3 unreachable, as deploy's pre-flight would stop
            "host-never-came-back.md:40": 1,    // the rest deployed; web3 unreachable, so not all on v42 (the runbook says so)
        ]
        var results: [String] = []
        for file in ["deploy.md", "failed-health-check.md", "host-never-came-back.md", "stale-lock.md", "rollback.md",
                     "changed-host-key.md"] {
            let commands = try Self.runbookCommands(file)
            #expect(!commands.isEmpty, "\(file) has no fleet commands")
            // The situation each runbook is for.
            switch file {
            case "deploy.md":
                #expect(try await deploy(production, ["v1"]).0 == 0)
            case "failed-health-check.md":
                #expect(try await deploy(production, ["v3"]).0 == 1)
            case "host-never-came-back.md":
                await E2E.lab("stop-sshd web\(web3)")
            case "stale-lock.md":
                let state = "\(Lab.dir)/hosts/web2/opt"
                await sh("\(state)/bin/lock.sh --config \(state)/fleet.conf acquire --run-id crashed-run --who alice@laptop --pid 4242 --command deploy --version v9 >/dev/null 2>&1")
                #expect(try await deploy(production, ["v2"]).0 == 3)
            default:
                break
            }
            var started = false
            for command in commands {
                // host-never-came-back: the last block is for when the host is back.
                if file == "host-never-came-back.md", command.block == commands.last?.block, !started {
                    await E2E.lab("start-sshd web\(web3)")
                    started = true
                }
                let (code, captured) = try await runRunbook(command, in: app)
                let want = expected["\(file):\(command.line)"] ?? 0
                results.append("\(file):\(command.line) exit \(code): fleet \(command.arguments.joined(separator: " "))")
                #expect(code == want, "\(file):\(command.line) `\(command.text)` exit \(code)\n\(captured.err.suffix(1500))\(captured.out.suffix(500))")
            }
            // What the runbook leaves: v42 everywhere, until rollback.md's last line takes every host to v40.
            let version = ["rollback.md", "changed-host-key.md"].contains(file) ? "v1" : "v2"
            if file == "host-never-came-back.md", !started { await E2E.lab("start-sshd web\(web3)") }
            #expect(await E2E.serving(1...E2E.hostCount) == Array(repeating: version, count: E2E.hostCount), "after \(file)")
        }
        await E2E.lab("start-sshd web\(web3)")
        // Every runbook leaves the fleet serving: each host healthy, no lock left.
        for host in 1...E2E.hostCount {
            #expect(await E2E.health(host) == "200", "web\(host)")
            #expect(await !E2E.fleetLockHeld(host), "web\(host)")
        }
        #expect(results.count >= 30, "\(results.joined(separator: "\n"))")
    }
}
