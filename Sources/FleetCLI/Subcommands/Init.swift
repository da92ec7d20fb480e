import ArgumentParser
import FleetCore
import Foundation

/// `fleet init`: a starting inventory, the deploy workflow and the monitoring files (the host scripts on request).
public struct Init: ContextCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Write a starting inventory, deploy workflow and monitoring files into an app repository.",
        discussion: """
            Writes inventory/production.yml, inventory/production.env.example, .github/workflows/deploy.yml and \
            monitoring/, and adds inventory/*.env to .gitignore. fleet carries its host scripts; with \
            --with-playbooks it also writes them to playbooks/*.sh, to customise, and names them in the inventory \
            (playbooks: ../playbooks): fleet then installs those and says how they differ from its own. An \
            existing file is never overwritten without --force (each skipped file is named). The other files come from fleet's own folder: $FLEET_HOME, else the parent \
            of $FLEET_PLAYBOOKS, else the nearest folder above the fleet binary (symbolic links followed) holding \
            inventory/production.example.yml, as the unpacked release tarball does. Exit status: 0, 1 when a \
            file could not be written, 2 when fleet's files are not found.
            """
    )

    @Flag(help: "Overwrite files that already exist.")
    public var force = false

    @Flag(help: "Also write fleet's host scripts to playbooks/*.sh, to customise them (fleet uses its own otherwise).")
    public var withPlaybooks = false

    @Argument(help: "The app repository (default: the current folder).")
    public var directory: String?

    public init() {}

    public func perform(context: CommandContext) async throws -> Int32 {
        let home: String
        do {
            home = try InitFiles.fleetHome(environment: context.environment, executable: context.executable ?? CommandLine.arguments.first ?? "")
        } catch {
            context.err("error: \(error)\n")
            return 2
        }
        let given = directory ?? "."
        let target = ((given.hasPrefix("/") ? given : context.currentDirectory + "/" + given) as NSString).standardizingPath
        let files: [InitFiles.File]
        do {
            files = try InitFiles.files(home: home, playbooks: withPlaybooks)
        } catch {
            context.err("error: \(error)\n")
            return 2
        }
        var failed = 0
        var skipped: [String] = []
        for file in files {
            let path = target + "/" + file.path
            if FileManager.default.fileExists(atPath: path) && !force {
                skipped.append(file.path)
                context.err("skipped \(file.path): it exists (--force overwrites it)\n")
                continue
            }
            do {
                try InitFiles.write(file, to: path)
                context.out("wrote \(file.path)\n")
            } catch {
                failed += 1
                context.err("error: cannot write \(path): \(error.localizedDescription); check the folder's owner and mode\n")
            }
        }
        if withPlaybooks && skipped.contains("inventory/production.yml") {
            context.err("to use the scripts in playbooks/, add this line to inventory/production.yml: playbooks: ../playbooks\n")
        }
        switch InitFiles.addIgnoreLine(target + "/.gitignore") {
        case .added: context.out("added inventory/*.env to .gitignore\n")
        case .present: break
        case .failed(let why):
            failed += 1
            context.err("error: cannot update \(target)/.gitignore: \(why)\n")
        }
        context.err("""
            next steps:
              cp inventory/production.env.example inventory/production.env   # your app's settings, never committed
              edit inventory/production.yml: app, image, ssh, hosts (docs/inventory.md in fleet)
              fleet setup --env production --dry-run; fleet setup --env production
              fleet plan --env production VERSION --probe
            \(skipped.isEmpty ? "" : "\(skipped.count) existing files kept; compare them with fleet's (--force overwrites)\n")
            """)
        return failed == 0 ? 0 : 1
    }
}

/// Where `fleet init` takes its files from, and which it writes.
enum InitFiles {
    struct File: Sendable {
        var path: String
        var bytes: [UInt8]
        var mode: Int
    }

    static func isHome(_ dir: String) -> Bool {
        FileManager.default.fileExists(atPath: dir + "/inventory/production.example.yml")
            && FileManager.default.fileExists(atPath: dir + "/docs/examples/deploy.yml")
    }

    /// `$FLEET_HOME`, else the parent of `$FLEET_PLAYBOOKS`, else the nearest folder above the binary holding
    /// `inventory/production.example.yml` and `docs/examples/deploy.yml` (a checkout, or the unpacked release).
    static func fleetHome(environment: [String: String], executable: String) throws -> String {
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
        throw HostFailure(host: "fleet init", message: "cannot find fleet's own files (inventory/production.example.yml, docs/examples/deploy.yml); looked in "
            + looked.joined(separator: ", ") + ". Set FLEET_HOME to the folder of the fleet release or checkout")
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw HostFailure(host: "fleet init", message: "cannot read \(path); is FLEET_HOME a complete fleet release?")
        }
        return Array(data)
    }

    /// Every file to write, relative to the target folder; the host scripts (fleet's own) with `playbooks`.
    static func files(home: String, playbooks: Bool = false) throws -> [File] {
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

    static func write(_ file: File, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let temp = folder + "/.fleet-init.\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temp, contents: Data(file.bytes), attributes: [.posixPermissions: file.mode]) else {
            throw CocoaError(.fileWriteNoPermission)
        }
        guard rename(temp, path) == 0 else {
            let why = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            throw HostFailure(host: path, message: why)
        }
    }

    enum IgnoreResult { case added, present, failed(String) }

    static let ignoreLine = "inventory/*.env"

    /// Appends `inventory/*.env` to .gitignore unless a line already says it.
    static func addIgnoreLine(_ path: String) -> IgnoreResult {
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
