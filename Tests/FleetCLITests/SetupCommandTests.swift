import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// setup.sh writes /etc: it never runs against the lab. These tests check the arguments and the dry run.
@Suite("fleet setup (dry run and arguments only)")
struct SetupCommandTests {
    let env = LabApp.environment

    @Test func dryRunShowsEveryStepAndContactsNoHost() async throws {
        let path = try writeInventory(labInventory(hosts: "  web1: 10.77.0.11\n  web2: 10.77.0.12"))
        let captured = Captured()
        let code = try await Setup.parse(["--inventory", path, "--user", "fleetlab", "--dry-run", "--hosts", "web2"])
            .run(context: captured.context(environment: env, transport: { FailingTransport() }))
        #expect(code == 0, "\(captured.err)")
        #expect(captured.out.hasPrefix("== web2 (root@10.77.0.12)\n"), "\(captured.out)")
        #expect(!captured.out.contains("web1"))
        #expect(captured.out.contains("            setup.sh (0755)\n"))
        #expect(captured.out.contains("            lib.sh (0755)\n"))
        #expect(captured.out.contains("APP=demo"))
        #expect(captured.out.contains("tar -x -o -f - -C \"$d\"; bash \"$d\"/setup.sh --config \"$d\"/fleet.conf --user fleetlab\n"))
    }

    @Test func nonRootLoginGoesThroughSudo() async throws {
        let path = try writeInventory(labInventory(hosts: "  web1: 10.77.0.11"))
        let captured = Captured()
        #expect(try await Setup.parse(["--inventory", path, "--user", "deploy", "--login", "admin", "--dry-run"])
            .run(context: captured.context(environment: env)) == 0)
        #expect(captured.out.contains("(admin@10.77.0.11)"))
        #expect(captured.out.contains("sudo -n bash \"$d\"/setup.sh --config \"$d\"/fleet.conf --user deploy"))
    }

    @Test func refusesRootOrBadDeployUsers() async throws {
        // The lab inventory logs in as root, so without --user the deploy user would be root.
        let path = try writeInventory(labInventory(hosts: "  web1: 10.77.0.11"))
        for (args, words) in [([String](), "must not be root"), (["--user", "root"], "must not be root"),
                              (["--user", "Bad User"], "expected a login name"), (["--user", "ok", "--login", "x;y"], "--login")] {
            let captured = Captured()
            let code = try await Setup.parse(["--inventory", path, "--dry-run"] + args)
                .run(context: captured.context(environment: env, transport: { FailingTransport() }))
            #expect(code == 2, "\(args)")
            #expect(captured.err.contains(words), "\(args): \(captured.err)")
            #expect(captured.out.isEmpty)
        }
    }

    @Test func unreachableHostFailsWithItsName() async throws {
        let path = try writeInventory(labInventory(hosts: "  dead: 10.77.0.99", connectTimeout: "1s"))
        let captured = Captured()
        let code = try await Setup.parse(["--inventory", path, "--user", "deploy"]).run(context: captured.context(environment: env))
        #expect(code == 1)
        #expect(captured.err.contains("dead") && captured.err.contains("run fleet setup again"), "\(captured.err)")
    }
}

/// A transport that must not be used.
struct FailingTransport: Transport {
    func connect(_ host: HostEntry) async throws -> any HostSession {
        Issue.record("contacted \(host.name)")
        throw HostFailure(host: host.name, message: "must not connect")
    }
}
