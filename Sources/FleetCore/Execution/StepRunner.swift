import Foundation
import SSHEngine

/// A step that did not succeed on a host.
public struct StepFailure: Error, Sendable {
    public var step: Step
    public var exitCode: Int32?
    public var message: String
    public var lastLines: [String]
    /// True when the host could not be reached or the connection was lost.
    public var connectionLost: Bool
}

/// What a host script said in its last line of JSON.
public struct ScriptResult: Sendable {
    public var fields: [String: String]

    /// The last line of stdout that parses as a JSON object.
    public init(stdout: String) {
        fields = [:]
        for line in stdout.split(separator: "\n").reversed() where line.hasPrefix("{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            for (key, value) in object {
                if let text = value as? String { fields[key] = text } else if let number = value as? NSNumber { fields[key] = number.stringValue }
            }
            // Booleans come back as NSNumber (0/1) on Linux; read them from the text.
            for key in object.keys where line.contains("\"\(key)\":true") || line.contains("\"\(key)\":false") {
                fields[key] = line.contains("\"\(key)\":true") ? "true" : "false"
            }
            return
        }
    }
}

/// Runs a host's steps in order on its session, exactly as the plan says.
public struct StepRunner: Sendable {
    /// Bytes of every upload source, read before any host is contacted.
    public var files: UploadFiles
    public var onLine: (@Sendable (String, OutputKind, String) -> Void)?

    public init(files: UploadFiles, onLine: (@Sendable (String, OutputKind, String) -> Void)? = nil) {
        self.files = files
        self.onLine = onLine
    }

    /// Runs the steps; returns the last script's result, or throws the first failure.
    @discardableResult
    public func run(_ steps: [Step], on session: any HostSession) async throws(StepFailure) -> ScriptResult? {
        var last: ScriptResult?
        let host = session.hostName
        for step in steps {
            do {
                switch step.kind {
                case .upload:
                    let bytes = try files.bytes(for: step)
                    let mode = Int(step.mode ?? "0644", radix: 8) ?? 0o644
                    try await session.upload(bytes, to: step.path ?? "", mode: mode)
                case .install:
                    let entries = (step.files ?? []).map { file in
                        Tarball.Entry(name: file.member, mode: Int(file.mode, radix: 8) ?? 0o644, bytes: files.bytes(for: file.source))
                    }
                    let stream = try Tarball.pack(entries, mtime: Int(Date().timeIntervalSince1970))
                    let result = try await session.run(step.command ?? "", timeout: step.timeoutSeconds.map { .seconds($0) },
                                                       stdin: stream, onLine: nil)
                    let parsed = ScriptResult(stdout: result.stdoutText)
                    last = parsed
                    if !result.succeeded {
                        throw Self.failure(step, result, parsed)
                    }
                case .run:
                    var handler: LineHandler?
                    if let forward = onLine {
                        handler = { kind, line in forward(host, kind, line) }
                    }
                    let result = try await session.run(step.command ?? "", timeout: step.timeoutSeconds.map { .seconds($0) },
                                                       stdin: step.stdin.map { files.bytes(for: $0) } ?? [], onLine: handler)
                    let parsed = ScriptResult(stdout: result.stdoutText)
                    last = parsed
                    if !result.succeeded {
                        throw Self.failure(step, result, parsed)
                    }
                }
            } catch let failure as StepFailure {
                throw failure
            } catch let error as SSHError {
                let detail = Recap.normalise(error.description, host: host)
                throw StepFailure(step: step, exitCode: nil, message: "\(step.purpose): \(detail)", lastLines: [],
                                  connectionLost: error.kind == .disconnected || error.isUnreachable || error.kind == .cancelled)
            } catch {
                throw StepFailure(step: step, exitCode: nil, message: "\(step.purpose): \(error)", lastLines: [], connectionLost: false)
            }
        }
        return last
    }

    static func failure(_ step: Step, _ result: CommandResult, _ parsed: ScriptResult) -> StepFailure {
        let tail = Self.tail(result.stderrText, 8) + Self.tail(result.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("{") }.joined(separator: "\n"), 4)
        var message: String
        if let signal = result.exitSignal {
            message = "\(step.purpose): killed by signal \(signal)"
        } else {
            message = "\(step.purpose): exit \(result.exitStatus)"
        }
        if let said = parsed.fields["error"] ?? parsed.fields["message"], !said.isEmpty { message += ": \(said)" }
        return StepFailure(step: step, exitCode: result.exitSignal == nil ? result.exitStatus : nil, message: message,
                           lastLines: tail, connectionLost: false)
    }

    static func tail(_ text: String, _ count: Int) -> [String] {
        text.split(separator: "\n").suffix(count).map(String.init)
    }
}

/// The bytes behind the plan's uploads: playbooks read from disk once, inline content, the env file's
/// validated contents (never re-read, never shown).
public struct UploadFiles: Sendable {
    private var playbooks: [String: [UInt8]]
    private var envContents: [UInt8]

    /// Reads every playbook the plan uploads. Throws naming the missing file.
    public init(plan: Plan, inventory: Inventory) throws {
        var playbooks: [String: [UInt8]] = [:]
        let steps = plan.stages.flatMap { $0.hosts.flatMap(\.steps) }
        let sources = steps.compactMap(\.source) + steps.compactMap(\.stdin) + steps.flatMap { $0.files?.map(\.source) ?? [] }
        for source in sources where source.kind == .playbook {
            guard let path = source.localPath, playbooks[path] == nil else { continue }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw InventoryError(file: path, line: nil, column: nil, message: "cannot read the host script \(path)")
            }
            playbooks[path] = Array(data)
        }
        self.playbooks = playbooks
        self.envContents = Array((inventory.envFile?.contents.reveal() ?? "").utf8)
    }

    public init(playbooks: [String: [UInt8]], env: [UInt8]) {
        self.playbooks = playbooks
        self.envContents = env
    }

    func bytes(for step: Step) throws -> [UInt8] {
        guard let source = step.source else { return [] }
        return bytes(for: source)
    }

    func bytes(for source: UploadSource) -> [UInt8] {
        switch source.kind {
        case .playbook: return playbooks[source.localPath ?? ""] ?? []
        case .inline: return Array((source.content ?? "").utf8)
        case .envFile: return envContents
        }
    }
}
