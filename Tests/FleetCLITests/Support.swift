import FleetCore
import Foundation
@testable import FleetCLI

enum Lab {
    static let dir = ProcessInfo.processInfo.environment["FLEET_LAB_DIR"] ?? "/tmp/fleet-lab"
}

/// Collects what a command prints.
final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""
    var out: String { lock.lock(); defer { lock.unlock() }; return outText }
    var err: String { lock.lock(); defer { lock.unlock() }; return errText }

    func context(cwd: String = FileManager.default.currentDirectoryPath, environment: [String: String] = [:],
                 transport: @escaping @Sendable () -> any Transport = { SSHTransport(agentSocket: nil) }) -> CommandContext {
        CommandContext(
            out: { text in self.lock.lock(); self.outText += text; self.lock.unlock() },
            err: { text in self.lock.lock(); self.errText += text; self.lock.unlock() },
            environment: environment, currentDirectory: cwd, isTerminal: false, makeTransport: transport)
    }
}

/// A temporary folder with an inventory file in it.
func writeInventory(_ yaml: String, name: String = "test.yml") throws -> String {
    let folder = NSTemporaryDirectory() + "fleet-cli-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = folder + "/" + name
    try yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// The lab inventory's ssh section with absolute paths, and extra hosts lines.
func labInventory(hosts: String, connectTimeout: String = "5s", knownHosts: String = Lab.dir + "/known_hosts",
                  user: String = "root") -> String {
    """
    app: demo
    image: 10.77.0.1:5000/demo
    ssh:
      user: \(user)
      identity_files: [\(Lab.dir)/client/id_ed25519]
      known_hosts: \(knownHosts)
      connect_timeout: \(connectTimeout)
    hosts:
    \(hosts)
    """
}

/// fleet as `FleetCommand.runMain` runs it, with an injected context: a usage error is printed as fleet prints
/// it and is exit 2.
func fleet(_ arguments: [String], _ context: CommandContext) async -> Int32 {
    do {
        let command = try FleetCommand.parseAsRoot(arguments)
        guard let runnable = command as? any ContextCommand else { return -1 }
        return try await runnable.run(context: context)
    } catch {
        let code = FleetCommand.exitCode(for: error)
        context.err(FleetCommand.usageMessage(for: error, arguments: arguments) + "\n")
        return code == .validationFailure ? 2 : code.rawValue
    }
}

/// The real transport, counting the hosts it was asked to connect to (so a test can say none was contacted).
final class CountingTransport: Transport, @unchecked Sendable {
    private let inner = SSHTransport(agentSocket: nil)
    private let lock = NSLock()
    private var names: [String] = []
    var contacted: [String] { lock.lock(); defer { lock.unlock() }; return names }

    func connect(_ host: HostEntry) async throws -> any HostSession {
        lock.withLock { names.append(host.name) }
        return try await inner.connect(host)
    }
}
