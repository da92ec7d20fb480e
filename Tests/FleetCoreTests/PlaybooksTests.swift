import Foundation
import Testing
@testable import FleetCore

/// Where the host scripts come from: built into the binary, or a folder named explicitly.
@Suite struct PlaybooksTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "fleet-playbooks-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir + "/inventory", withIntermediateDirectories: true)
        return dir
    }

    /// The copy built into the binary is playbooks/ byte for byte (the EmbedPlaybooks plugin regenerates it).
    @Test func builtInIsThePlaybooksFolder() throws {
        let own = Playbooks.builtIn()
        let disk = try Playbooks.load(dir: Self.repo + "/playbooks")
        #expect(own.files == disk.files)
        #expect(own.dir == "fleet \(FleetVersion.current) (built in)" && own.origin == .builtIn)
        #expect(own.fleetVersion == FleetVersion.current && disk.fleetVersion == FleetVersion.current + "+custom")
        #expect(own.names.contains("deploy.sh") && !own.names.contains("setup.sh"))
        #expect(own.bytesByPath[own.dir + "/lib.sh"] == disk.files.first { $0.name == "lib.sh" }?.bytes)
        #expect(own.notice() == nil)
    }

    /// An inventory alone: fleet's own scripts, even with a playbooks/ folder next to the inventory's (only a
    /// folder named explicitly is used). --playbooks wins over $FLEET_PLAYBOOKS, which wins over the inventory's
    /// `playbooks:` key.
    @Test func locateOrder() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inventory = dir + "/inventory/production.yml"
        #expect(try Playbooks.locate(inventoryFile: inventory, environment: [:]).origin == .builtIn)
        try FileManager.default.copyItem(atPath: Self.repo + "/playbooks", toPath: dir + "/playbooks")
        try FileManager.default.copyItem(atPath: Self.repo + "/playbooks", toPath: dir + "/custom")
        #expect(try Playbooks.locate(inventoryFile: inventory, environment: [:]).origin == .builtIn)
        let key = dir + "/playbooks"
        #expect(try Playbooks.locate(inventoryFile: inventory, environment: [:], key: key)
                == (dir + "/playbooks", .folder("playbooks: in \(inventory)")))
        let env = ["FLEET_PLAYBOOKS": dir + "/custom"]
        #expect(try Playbooks.locate(inventoryFile: inventory, environment: env, key: key) == (dir + "/custom", .folder("$FLEET_PLAYBOOKS")))
        #expect(try Playbooks.locate(inventoryFile: inventory, environment: env, option: "playbooks", currentDirectory: dir)
                == (dir + "/playbooks", .folder("--playbooks")))
        // A folder named explicitly must hold host scripts: no silent fallback to fleet's own.
        #expect {
            try Playbooks.locate(inventoryFile: inventory, environment: ["FLEET_PLAYBOOKS": dir + "/inventory"])
        } throws: { "\($0)".contains(dir + "/inventory ($FLEET_PLAYBOOKS) holds no host scripts") }
        #expect {
            try Playbooks.locate(inventoryFile: inventory, environment: [:], key: dir + "/nothing")
        } throws: { "\($0)".contains(dir + "/nothing (playbooks: in \(inventory)) holds no host scripts") }
    }

    /// fleet says when it uses a folder, and which scripts differ from its own.
    @Test func noticeNamesWhatDiffers() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: Self.repo + "/playbooks", toPath: dir + "/playbooks")
        let inventory = dir + "/inventory/production.yml"
        let same = try Playbooks.load(inventoryFile: inventory, environment: [:], key: dir + "/playbooks")
        #expect(same.notice() == "fleet: host scripts from \(dir)/playbooks (playbooks: in \(inventory)), not fleet "
                + "\(FleetVersion.current)'s own: identical to them\n")
        try "# mine\n".write(toFile: dir + "/playbooks/deploy.sh", atomically: true, encoding: .utf8)
        try "# extra\n".write(toFile: dir + "/playbooks/extra.sh", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: dir + "/playbooks/hook.sh")
        let changed = try Playbooks.load(inventoryFile: inventory, environment: [:], option: dir + "/playbooks")
        #expect(changed.origin == .folder("--playbooks") && changed.fleetVersion.hasSuffix("+custom"))
        #expect(changed.notice()?.contains("1 differ (deploy.sh), 1 not in fleet's (extra.sh), 1 of fleet's missing (hook.sh)") == true,
                "\(changed.notice() ?? "")")
    }
}
