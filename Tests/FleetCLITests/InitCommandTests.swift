import FleetCore
import Foundation
import Testing
@testable import FleetCLI

@Suite("fleet init")
struct InitCommandTests {
    func tempDir() throws -> String {
        let dir = NSTemporaryDirectory() + "fleet-init-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// In an empty repository, --with-playbooks names the scripts it writes in the inventory it writes.
    @Test func withPlaybooksNamesThemInTheNewInventory() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let captured = Captured()
        #expect(try await Init.parse(["--with-playbooks", dir]).run(context: captured.context(environment: ["FLEET_HOME": LabApp.repo])) == 0)
        try FileManager.default.copyItem(atPath: dir + "/inventory/production.env.example", toPath: dir + "/inventory/production.env")
        let inventory = try InventoryLoader.load(path: dir + "/inventory/production.yml")
        #expect(inventory.playbooks == dir + "/playbooks")
        let found = try Playbooks.locate(inventoryFile: inventory.file, environment: [:], key: inventory.playbooks)
        #expect(found.dir == dir + "/playbooks" && found.origin == .folder("playbooks: in \(inventory.file)"))
    }

    @Test func writesTheStarterFilesAndNeverOverwritesWithoutForce() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["FLEET_HOME": LabApp.repo]
        let first = Captured()
        #expect(try await Init.parse([dir]).run(context: first.context(environment: env)) == 0, "\(first.err)")
        for path in ["inventory/production.yml", "inventory/production.env.example", ".github/workflows/deploy.yml",
                     "monitoring/alerts.yml", "monitoring/prometheus.yml", ".gitignore"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + path), "\(path)")
        }
        #expect(try String(contentsOfFile: dir + "/.gitignore", encoding: .utf8).contains("inventory/*.env\n"))
        #expect(try String(contentsOfFile: dir + "/.github/workflows/deploy.yml", encoding: .utf8)
            .contains("\n  FLEET_VERSION: \"\(FleetVersion.current)\"\n"))

        // The starting inventory loads once its env file exists; fleet's own scripts serve it.
        try FileManager.default.copyItem(atPath: dir + "/inventory/production.env.example", toPath: dir + "/inventory/production.env")
        let inventory = try InventoryLoader.load(path: dir + "/inventory/production.yml")
        #expect(inventory.app == "shop")
        #expect(inventory.envFile?.path == dir + "/inventory/production.env")
        #expect(!FileManager.default.fileExists(atPath: dir + "/playbooks"))
        #expect(try Playbooks.locate(inventoryFile: inventory.file, environment: [:]).origin == .builtIn)

        // --with-playbooks writes fleet's own scripts (0755) to customise; they are then found next to the inventory.
        let scripts = Captured()
        #expect(try await Init.parse(["--with-playbooks", dir]).run(context: scripts.context(environment: env)) == 0)
        for file in Playbooks.builtIn().files {
            #expect(FileManager.default.contents(atPath: dir + "/playbooks/" + file.name) == Data(file.bytes), "\(file.name)")
        }
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/playbooks/deploy.sh")[.posixPermissions] as? Int
        #expect(mode == 0o755)
        // The inventory was kept (it existed): fleet says which line names the scripts; with it, they are used.
        #expect(scripts.err.contains("add this line to inventory/production.yml: playbooks: ../playbooks"), "\(scripts.err)")
        #expect(try Playbooks.locate(inventoryFile: inventory.file, environment: [:]).origin == .builtIn)
        try (String(contentsOfFile: inventory.file, encoding: .utf8) + "playbooks: ../playbooks\n").write(toFile: inventory.file, atomically: true, encoding: .utf8)
        let named = try InventoryLoader.load(path: inventory.file)
        #expect(named.playbooks == dir + "/playbooks")
        #expect(try Playbooks.locate(inventoryFile: named.file, environment: [:], key: named.playbooks).dir == dir + "/playbooks")

        // Second run: the user's edits stay, each skipped file is named, .gitignore not duplicated.
        try "app: mine\n".write(toFile: dir + "/inventory/production.yml", atomically: true, encoding: .utf8)
        let second = Captured()
        #expect(try await Init.parse(["--with-playbooks", dir]).run(context: second.context(environment: env)) == 0)
        #expect(try String(contentsOfFile: dir + "/inventory/production.yml", encoding: .utf8) == "app: mine\n")
        #expect(second.err.contains("skipped inventory/production.yml: it exists (--force overwrites it)"), "\(second.err)")
        #expect(second.err.contains("skipped playbooks/deploy.sh"))
        #expect(second.out.isEmpty, "\(second.out)")
        let ignore = try String(contentsOfFile: dir + "/.gitignore", encoding: .utf8)
        #expect(ignore.components(separatedBy: "inventory/*.env\n").count == 2)

        // --force overwrites.
        let forced = Captured()
        #expect(try await Init.parse(["--force", dir]).run(context: forced.context(environment: env)) == 0)
        #expect(try String(contentsOfFile: dir + "/inventory/production.yml", encoding: .utf8).contains("app: shop"))
        #expect(forced.out.contains("wrote inventory/production.yml"))
    }

    @Test func keepsAnExistingGitignore() async throws {
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "node_modules/".write(toFile: dir + "/.gitignore", atomically: true, encoding: .utf8)
        let captured = Captured()
        #expect(try await Init.parse([]).run(context: captured.context(cwd: dir, environment: ["FLEET_HOME": LabApp.repo])) == 0)
        #expect(try String(contentsOfFile: dir + "/.gitignore", encoding: .utf8).hasPrefix("node_modules/\n"))
        #expect(FileManager.default.fileExists(atPath: dir + "/inventory/production.yml"))
    }

    @Test func missingFleetFilesSayWhereItLooked() {
        do {
            _ = try AppTemplate.fleetHome(environment: ["FLEET_HOME": "/nonexistent-fleet"], executable: "/usr/bin/true")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("/nonexistent-fleet ($FLEET_HOME)") && "\(error)".contains("FLEET_HOME"), "\(error)")
        }
    }

    /// Each file has its own outcome: one that exists is kept without force, one that cannot be written is named
    /// with the reason, the others are written whole with their mode.
    @Test func writeGivesEachFileItsOutcome() throws {
        let dir = NSTemporaryDirectory() + "fleet-init-outcomes-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/kept", withIntermediateDirectories: true)
        try "mine".write(toFile: dir + "/kept/file", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/blocker", atomically: true, encoding: .utf8)
        let files = [AppTemplate.File(path: "kept/file", bytes: Array("theirs".utf8), mode: 0o644),
                     AppTemplate.File(path: "blocker/inside", bytes: [], mode: 0o644),
                     AppTemplate.File(path: "new/script.sh", bytes: Array("#!/bin/sh\n".utf8), mode: 0o755)]
        let outcomes = AppTemplate.write(files, into: dir, force: false)
        #expect(outcomes[0] == .skipped("kept/file"))
        guard case .failed(let path, let why) = outcomes[1] else { Issue.record("\(outcomes[1])"); return }
        #expect(path == dir + "/blocker/inside" && why.contains("\(dir)/blocker"), "\(why)")
        #expect(outcomes[2] == .wrote("new/script.sh"))
        #expect(try String(contentsOfFile: dir + "/kept/file", encoding: .utf8) == "mine")
        let mode = try FileManager.default.attributesOfItem(atPath: dir + "/new/script.sh")[.posixPermissions] as? Int
        #expect(mode == 0o755)
        #expect(AppTemplate.write(Array(files.prefix(1)), into: dir, force: true) == [.wrote("kept/file")])
        #expect(try String(contentsOfFile: dir + "/kept/file", encoding: .utf8) == "theirs")
    }
}
