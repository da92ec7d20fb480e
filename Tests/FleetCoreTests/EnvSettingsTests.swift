import Foundation
import Testing
@testable import FleetCore

/// `env:` with `clear` values and `secret` names read from fleet's environment (what CI hands over), merged with
/// the env file: exact values on the host, never anywhere else.
@Suite struct EnvSettingsTests {
    static let tricky = "p@ss 'w\"o$rd' = \\back\\slash ünï €"
    static let variables = ["SHOP_DATABASE_URL": "postgres://u:\(tricky)@db/shop", "SHOP_SECRET_KEY_BASE": "k3y-b4s3-\(UUID().uuidString)"]

    func load(_ env: String, variables: [String: String] = EnvSettingsTests.variables, envFile: Bool = false) throws -> Inventory {
        let yaml = Fixture.minimal + (envFile ? "env_file: production.env\n" : "") + env
        let context = LoaderContext(home: "/home/tester", user: "tester", variables: variables)
        let files = Fixture.files()
        return try InventoryLoader.parse(yaml: yaml, path: Fixture.file, context: context) { files[$0] }
    }

    @Test func secretsAndClearValuesReachTheEnvFileExactly() throws {
        let inventory = try load("env:\n  clear: {RAILS_LOG_LEVEL: info, WORKERS: 4}\n  secret: [SHOP_DATABASE_URL, SHOP_SECRET_KEY_BASE]\n")
        let env = try #require(inventory.envFile)
        #expect(env.keys == ["RAILS_LOG_LEVEL", "WORKERS", "SHOP_DATABASE_URL", "SHOP_SECRET_KEY_BASE"])
        #expect(env.origins == ["env.clear", "env.clear", "env.secret", "env.secret"])
        #expect(env.contents.reveal() == "RAILS_LOG_LEVEL=info\nWORKERS=4\nSHOP_DATABASE_URL=\(Self.variables["SHOP_DATABASE_URL"]!)\n"
                + "SHOP_SECRET_KEY_BASE=\(Self.variables["SHOP_SECRET_KEY_BASE"]!)\n")
        // The plan shows names and where they come from, never a value.
        let plan = try PlanBuilder.build(try PlanTests.input(inventory))
        for text in [PlanRenderer.text(plan), PlanRenderer.json(plan), "\(inventory)", String(reflecting: inventory)] {
            for value in Self.variables.values { #expect(!text.contains(value)) }
            #expect(!text.contains("k3y-b4s3"))
        }
        #expect(PlanRenderer.text(plan).contains("SHOP_DATABASE_URL (env.secret)"))
        // Masked in what webhooks are sent.
        #expect(Set(env.secretValues).isSuperset(of: Set(Self.variables.values)))
    }

    @Test func theEnvFileMergesAndCIsSecretWins() throws {
        // Fixture's env file has DATABASE_URL, SECRET_KEY, EMPTY.
        let inventory = try load("env:\n  clear: {LEVEL: debug}\n  secret: [SECRET_KEY]\n", variables: ["SECRET_KEY": "from-ci-\(UUID().uuidString)"], envFile: true)
        let env = try #require(inventory.envFile)
        #expect(env.keys == ["DATABASE_URL", "EMPTY", "LEVEL", "SECRET_KEY"])
        #expect(env.origins == ["env_file", "env_file", "env.clear", "env.secret"])
        #expect(env.contents.reveal().contains("SECRET_KEY=from-ci-"))
        #expect(!env.contents.reveal().contains("hunter2"))
    }

    @Test func aMissingSecretIsExitTwoNamingIt() throws {
        let error = #expect(throws: InventoryError.self) { try load("env:\n  secret: [SHOP_DATABASE_URL, SHOP_MISSING]\n") }
        #expect(error?.message.contains("'SHOP_MISSING' is listed in env.secret but is not set in fleet's environment") == true)
        #expect(error?.line == 7, "\(String(describing: error))")
        #expect(ExitStatus.of(error!) == ExitStatus.usage)
    }

    @Test func refusals() throws {
        let newline = #expect(throws: InventoryError.self) {
            try load("env:\n  secret: [S]\n", variables: ["S": "line1\nline2-\(Self.tricky)"])
        }
        #expect(newline?.message.contains("holds a newline") == true)
        #expect(newline.map { !$0.description.contains("line2") } == true)
        #expect(throws: InventoryError.self) { try load("env:\n  clear: {A: 1}\n  secret: [A]\n", variables: ["A": "x"]) }
        #expect(throws: InventoryError.self) { try load("env:\n  clear: {\"1BAD\": x}\n") }
        #expect(throws: InventoryError.self) { try load("env:\n  secrets: [A]\n") }
    }
}
