import ArgumentParser
import FleetCore
import Foundation

/// `fleet exec`: one command on many hosts in parallel.
public struct Exec: ContextCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Run one command on many hosts in parallel.",
        discussion: """
            Output is grouped per host; stderr lines are marked. Exit status: 0 when every host exits 0, \
            1 when any host failed or was unreachable, 2 for a usage or inventory error.
            Example: fleet exec --env production --hosts 'web*' -- uptime
            """
    )

    @OptionGroup public var inventory: InventoryOptions
    @OptionGroup public var selection: HostSelectionOptions
    @OptionGroup public var scripts: PlaybookOptions

    @Option(help: "Hosts in flight at most (default: the inventory's ssh.parallel).")
    public var parallel: Int?

    @Option(help: "Seconds a command may run on a host before it is abandoned.")
    public var timeout: Int?

    @Flag(help: "Print one JSON object per host: host, exit_status, signal, stdout, stderr, duration_ms, error.")
    public var json = false

    @Flag(help: "Run the command inside each host's current container (docker exec, not interactive), as argv words.")
    public var container = false

    @Option(help: "With --container: the process whose container (default: the web process, or the app's only one).")
    public var process: String?

    // The command is everything from `--` or from the first word that is not one of exec's options; a word that
    // looks like an option before it (a typo: `--parralel 2 --hosts web1 -- true`) is refused in `validate()`, so
    // it never becomes a command run on every host.
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp(
        "The command, after -- (or from its first word on; options after that word are the command's own).", valueName: "command"))
    public var command: [String] = []

    public init() {}

    public func validate() throws {
        if words == ["--help"] || words == ["-h"] { throw CleanExit.helpRequest(self) }
        if let first = command.first, first != "--", first.hasPrefix("-") { throw Self.unknownOption(first) }
        if words.isEmpty { throw ValidationError("Give the command after --, for example: fleet exec --env production -- uptime") }
        if let parallel, parallel < 1 { throw ValidationError("--parallel must be at least 1, not \(parallel)") }
        if let timeout, timeout < 1 { throw ValidationError("--timeout must be at least 1 second, not \(timeout)") }
        if process != nil, !container { throw ValidationError("--process goes with --container (it picks that process's container)") }
        if scripts.playbooks != nil, !container {
            throw refuse("exec", ["--playbooks"], "only --container runs a host script (container.sh); a plain command runs none")
        }
    }

    /// A word before the command that looks like an option but is none of exec's: refused (exit 2), naming the
    /// closest option of exec, before any host is contacted.
    static func unknownOption(_ word: String) -> ValidationError {
        let name = String(word.prefix { $0 != "=" })
        let closest = OptionNames.closest(to: name, in: OptionNames.of(Exec.self)).map { " Did you mean '\($0)'?" } ?? ""
        return ValidationError("Unknown option '\(name.prefix(60))'.\(closest) "
            + "(fleet exec runs its command from -- on, e.g. fleet exec --hosts web1 -- uptime; no host was contacted)")
    }

    private var words: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

    public func perform(context: CommandContext) async throws -> Int32 {
        let targets = try inventory.targets(selection, context)
        let inventory = targets.inventory
        var hosts = targets.hosts
        var processArgs: [String] = []
        if container {
            let choice = try ProcessChoice(process, inventory: inventory, hosts: hosts)
            (hosts, processArgs) = (choice.hosts, choice.scriptArgs)
        }
        // One word runs as the user typed it (a shell line); several words are quoted one by one. In the container,
        // the words are docker exec's argv (no shell).
        let line = words.count == 1 ? words[0] : ShellWords.join(words)
        var runner = ExecRunner(sessions: try context.sessions(inventory, parallel: parallel), timeout: timeout.map { .seconds($0) })
        if container {
            let playbooks = try scripts.load(inventory, context)
            runner.script = (HostScripts(inventory: inventory, playbooks: playbooks), processArgs + ["exec", "--"] + words)
        }
        let json = self.json
        let color = context.useColor
        let results = await runner.run(line, on: hosts) { result in
            context.out(json ? ExecReport.json(result) : ExecReport.text(result, color: color))
        }
        if !json { context.err(ExecReport.summary(results)) }
        return results.allSatisfy(\.succeeded) ? 0 : 1
    }
}
