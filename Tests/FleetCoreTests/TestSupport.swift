import Foundation
import Testing
@testable import FleetCore

/// Builds inventories from text, with an in-memory file system for the env file.
enum Fixture {
    static let file = "/srv/app/inventory/production.yml"
    static let context = LoaderContext(home: "/home/tester", user: "tester")
    static let envPath = "/srv/app/inventory/production.env"
    static let envText = "DATABASE_URL=postgres://u:s3cr3t-db-pass@db/shop\n# comment\n\nSECRET_KEY=hunter2-very-secret\nEMPTY=\n"

    static let minimal = """
    app: shop
    image: registry.example.com/acme/shop
    hosts:
      web1: 10.0.0.11
      web2: {address: 10.0.0.12, port: 2222, user: ops}

    """

    static let full = """
    app: shop
    image: registry.example.com/acme/shop
    env_file: production.env
    ssh:
      user: deploy
      port: 22
      identity_files: [~/.ssh/id_ed25519]
      known_hosts: ~/.ssh/known_hosts
      host_key_policy: strict
      connect_timeout: 10s
      parallel: 100
    rollout:
      batch: [1, "50%"]
      pause: 5s
      max_failures: 1
    health: {path: /health, status: 200, timeout: 30s, interval: 1s}
    hooks:
      before_rollout: alembic upgrade head
      after_rollout: [pytest, "tests/smoke suite"]
    hosts:
      web1: {address: 10.0.0.11, tags: [eu, canary]}
      web2: {address: 10.0.0.12, tags: [eu]}
      web3: {address: 10.0.0.13, tags: [us]}
      db1: 10.0.0.21

    """

    static func files(_ extra: [String: String] = [:]) -> [String: String] {
        var all = [envPath: envText]
        for (k, v) in extra { all[k] = v }
        return all
    }

    static func load(_ yaml: String, files: [String: String] = Fixture.files(), path: String = Fixture.file) throws -> Inventory {
        try InventoryLoader.parse(yaml: yaml, path: path, context: context) { files[$0] }
    }

    /// The error thrown for `yaml` (fails the test if none).
    static func error(_ yaml: String, files: [String: String] = Fixture.files(),
                      sourceLocation: SourceLocation = #_sourceLocation) -> InventoryError? {
        do {
            _ = try load(yaml, files: files)
            Issue.record("expected an InventoryError", sourceLocation: sourceLocation)
            return nil
        } catch let e as InventoryError {
            return e
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// An inventory of `count` hosts named h1...hN.
    static func hosts(_ count: Int, batch: String = "1", extra: String = "") -> String {
        var s = "app: shop\nimage: registry.example.com/acme/shop\nrollout: {batch: \(batch)}\n\(extra)hosts:\n"
        for i in 1...count { s += "  h\(i): 10.1.\(i / 250).\(i % 250 + 1)\n" }
        return s
    }
}

extension HostEntry {
    /// A host written as `name: address` under these `ssh.*` settings, its connection decided by the inventory's
    /// own resolver (no ssh.config, no agent).
    static func direct(_ name: String, address: String, settings: SSHSettings) throws -> HostEntry {
        var settings = settings
        settings.written = Set(InventoryParser.sshKeys)
        let connection = try ConnectionResolver(ssh: settings, agentAvailable: false)
            .resolve(HostKeys(name: name, address: Resolved(address, from: .inventory(key: "hosts.\(name)"))))
        return HostEntry(name: name, connection: connection)
    }
}
