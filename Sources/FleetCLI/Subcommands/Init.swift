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
        let given = directory ?? "."
        let target = ((given.hasPrefix("/") ? given : context.currentDirectory + "/" + given) as NSString).standardizingPath
        let files: [AppTemplate.File]
        do {
            let home = try AppTemplate.fleetHome(environment: context.environment,
                                                 executable: context.executable ?? CommandLine.arguments.first ?? "")
            files = try AppTemplate.files(home: home, playbooks: withPlaybooks)
        } catch {
            context.err("error: \(error)\n")
            return 2
        }
        var failed = 0
        var skipped: [String] = []
        for outcome in AppTemplate.write(files, into: target, force: force) {
            switch outcome {
            case .wrote(let path): context.out("wrote \(path)\n")
            case .skipped(let path):
                skipped.append(path)
                context.err("skipped \(path): it exists (--force overwrites it)\n")
            case .failed(let path, let why):
                failed += 1
                context.err("error: cannot write \(path): \(why); check the folder's owner and mode\n")
            }
        }
        if withPlaybooks && skipped.contains("inventory/production.yml") {
            context.err("to use the scripts in playbooks/, add this line to inventory/production.yml: playbooks: ../playbooks\n")
        }
        switch AppTemplate.addIgnoreLine(target + "/.gitignore") {
        case .added: context.out("added \(AppTemplate.ignoreLine) to .gitignore\n")
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
