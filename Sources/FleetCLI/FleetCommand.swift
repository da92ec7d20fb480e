import ArgumentParser
import FleetCore
import SSHEngine
import Foundation

public struct FleetCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Deploy one app to a fleet of Linux servers over SSH: blue/green behind nginx, rolling, agentless.",
        discussion: """
            Exit status: 0 all done; 1 a host failed; 2 usage or inventory error (nothing contacted); \
            3 lock held; 4 pre-flight failed (nothing changed); 130 interrupted.
            """,
        version: FleetCommand.versionText,
        subcommands: [PlanCommand.self, Deploy.self, Rollback.self, Exec.self, Logs.self, Status.self, Verify.self, Lock.self, HistoryCommand.self, Setup.self, Init.self]
    )

    public init() {}

    /// `fleet --version`: fleet's version, then the SSH and TLS libraries it carries.
    public static var versionText: String {
        "fleet \(FleetVersion.current) (libssh2 \(SSHLibrary.version), \(TLSTrust.libraryVersion))"
    }

    /// Parses and runs, mapping usage errors to exit status 2 (ArgumentParser's default is 64).
    public static func runMain(_ arguments: [String]? = nil) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((usageMessage(for: error, arguments: arguments ?? Array(CommandLine.arguments.dropFirst())) + "\n").utf8))
                Foundation.exit(2)
            }
            self.exit(withError: error)
        }
    }
}

extension FleetCommand {
    /// A usage error as printed: ArgumentParser's text, and for an unknown option: when it is an option of other
    /// subcommands, which ones (`rollback --strict-image`: an option of plan and deploy); else, when ArgumentParser
    /// had no suggestion (a typo far from every name), "Did you mean" naming the closest option of the subcommand.
    static func usageMessage(for error: Error, arguments: [String]) -> String {
        let text = fullMessage(for: error)
        let message = self.message(for: error)
        let prefix = "Unknown option '"
        guard message.hasPrefix(prefix), let range = text.range(of: message) else { return text }
        let name = String(message.dropFirst(prefix.count).prefix { $0 != "'" })
        let (path, command) = subcommand(for: arguments)
        let owners = leaves().filter { $0.type != command && OptionNames.of($0.type).contains(name) }.map { "fleet " + $0.path }
        var line = message
        if !owners.isEmpty {
            line += ". fleet \(path) has no \(name) (it means nothing here); it is an option of \(owners.joined(separator: ", "))"
        } else if !message.contains("Did you mean"), let closest = OptionNames.closest(to: name, in: OptionNames.of(command)) {
            line += ". Did you mean '\(closest)'?"
        }
        return text.replacingCharacters(in: range, with: line)
    }

    /// The subcommand the arguments name (`lock status`), from their start, with its path; fleet itself when none.
    static func subcommand(for arguments: [String]) -> (path: String, type: ParsableCommand.Type) {
        var command: ParsableCommand.Type = FleetCommand.self
        var path: [String] = []
        for word in arguments {
            guard let next = command.configuration.subcommands.first(where: { $0._commandName == word }) else { break }
            command = next
            path.append(word)
        }
        return (path.joined(separator: " "), command)
    }

    /// Every subcommand that runs (`lock status`, not `lock`), with its path.
    static func leaves(_ parent: ParsableCommand.Type = FleetCommand.self, _ prefix: String = "") -> [(path: String, type: ParsableCommand.Type)] {
        parent.configuration.subcommands.flatMap { child -> [(path: String, type: ParsableCommand.Type)] in
            let path = prefix + child._commandName
            return child.configuration.subcommands.isEmpty ? [(path, child)] : leaves(child, path + " ")
        }
    }
}
