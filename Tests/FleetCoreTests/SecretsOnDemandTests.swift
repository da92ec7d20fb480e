import Foundation
import Testing
@testable import FleetCore

/// Only a deploy sends secrets: status, logs, exec, lock, history, verify and rollback load an inventory whose
/// `env.secret` and `registry` variables are not set (a shell on a laptop, not CI), read the ones that are (so they
/// can be masked), and list the others; a deploy plan built from such an inventory is refused naming them.
@Suite struct SecretsOnDemandTests {
    static let yaml = Fixture.minimal + "env:\n  secret: [SHOP_SECRET_KEY_BASE, SHOP_DATABASE_URL]\n"
        + "registry:\n  server: registry.example.com\n  username: {env: SHOP_REGISTRY_USER}\n  password: {env: SHOP_REGISTRY_PASSWORD}\n"

    func load(_ variables: [String: String], require: Bool) throws -> Inventory {
        let context = LoaderContext(home: "/home/tester", user: "tester", variables: variables, requireSecrets: require)
        let files = Fixture.files()
        return try InventoryLoader.parse(yaml: Self.yaml, path: Fixture.file, context: context) { files[$0] }
    }

    @Test func aCommandThatSendsNoSecretsLoadsWithoutThem() throws {
        let inventory = try load([:], require: false)
        #expect(inventory.unsetSecrets == ["SHOP_SECRET_KEY_BASE", "SHOP_DATABASE_URL", "SHOP_REGISTRY_USER", "SHOP_REGISTRY_PASSWORD"])
        #expect(inventory.envFile?.keys == [])
        let registry = try #require(inventory.registry)
        #expect(registry.server == "registry.example.com" && registry.passwordEnv == "SHOP_REGISTRY_PASSWORD" && registry.password.reveal().isEmpty)
        // A rollback sends none: its plan builds, with no login.
        let rollback = try PlanBuilder.build(try PlanTests.input(inventory, .rollback, version: nil))
        #expect(!PlanRenderer.text(rollback).contains("docker login"))
    }

    @Test func theOnesThatAreSetAreStillRead() throws {
        let key = "k3y-\(UUID().uuidString)"
        let inventory = try load(["SHOP_SECRET_KEY_BASE": key, "SHOP_REGISTRY_PASSWORD": "pw-\(key)"], require: false)
        #expect(inventory.unsetSecrets == ["SHOP_DATABASE_URL", "SHOP_REGISTRY_USER"])
        #expect(inventory.envFile?.secretValues == [key])
        #expect(inventory.registry?.password.reveal() == "pw-\(key)")
    }

    @Test func aDeployPlanRefusesAnInventoryReadWithoutThem() throws {
        let inventory = try load(["SHOP_REGISTRY_USER": "ci-bot"], require: false)
        let refused = #expect(throws: InputError.self) { try PlanBuilder.build(try PlanTests.input(inventory)) }
        #expect(refused?.message.contains("SHOP_SECRET_KEY_BASE, SHOP_DATABASE_URL, SHOP_REGISTRY_PASSWORD are not set in fleet's environment") == true,
                "\(String(describing: refused))")
        #expect(refused.map(ExitStatus.of) == ExitStatus.usage)
    }

    @Test func aDeployStillRequiresEveryOne() throws {
        let missing = #expect(throws: InventoryError.self) { try load(["SHOP_REGISTRY_USER": "ci-bot"], require: true) }
        #expect(missing?.message.contains("'SHOP_SECRET_KEY_BASE' is listed in env.secret but is not set") == true, "\(String(describing: missing))")
        let complete = try load(["SHOP_SECRET_KEY_BASE": "a", "SHOP_DATABASE_URL": "b", "SHOP_REGISTRY_USER": "ci-bot", "SHOP_REGISTRY_PASSWORD": "c"],
                                require: true)
        #expect(complete.unsetSecrets.isEmpty)
        #expect(try PlanBuilder.build(try PlanTests.input(complete)).hosts.isEmpty == false)
    }
}
