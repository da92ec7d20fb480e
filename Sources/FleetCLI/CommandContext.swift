import ArgumentParser
import FleetCore
import Foundation
import SSHEngine

/// Everything a command needs from the outside world, injected so tests can drive commands without a terminal.
public struct CommandContext: Sendable {
    /// Where normal output goes (stdout by default).
    public var out: @Sendable (String) -> Void
    /// Where diagnostics go (stderr by default).
    public var err: @Sendable (String) -> Void
    public var environment: [String: String]
    public var currentDirectory: String
    /// True when stdout is a terminal (colour in tables and recaps).
    public var isTerminal: Bool
    /// stderr's size when it is a terminal, where a rollout draws its live view; nil elsewhere (plain lines).
    public var terminal: @Sendable () -> TerminalSize? = { nil }
    /// Opens sessions to hosts.
    public var makeTransport: @Sendable () -> any Transport
    /// The fleet binary's real path (symbolic links resolved), where `fleet init` looks for its starting files:
    /// the unpacked release or the checkout it was built in (nil in tests: they set FLEET_HOME).
    public var executable: String?
    /// Routes SIGINT/SIGTERM to a rollout's interrupt, with a notice for the user through the given writer (the
    /// live context does; tests call `request` themselves).
    public var trapSignals: @Sendable (Interrupt, @escaping @Sendable (String) -> Void) -> Void = { _, _ in }

    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
                environment: [String: String], currentDirectory: String, isTerminal: Bool,
                makeTransport: @escaping @Sendable () -> any Transport) {
        self.out = out
        self.err = err
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.isTerminal = isTerminal
        self.makeTransport = makeTransport
    }

    /// The real world: stdout, stderr, the process environment, libssh2, signals.
    public static func live() -> CommandContext {
        let environment = ProcessInfo.processInfo.environment
        var context = CommandContext(
            out: { text in FileHandle.standardOutput.write(Data(text.utf8)) },
            err: { text in FileHandle.standardError.write(Data(text.utf8)) },
            environment: environment,
            currentDirectory: FileManager.default.currentDirectoryPath,
            isTerminal: isatty(STDOUT_FILENO) == 1,
            makeTransport: { SSHTransport(agentSocket: environment["SSH_AUTH_SOCK"]) }
        )
        context.terminal = { TerminalSize.standardError() }
        context.trapSignals = { interrupt, notify in SignalTrap.install(interrupt, notify: notify) }
        // /proc/self/exe: argv[0] is only `fleet` when the shell found it on PATH.
        if let real = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            context.executable = real
        } else if var path = CommandLine.arguments.first, !path.isEmpty {
            if !path.hasPrefix("/") { path = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path) }
            context.executable = path
        }
        return context
    }

    /// Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
    public var useColor: Bool { isTerminal && (environment["NO_COLOR"] ?? "").isEmpty }
}

/// A subcommand that runs with an injected context and returns fleet's exit status; `run()` gives it the live
/// context and turns the status into the process's exit code. `perform` may throw: the error is printed and
/// becomes its exit status in one place (`ExitStatus.of`).
public protocol ContextCommand: AsyncParsableCommand {
    func perform(context: CommandContext) async throws -> Int32
}

extension ContextCommand {
    /// `perform`, with a thrown error printed as `error: ...` and mapped to its exit status.
    public func run(context: CommandContext) async throws -> Int32 {
        do {
            return try await perform(context: context)
        } catch {
            context.err("error: \(error)\n")
            return ExitStatus.of(error)
        }
    }

    public func run() async throws {
        let code = try await run(context: .live())
        if code != 0 { throw ExitCode(code) }
    }
}

/// The first SIGINT or SIGTERM asks the rollout to stop gracefully (no new host starts, hosts in flight finish,
/// locks are released, exit 130); a second one exits at once.
enum SignalTrap {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    static func install(_ interrupt: Interrupt, notify: @escaping @Sendable (String) -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if interrupt.requested != nil {
                    FileHandle.standardError.write(Data("fleet: interrupted again, leaving now; locks may remain (fleet lock status)\n".utf8))
                    exit(130)
                }
                let name = number == SIGINT ? "SIGINT" : "SIGTERM"
                interrupt.request("interrupted by \(name)")
                notify("fleet: \(name): no new host starts; hosts in flight finish, then locks are released (again to leave at once)\n")
            }
            source.resume()
            sources.append(source)
        }
    }
}
