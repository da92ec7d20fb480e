import ArgumentParser
import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// Options are checked before any host is contacted (issue 19, item 5): an unknown option is exit 2 with a
/// "Did you mean", and an option that means nothing for a command is refused, not ignored. The inventory's hosts
/// are addresses nothing answers on; a counting transport shows that none was even tried.
@Suite struct OptionCheckTests {
    static func unreachable() throws -> String {
        try writeInventory(labInventory(hosts: """
              web1: 192.0.2.11
              web2: 192.0.2.12
              web3: 192.0.2.13
            """, connectTimeout: "2s"))
    }

    /// Runs fleet with the words; returns its exit code, stderr and the hosts it tried to reach.
    static func run(_ arguments: [String]) async throws -> (code: Int32, err: String, contacted: [String]) {
        let captured = Captured()
        let transport = CountingTransport()
        let code = await fleet(arguments, captured.context(transport: { transport }))
        return (code, captured.err, transport.contacted)
    }

    /// The bug: a typo before --hosts made exec take `--parralel 2 --hosts web1 -- true` as the command and run it
    /// on web1, web2 and web3.
    @Test func aMistypedOptionOfExecContactsNoHost() async throws {
        let result = try await Self.run(["exec", "-i", try Self.unreachable(), "--parralel", "2", "--hosts", "web1", "--", "true"])
        #expect(result.code == 2, "\(result.err)")
        #expect(result.err.contains("Unknown option '--parralel'"), "\(result.err)")
        #expect(result.err.contains("Did you mean '--parallel'?"), "\(result.err)")
        #expect(result.contacted.isEmpty, "contacted \(result.contacted)")
    }

    /// Without --, the command starts at its first word that is not an option; what follows is the command's own.
    @Test func execTakesTheCommandFromItsFirstWord() throws {
        #expect(try Exec.parse(["--hosts", "web1", "ls", "-la"]).command == ["ls", "-la"])
        #expect(try Exec.parse(["--hosts", "web1", "--", "ls", "-la"]).command == ["--", "ls", "-la"])
        #expect(try Exec.parse(["--", "--not-an-option-of-fleet"]).command == ["--", "--not-an-option-of-fleet"])
        #expect(throws: (any Error).self) { try Exec.parse(["--hosts", "web1", "-x", "--", "true"]) }
        #expect(throws: (any Error).self) { try Exec.parse(["--jsonn", "uptime"]) }
    }

    /// Every subcommand: a near typo and a far one are both exit 2, with a "Did you mean".
    @Test func everySubcommandRefusesAnUnknownOptionWithASuggestion() async throws {
        for (path, type) in FleetCommand.leaves() {
            let names = OptionNames.of(type)
            let first = try #require(names.first { $0.hasPrefix("--") }, "fleet \(path) lists no option")
            for typo in [first + "x", "--zzzzzzzzzzzz"] {
                let result = try await Self.run(path.split(separator: " ").map(String.init) + [typo, "v1"])
                #expect(result.code == 2, "fleet \(path) \(typo): \(result.err)")
                #expect(result.err.contains("Unknown option '\(typo)'. Did you mean '--"), "fleet \(path) \(typo): \(result.err)")
                #expect(result.contacted.isEmpty)
            }
        }
    }

    /// Options that mean nothing for the command: exit 2, the message names the option and the command, and no
    /// host is contacted.
    @Test(arguments: [
        (["rollback", "--rollback-on-failure"], "--rollback-on-failure", "fleet rollback"),
        (["rollback", "--strict-image"], "--strict-image", "fleet rollback"),
        (["rollback", "--force"], "--force", "fleet rollback"),
        (["rollback", "--dry-run", "--skip-unreachable"], "--skip-unreachable", "fleet rollback"),
        (["plan", "--force", "v1"], "--force", "fleet plan"),
        (["plan", "--skip-unreachable", "v1"], "--skip-unreachable", "fleet plan"),
        (["plan", "--pushgateway", "http://127.0.0.1:9", "v1"], "--pushgateway", "fleet plan"),
        (["plan", "--progress", "plain", "v1"], "--progress", "fleet plan"),
        (["deploy", "--force", "v1"], "--force", "fleet deploy"),
        (["deploy", "--dry-run", "--force", "v1"], "--force", "fleet deploy"),
        (["deploy", "--probe", "v1"], "--probe", "fleet deploy"),
        (["deploy", "--dry-run", "--skip-unreachable", "v1"], "--skip-unreachable", "fleet deploy"),
        (["deploy", "--dry-run", "--progress", "plain", "v1"], "--progress", "fleet deploy"),
        (["deploy", "--dry-run", "--pushgateway", "http://127.0.0.1:9", "v1"], "--pushgateway", "fleet deploy"),
        (["exec", "--playbooks", "/tmp", "--", "true"], "--playbooks", "fleet exec"),
        (["verify", "--playbooks", "/tmp"], "--playbooks", "fleet verify"),
    ])
    func meaninglessOptionsAreRefused(arguments: [String], option: String, command: String) async throws {
        let result = try await Self.run(arguments + ["-i", try Self.unreachable()])
        #expect(result.code == 2, "\(arguments): \(result.err)")
        #expect(result.err.contains(option) && result.err.contains(command), "\(arguments): \(result.err)")
        #expect(result.err.contains("means nothing here"), "\(arguments): \(result.err)")
        #expect(result.contacted.isEmpty, "\(arguments): contacted \(result.contacted)")
    }

    /// What they go with still parses.
    @Test func optionsWithWhatTheyGoWithParse() throws {
        _ = try PlanCommand.parse(["--probe", "--force", "v1"])
        _ = try Deploy.parse(["--dry-run", "--probe", "--force", "--rollback-on-failure", "--strict-image", "v1"])
        _ = try Deploy.parse(["--skip-unreachable", "--progress", "plain", "--pushgateway", "http://127.0.0.1:9", "v1"])
        _ = try Rollback.parse(["--skip-unreachable", "--progress", "plain", "--json"])
        _ = try Exec.parse(["--container", "--playbooks", "/tmp", "--", "true"])
    }

    @Test func theClosestOptionIsNamed() {
        #expect(OptionNames.closest(to: "--parralel", in: OptionNames.of(Exec.self)) == "--parallel")
        #expect(OptionNames.of(Exec.self).starts(with: ["-e", "--env", "-i", "--inventory", "--hosts"]))
        #expect(OptionNames.distance(Array("kitten"), Array("sitting")) == 3)
        let long = String(repeating: "-", count: 100_000)
        #expect(OptionNames.closest(to: long, in: ["--a"]) == "--a")
    }
}
