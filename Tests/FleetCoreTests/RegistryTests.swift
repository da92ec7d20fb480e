import Foundation
import Testing
@testable import FleetCore

/// `registry:`: the login pre-flight does before its pull. Validated at load; in the plan as a step whose command is
/// shown whole, with the password on its stdin shown only as `{env: NAME}`.
@Suite struct RegistryTests {
    static let password = "pa$$ 'wörd' \"=\\ \(UUID().uuidString)"
    static let variables = ["SHOP_REGISTRY_PASSWORD": password, "SHOP_REGISTRY_USER": "ci-bot"]
    static let section = "registry:\n  server: registry.example.com\n  username: deploy-bot\n  password: {env: SHOP_REGISTRY_PASSWORD}\n"

    func load(_ registry: String = RegistryTests.section, image: String? = nil,
              variables: [String: String] = RegistryTests.variables) throws -> Inventory {
        var yaml = Fixture.minimal + registry
        if let image { yaml = yaml.replacingOccurrences(of: "image: registry.example.com/acme/shop", with: "image: \(image)") }
        let context = LoaderContext(home: "/home/tester", user: "tester", variables: variables)
        let files = Fixture.files()
        return try InventoryLoader.parse(yaml: yaml, path: Fixture.file, context: context) { files[$0] }
    }

    func error(_ registry: String, image: String? = nil, variables: [String: String] = RegistryTests.variables) -> InventoryError? {
        #expect(throws: InventoryError.self) { try load(registry, image: image, variables: variables) }
    }

    @Test func theLoginIsPartOfPreflightWithThePasswordInItsStreamOnly() throws {
        let inventory = try load()
        let registry = try #require(inventory.registry)
        #expect(registry.server == "registry.example.com" && registry.username == "deploy-bot")
        #expect(registry.passwordEnv == "SHOP_REGISTRY_PASSWORD" && registry.password.reveal() == Self.password)

        let plan = try PlanBuilder.build(try PlanTests.input(inventory))
        let steps = try #require(plan.stages.first?.hosts.first?.steps)
        // One command: the lock, the files, the env file, the login (password from the stream), then the pull.
        #expect(steps.count == 1)
        let command = try #require(steps[0].command)
        let login = "/opt/fleet/shop/bin/preflight.sh --config /opt/fleet/shop/fleet.conf --version v1.4.2 --login deploy-bot < \"$t\"/2/password"
        let pull = "exec /opt/fleet/shop/bin/preflight.sh --config /opt/fleet/shop/fleet.conf --version v1.4.2 --pull"
        #expect(command.contains(login) && command.hasSuffix(pull))
        let lockAt = try #require(command.range(of: "lock.sh")), loginAt = try #require(command.range(of: login))
        #expect(lockAt.upperBound < loginAt.lowerBound, "the login runs under the lock")
        let password = try #require(steps[0].files?.first { $0.member == "2/password" })
        #expect(password.source == UploadSource(kind: .registryPassword, name: "registry password", env: "SHOP_REGISTRY_PASSWORD"))
        #expect(password.mode == "0600")
        #expect(steps[0].files?.first { $0.member == "1/fleet.conf" }?.source.content?.contains("\nREGISTRY=registry.example.com\n") == true)
        #expect(plan.registry == RegistrySummary(server: "registry.example.com", username: "deploy-bot", passwordEnv: "SHOP_REGISTRY_PASSWORD"))

        let text = PlanRenderer.text(plan)
        #expect(text.contains("registry    registry.example.com as deploy-bot, password {env: SHOP_REGISTRY_PASSWORD} (not shown)"))
        #expect(text.contains("the registry password, {env: SHOP_REGISTRY_PASSWORD}, value not shown -> "))
        #expect(PlanRenderer.json(plan).contains("\"kind\" : \"registry_password\""))
        for shown in [text, PlanRenderer.json(plan), "\(inventory)", String(reflecting: inventory)] {
            #expect(!shown.contains(Self.password) && !shown.contains("pa$$"))
        }
        // The bytes of that member are the password, exactly.
        let known = Dictionary(uniqueKeysWithValues: PlanTests.playbooks.map { ("/srv/app/playbooks/" + $0, [UInt8]()) })
        let files = try UploadFiles(plan: plan, inventory: inventory, known: known)
        #expect(files.bytes(for: password.source) == Array(Self.password.utf8))
        // Masked in what webhooks are sent.
        #expect(Webhooks(inventory).secrets.contains(Self.password))
    }

    @Test func rollbackAndInventoriesWithoutRegistryHaveNoLogin() throws {
        let rollback = try PlanBuilder.build(try PlanTests.input(try load(), .rollback, version: nil))
        #expect(rollback.registry == nil)
        #expect(!rollback.stages.flatMap { $0.hosts.flatMap(\.steps) }.contains { $0.command?.contains("--login") == true })
        let plain = try PlanBuilder.build(try PlanTests.input(try Fixture.load(Fixture.minimal)))
        #expect(plain.stages.first?.hosts.first?.steps.count == 1)
        #expect(!PlanRenderer.json(plain).contains("\"registry\"") && !PlanRenderer.json(plain).contains("login"))
        #expect(FleetConf.render(try Fixture.load(Fixture.minimal), host: "web1").contains("REGISTRY") == false)
    }

    @Test func theUsernameMayComeFromTheEnvironment() throws {
        let inventory = try load("registry:\n  server: registry.example.com\n  username: {env: SHOP_REGISTRY_USER}\n  password: {env: SHOP_REGISTRY_PASSWORD}\n")
        #expect(inventory.registry?.username == "ci-bot" && inventory.registry?.usernameEnv == "SHOP_REGISTRY_USER")
        let plan = try PlanBuilder.build(try PlanTests.input(inventory))
        #expect(PlanRenderer.text(plan).contains("as ci-bot ({env: SHOP_REGISTRY_USER})"))
    }

    @Test func dockerHubAndPortsMatchTheImage() throws {
        #expect(try load("registry: {server: docker.io, username: u, password: {env: SHOP_REGISTRY_PASSWORD}}\n", image: "acme/shop").registry?.server == "docker.io")
        #expect(try load("registry: {server: index.docker.io, username: u, password: {env: SHOP_REGISTRY_PASSWORD}}\n", image: "acme/shop") .registry != nil)
        #expect(try load("registry: {server: \"10.0.0.5:5001\", username: u, password: {env: SHOP_REGISTRY_PASSWORD}}\n", image: "10.0.0.5:5001/shop").registry != nil)
    }

    @Test func refusalsNameTheLineAndNeverAValue() throws {
        // A literal password: refused without showing it.
        let literal = error("registry:\n  server: registry.example.com\n  username: u\n  password: hunter2-literal\n")
        #expect(literal?.message.contains("must be {env: NAME}") == true && literal?.line == 9, "\(String(describing: literal))")
        #expect(literal.map { !$0.description.contains("hunter2") } == true)
        // A variable that is not set: exit 2 naming it.
        let missing = error(Self.section, variables: [:])
        #expect(missing?.message.contains("'SHOP_REGISTRY_PASSWORD' (registry.password) is not set in fleet's environment") == true)
        #expect(missing?.line == 9 && missing.map(ExitStatus.of) == ExitStatus.usage, "\(String(describing: missing))")
        let missingUser = error("registry:\n  server: registry.example.com\n  username: {env: NOPE}\n  password: {env: SHOP_REGISTRY_PASSWORD}\n")
        #expect(missingUser?.message.contains("'NOPE' (registry.username)") == true)
        // The image on another registry.
        let other = error("registry:\n  server: ghcr.io\n  username: u\n  password: {env: SHOP_REGISTRY_PASSWORD}\n")
        #expect(other?.message.contains("the image 'registry.example.com/acme/shop' is on the registry 'registry.example.com', not on 'ghcr.io'") == true)
        #expect(other?.line == 7)
        // Values that cannot be what was meant.
        let empty = error(Self.section, variables: ["SHOP_REGISTRY_PASSWORD": ""])
        #expect(empty?.message.contains("is empty") == true)
        let newline = error(Self.section, variables: ["SHOP_REGISTRY_PASSWORD": "a\nsecret-tail"])
        #expect(newline?.message.contains("newline") == true && newline.map { !$0.description.contains("secret-tail") } == true)
        #expect(error("registry:\n  server: https://registry.example.com\n  username: u\n  password: {env: SHOP_REGISTRY_PASSWORD}\n")?
            .message.contains("no scheme") == true)
        #expect(error("registry:\n  server: registry.example.com\n  username: \"-x\"\n  password: {env: SHOP_REGISTRY_PASSWORD}\n")?
            .message.contains("registry.username") == true)
        #expect(error("registry:\n  server: registry.example.com\n  password: {env: SHOP_REGISTRY_PASSWORD}\n")?
            .message.contains("missing 'registry.username'") == true)
        #expect(error("registry:\n  server: registry.example.com\n  username: u\n  password: {env: \"1X\"}\n")?
            .message.contains("not a variable name") == true)
        #expect(error("registry:\n  servr: x\n")?.message.contains("did you mean 'server'") == true)
    }
}
