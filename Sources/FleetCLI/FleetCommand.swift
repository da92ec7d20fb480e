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
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            self.exit(withError: error)
        }
    }
}
