import Foundation
import SSHEngine

/// A step that did not succeed on a host: fleet's one failure type for a host command.
public struct StepFailure: Error, Sendable {
    public var step: Step
    public var exitCode: Int32?
    public var message: String
    public var lastLines: [String]
    /// The one meaning of "unreachable" (`SSHError.meansUnreachable`): never reached, or the connection was lost.
    public var unreachable: Bool
    /// The session cannot be used again (unreachable, or the command was cut off).
    public var closesSession: Bool
}

/// The one runner of host commands: runs a host's steps in order on its session, exactly as the plan says.
public struct StepRunner: Sendable {
    /// Bytes of every upload source, read before any host is contacted.
    public var files: UploadFiles
    public var onLine: (@Sendable (String, OutputKind, String) -> Void)?

    public init(files: UploadFiles, onLine: (@Sendable (String, OutputKind, String) -> Void)? = nil) {
        self.files = files
        self.onLine = onLine
    }

    /// What a host's steps gave when every one succeeded: the last step, its output and its result line.
    public struct Done: Sendable {
        public var step: Step?
        public var output: CommandResult?
        public var json: JSONValue?
    }

    /// Runs the steps; returns the last script's result line, or throws the first failure.
    @discardableResult
    public func run(_ steps: [Step], on session: any HostSession) async throws(StepFailure) -> JSONValue? {
        try await runSteps(steps, on: session).json
    }

    /// Runs the steps in order; returns what the last one gave, or throws the first failure.
    public func runSteps(_ steps: [Step], on session: any HostSession) async throws(StepFailure) -> Done {
        var done = Done()
        let host = session.hostName
        var handler: LineHandler?
        if let forward = onLine { handler = { kind, line in forward(host, kind, line) } }
        for step in steps {
            let result = try await execute(step, on: session, onLine: handler)
            done = Done(step: step, output: result, json: JSONValue.resultLine(in: result.stdoutText))
            if !result.succeeded { throw Self.failure(step, result, done.json) }
        }
        return done
    }

    /// Runs one step's command with what it reads on stdin (an install step's tar stream, or its `stdin`) and
    /// returns what it gave, whatever its exit status. Throws only when the command could not run.
    public func execute(_ step: Step, on session: any HostSession, onLine: LineHandler? = nil) async throws(StepFailure) -> CommandResult {
        do {
            let stdin = step.kind == .install ? try files.stream(for: step) : step.stdin.map { files.bytes(for: $0) } ?? []
            return try await session.run(step.command ?? "", timeout: step.timeoutSeconds.map { .seconds($0) }, stdin: stdin, onLine: onLine)
        } catch {
            throw Self.failure(step, error, host: session.hostName)
        }
    }

    /// A step that could not run (connection, timeout, cancelled), said for people.
    static func failure(_ step: Step, _ error: any Error, host: String) -> StepFailure {
        if let error = error as? SSHError {
            let detail = Recap.normalise(error.description, host: host)
            return StepFailure(step: step, exitCode: nil, message: "\(step.purpose): \(detail)", lastLines: [],
                               unreachable: error.meansUnreachable, closesSession: error.meansUnreachable || error.kind == .cancelled)
        }
        return StepFailure(step: step, exitCode: nil, message: "\(step.purpose): \(error)", lastLines: [], unreachable: false,
                           closesSession: false)
    }

    static func failure(_ step: Step, _ result: CommandResult, _ parsed: JSONValue?) -> StepFailure {
        let tail = Self.tail(result.stderrText, 8) + Self.tail(result.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("{") }.joined(separator: "\n"), 4)
        var message: String
        if let signal = result.exitSignal {
            message = "\(step.purpose): killed by signal \(signal)"
        } else {
            message = "\(step.purpose): exit \(result.exitStatus)"
        }
        if let said = parsed?["error"]?.text ?? parsed?["message"]?.text { message += ": \(said)" }
        return StepFailure(step: step, exitCode: result.exitSignal == nil ? result.exitStatus : nil, message: message,
                           lastLines: tail, unreachable: false, closesSession: false)
    }

    static func tail(_ text: String, _ count: Int) -> [String] {
        text.split(separator: "\n").suffix(count).map(String.init)
    }
}

/// The bytes behind the plan's uploads: playbooks read from disk once, inline content, the env file's
/// validated contents and the registry password (never re-read, never shown).
public struct UploadFiles: Sendable {
    private var playbooks: [String: [UInt8]]
    private var envContents: [UInt8]
    private var registryPassword: [UInt8]

    /// Reads every playbook the plan uploads: from `known` (the scripts the plan was built with, fleet's own
    /// included), else from disk. Throws naming the missing file.
    public init(plan: Plan, inventory: Inventory, known: [String: [UInt8]] = [:]) throws {
        var playbooks = known
        let steps = plan.stages.flatMap { $0.hosts.flatMap(\.steps) }
        let sources = steps.compactMap(\.stdin) + steps.flatMap { $0.files?.map(\.source) ?? [] }
        for source in sources where source.kind == .playbook {
            guard let path = source.localPath, playbooks[path] == nil else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw PlaybooksError("cannot read the host script \(path); check that it exists and is readable")
            }
            playbooks[path] = Array(data)
        }
        self.playbooks = playbooks
        self.envContents = Array((inventory.envFile?.contents.reveal() ?? "").utf8)
        self.registryPassword = Array((inventory.registry?.password.reveal() ?? "").utf8)
    }

    public init(playbooks: [String: [UInt8]], env: [UInt8], registryPassword: [UInt8] = []) {
        self.playbooks = playbooks
        self.envContents = env
        self.registryPassword = registryPassword
    }

    /// An install step's tar stream: each file under its member name, with its mode.
    func stream(for step: Step) throws -> [UInt8] {
        let entries = (step.files ?? []).map { file in
            Tarball.Entry(name: file.member, mode: Int(file.mode, radix: 8) ?? 0o644, bytes: bytes(for: file.source))
        }
        return try Tarball.pack(entries, mtime: Int(Date().timeIntervalSince1970))
    }

    func bytes(for source: UploadSource) -> [UInt8] {
        switch source.kind {
        case .playbook: return playbooks[source.localPath ?? ""] ?? []
        case .inline: return Array((source.content ?? "").utf8)
        case .envFile: return envContents
        case .registryPassword: return registryPassword
        }
    }
}
