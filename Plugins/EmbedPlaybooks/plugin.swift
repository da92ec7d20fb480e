import Foundation
import PackagePlugin

/// Generates `EmbeddedPlaybooks.swift` from the package's `playbooks/*.sh` (the readable, shellchecked source
/// of truth) into the build, so that the fleet binary carries its host scripts. Rebuilt when a script changes.
@main
struct EmbedPlaybooks: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "playbooks")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sh") }.sorted()
        let inputs = names.map { folder.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedPlaybooks.swift")
        return [.buildCommand(displayName: "Embedding \(names.count) host scripts of playbooks/",
                              executable: try context.tool(named: "EmbedPlaybooksTool").url,
                              arguments: [output.path] + inputs.map(\.path),
                              inputFiles: inputs, outputFiles: [output])]
    }
}
