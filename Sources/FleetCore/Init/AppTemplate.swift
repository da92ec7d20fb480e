import Foundation

/// What `fleet init` writes into an app repository, and where it takes it from: the starting inventory, the
/// env file example, the deploy workflow, the monitoring files and (on request) the host scripts.
public enum AppTemplate {
    public struct File: Sendable, Equatable {
        public var path: String
        public var bytes: [UInt8]
        public var mode: Int

        public init(path: String, bytes: [UInt8], mode: Int) {
            self.path = path
            self.bytes = bytes
            self.mode = mode
        }
    }

    /// What happened to one file.
    public enum Outcome: Sendable, Equatable {
        case wrote(String)
        /// It exists, and `force` was not given.
        case skipped(String)
        case failed(path: String, why: String)
    }

    public enum IgnoreResult: Sendable, Equatable { case added, present, failed(String) }

    public static let ignoreLine = "inventory/*.env"

    static func isHome(_ dir: String) -> Bool {
        FileManager.default.fileExists(atPath: dir + "/inventory/production.example.yml")
            && FileManager.default.fileExists(atPath: dir + "/docs/examples/deploy.yml")
    }

    /// `$FLEET_HOME`, else the parent of `$FLEET_PLAYBOOKS`, else the nearest folder above the binary holding
    /// `inventory/production.example.yml` and `docs/examples/deploy.yml` (a checkout, or the unpacked release).
    public static func fleetHome(environment: [String: String], executable: String) throws -> String {
        var looked: [String] = []
        if let home = environment["FLEET_HOME"], !home.isEmpty {
            if isHome(home) { return home }
            looked.append("\(home) ($FLEET_HOME)")
        }
        if let playbooks = environment["FLEET_PLAYBOOKS"], !playbooks.isEmpty {
            let parent = ((playbooks as NSString).standardizingPath as NSString).deletingLastPathComponent
            if isHome(parent) { return parent }
            looked.append("\(parent) (above $FLEET_PLAYBOOKS)")
        }
        var dir = (URL(fileURLWithPath: executable).resolvingSymlinksInPath().path as NSString).deletingLastPathComponent
        while dir.count > 1 {
            if isHome(dir) { return dir }
            dir = (dir as NSString).deletingLastPathComponent
        }
        looked.append("the folders above \(executable)")
        throw InitError("cannot find fleet's own files (inventory/production.example.yml, docs/examples/deploy.yml); looked in "
            + looked.joined(separator: ", ") + ". Set FLEET_HOME to the folder of the fleet release or checkout")
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InitError("cannot read \(path); is FLEET_HOME a complete fleet release?")
        }
        return Array(data)
    }

    /// Every file to write, relative to the target folder; the host scripts (fleet's own) with `playbooks`.
    public static func files(home: String, playbooks: Bool = false) throws -> [File] {
        var files: [File] = []
        var inventory = String(decoding: try read(home + "/inventory/production.example.yml"), as: UTF8.self)
        inventory = inventory.replacingOccurrences(of: "# fleet inventory for one environment. Copy to inventory/production.yml and edit.",
                                                   with: "# fleet inventory of the production environment (written by fleet init; edit it).")
        inventory = inventory.replacingOccurrences(of: "env_file: production.example.env ", with: "env_file: production.env         ")
        if playbooks {
            // Named in the inventory: fleet installs a folder of scripts only when told to.
            inventory = inventory.replacingOccurrences(of: "\nenv_file: production.env", with: "\nplaybooks: ../playbooks                   # the scripts fleet init wrote, customised\nenv_file: production.env")
        }
        files.append(File(path: "inventory/production.yml", bytes: Array(inventory.utf8), mode: 0o644))
        files.append(File(path: "inventory/production.env.example", bytes: try read(home + "/inventory/production.example.env"), mode: 0o644))
        if playbooks {
            for file in Playbooks.builtIn().files { files.append(File(path: "playbooks/" + file.name, bytes: file.bytes, mode: 0o755)) }
        }
        files.append(File(path: ".github/workflows/deploy.yml", bytes: Array(workflow(try read(home + "/docs/examples/deploy.yml")).utf8), mode: 0o644))
        let monitoring = ((try? FileManager.default.contentsOfDirectory(atPath: home + "/docs/monitoring")) ?? []).sorted()
        for name in monitoring where !name.hasPrefix(".") {
            files.append(File(path: "monitoring/" + name, bytes: try read(home + "/docs/monitoring/" + name), mode: 0o644))
        }
        return files
    }

    /// The deploy workflow, installing the release of this fleet (its `FLEET_VERSION:` line).
    static func workflow(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("  FLEET_VERSION: ") ? "  FLEET_VERSION: \"\(FleetVersion.current)\"" : String(line)
        }.joined(separator: "\n")
    }

    /// Writes `files` under `target`, each whole (a temporary file renamed into place); a file that exists is
    /// kept unless `force`. One outcome per file, in order.
    public static func write(_ files: [File], into target: String, force: Bool) -> [Outcome] {
        files.map { file in
            let path = target + "/" + file.path
            if FileManager.default.fileExists(atPath: path) && !force { return .skipped(file.path) }
            do {
                try write(file, to: path)
                return .wrote(file.path)
            } catch {
                return .failed(path: path, why: "\(error)")
            }
        }
    }

    static func write(_ file: File, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw InitError("cannot create the folder \(folder)")
        }
        let temp = folder + "/.fleet-init.\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temp, contents: Data(file.bytes), attributes: [.posixPermissions: file.mode]) else {
            throw InitError("cannot create a file in \(folder)")
        }
        guard rename(temp, path) == 0 else {
            let why = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            throw InitError(why)
        }
    }

    /// Appends `inventory/*.env` to `.gitignore` unless a line already says it.
    public static func addIgnoreLine(_ path: String) -> IgnoreResult {
        let existing = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if existing.split(separator: "\n").contains(where: { $0.trimmingCharacters(in: .whitespaces) == ignoreLine }) { return .present }
        let text = existing + (existing.isEmpty || existing.hasSuffix("\n") ? "" : "\n")
            + "# env files hold secrets: never commit them (fleet init)\n\(ignoreLine)\n"
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return .added
        } catch {
            return .failed(error.localizedDescription)
        }
    }
}

/// `fleet init` could not find or write its files.
public struct InitError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
