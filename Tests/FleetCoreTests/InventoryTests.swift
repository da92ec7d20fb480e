import Foundation
import Testing
@testable import FleetCore

@Suite struct InventoryTests {
    @Test func minimalGetsDefaults() throws {
        let inv = try Fixture.load(Fixture.minimal)
        #expect(inv.app == "shop")
        #expect(inv.environment == "production")
        #expect(inv.envFile == nil)
        #expect(inv.ssh.user == "tester")
        #expect(inv.ssh.port == 22)
        #expect(inv.ssh.knownHosts == "/home/tester/.ssh/known_hosts")
        #expect(inv.ssh.hostKeyPolicy == .strict)
        #expect(inv.ssh.connectTimeout == .seconds(10))
        #expect(inv.ssh.parallel == 100)
        #expect(inv.hosts.map { [$0.name, $0.address, "\($0.port)", $0.user] } == [
            ["web1", "10.0.0.11", "22", "tester"],
            ["web2", "10.0.0.12", "2222", "ops"],
        ])
        #expect(inv.rollout.batch == [.count(1), .percent(25)])
        #expect(inv.rollout.maxFailures == 0)
        #expect(inv.health == HealthSettings(path: "/health", status: 200, timeoutSeconds: 30, intervalSeconds: 1))
        #expect(inv.paths == PathSettings(root: "/opt/fleet/shop", state: "/var/lib/fleet/shop"))
        #expect(inv.nginx == NginxSettings(upstreamFile: "/etc/nginx/conf.d/fleet-shop.conf", upstreamName: "fleet_shop",
                                           conf: "", url: "http://127.0.0.1:80"))
        #expect(inv.container == ContainerSettings(portEnv: "PORT", ports: [8080, 8081]))
        #expect(inv.drainSeconds == 2)
        #expect(inv.keepReleases == 5)
        #expect(inv.hooks == HookSettings(beforeRollout: nil, afterRollout: nil))
        #expect(inv.metrics.textfileDir == "")
    }

    @Test func fullExample() throws {
        let inv = try Fixture.load(Fixture.full)
        #expect(inv.envFile?.path == Fixture.envPath)
        #expect(inv.envFile?.keys == ["DATABASE_URL", "SECRET_KEY", "EMPTY"])
        #expect(inv.ssh.identityFiles == ["/home/tester/.ssh/id_ed25519"])
        #expect(inv.rollout.batch == [.count(1), .percent(50)])
        #expect(inv.rollout.pause == .seconds(5))
        #expect(inv.hooks.beforeRollout == ["alembic", "upgrade", "head"])
        #expect(inv.hooks.afterRollout == ["pytest", "tests/smoke suite"])
        #expect(inv.hosts.map(\.tags) == [["eu", "canary"], ["eu"], ["us"], []])
        #expect(inv.hosts.allSatisfy { $0.user == "deploy" })
    }

    @Test func hostPlaceholderAndDurations() throws {
        let inv = try Fixture.load(Fixture.minimal + """
        paths: {root: "/tmp/lab/{host}/opt", state: "/tmp/lab/{host}/state"}
        drain: 500ms
        """.replacingOccurrences(of: "500ms", with: "3000ms"))
        #expect(inv.rootDir(for: "web2") == "/tmp/lab/web2/opt")
        #expect(inv.drainSeconds == 3)
        #expect(YAMLSection.parseDuration("2m") == .seconds(120))
        #expect(YAMLSection.parseDuration("1.5") == .milliseconds(1500))
        #expect(YAMLSection.parseDuration("10 s") == nil)
    }

    @Test func secretsNeverPrinted() throws {
        let inv = try Fixture.load(Fixture.full)
        for text in [String(describing: inv), String(reflecting: inv), "\(inv.envFile!)"] {
            #expect(!text.contains("hunter2"))
            #expect(!text.contains("s3cr3t"))
        }
        var dumped = ""
        dump(inv, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(inv.envFile?.contents.reveal() == Fixture.envText)
    }

    @Test func resolvePath() throws {
        let listing: (String) -> [String]? = { $0 == "/w/inventory" ? ["production.yml", "staging.yml", "production.example.yml"] : nil }
        #expect(try InventoryLoader.resolvePath(env: "staging", inventory: nil, cwd: "/w", environment: [:], listDirectory: listing) == "/w/inventory/staging.yml")
        #expect(try InventoryLoader.resolvePath(env: nil, inventory: nil, cwd: "/w", environment: ["FLEET_ENV": "production"], listDirectory: listing) == "/w/inventory/production.yml")
        #expect(try InventoryLoader.resolvePath(env: nil, inventory: "x/../lab.yml", cwd: "/w", environment: [:], listDirectory: listing) == "/w/lab.yml")
        let one: (String) -> [String]? = { _ in ["lab.yml", "production.example.yml"] }
        #expect(try InventoryLoader.resolvePath(env: nil, inventory: nil, cwd: "/w", environment: [:], listDirectory: one) == "/w/inventory/lab.yml")
        let e = #expect(throws: InventoryError.self) {
            try InventoryLoader.resolvePath(env: nil, inventory: nil, cwd: "/w", environment: [:], listDirectory: listing)
        }
        #expect(e?.message.contains("production, staging") == true)
        let missing = #expect(throws: InventoryError.self) {
            try InventoryLoader.resolvePath(env: "prod", inventory: nil, cwd: "/w", environment: [:], listDirectory: listing)
        }
        #expect(missing?.description.hasPrefix("--env: no inventory for environment 'prod'") == true)
        #expect(missing?.message.contains("known: production, staging") == true)
    }
}

@Suite struct ExampleInventoryTests {
    /// The shipped example loads from disk (real I/O through `load`).
    @Test func exampleLoads() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = repo.appendingPathComponent("inventory/production.example.yml").path
        let inv = try InventoryLoader.load(path: path, context: Fixture.context)
        #expect(inv.environment == "production.example")
        #expect(inv.hosts.map(\.name) == ["web1", "web2", "web3", "web4"])
        #expect(inv.envFile?.keys == ["DATABASE_URL", "SECRET_KEY", "LOG_LEVEL"])
        #expect(inv.hooks.afterRollout == ["pytest", "tests/smoke"])
        #expect(try selectHosts(inv, patterns: ["tag:us"]).map(\.name) == ["web3", "web4"])
    }

    /// The lab's inventory (scripts/lab/lib/inventory.sh), when a lab is up.
    @Test func labInventoryLoadsWhenPresent() throws {
        let path = "/tmp/fleet-lab/inventory/lab.yml"
        guard FileManager.default.fileExists(atPath: path) else { return }
        let inv = try InventoryLoader.load(path: path, context: Fixture.context)
        #expect(inv.rootDir(for: "web1").hasSuffix("/hosts/web1/opt"))
    }
}
