import FleetCore
import Foundation
import SSHEngine

/// What plan, deploy and rollback share: who runs, where the host scripts are, the probe, live output.
enum RolloutSupport {
    /// `user@machine`, pid, a run id and the start time, in the scripts' token grammar.
    static func runContext(_ context: CommandContext, now: Date = Date()) -> RunContext {
        let user = context.environment["USER"] ?? context.environment["LOGNAME"]
            ?? getpwuid(getuid()).map { String(decoding: UnsafeRawBufferPointer(start: $0.pointee.pw_name, count: strlen($0.pointee.pw_name)), as: UTF8.self) }
            ?? "unknown"
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        let machine = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._:+-")
        let who = String("\(user)@\(machine)".filter { allowed.contains($0) }.prefix(128))
        let stamp = ISO8601DateFormatter().string(from: now)
        let compact = stamp.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        let runId = "\(compact)-\(String(UInt32.random(in: 0...0xFFFFFF), radix: 16))"
        return RunContext(runId: runId, who: who, pid: Int(getpid()), startedAt: stamp)
    }

    /// The host scripts' folder (see `Playbooks.locate`), as an input error (exit 2) when it is missing.
    static func playbooksDir(inventory: Inventory, context: CommandContext) throws -> String {
        do {
            return try Playbooks.locate(inventoryFile: inventory.file, environment: context.environment,
                                        executable: context.executable)
        } catch let error as HostFailure {
            throw InventoryError(file: inventory.file, message: error.message)
        }
    }

    /// Every script the hosts need (setup.sh runs only through `fleet setup`).
    static func playbookNames(in dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            .filter { $0.hasSuffix(".sh") && $0 != "setup.sh" }.sorted()
    }

    /// `--probe`: each host's current release, slot and lock, read through its status script; changes nothing.
    static func probe(_ inventory: Inventory, hosts: [HostEntry], transport: any Transport) async -> [String: HostState] {
        let results = await forEachHost(hosts, limit: inventory.ssh.parallel) { host -> (String, HostState) in
            let root = inventory.rootDir(for: host.name)
            let script = shellQuote(root + "/bin/status.sh")
            // One round trip: a host fleet never deployed to has no status script, and so no release.
            let command = "if [ -x \(script) ]; then \(script) --config \(shellQuote(root + "/fleet.conf")); fi"
            do {
                let session = try await transport.connect(host, settings: inventory.ssh)
                let result: CommandResult
                do {
                    result = try await session.run(command, timeout: .seconds(60), stdin: [], onLine: nil)
                } catch {
                    await session.close()
                    throw error
                }
                await session.close()
                let line = result.stdoutText.split(separator: "\n").last(where: { $0.hasPrefix("{") }) ?? "{}"
                let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
                let current = object["current"] as? [String: Any]
                let lock = (object["lock"] as? [String: Any])?["fleet"] as? [String: Any]
                let holder = lock.map { "\($0["who"] ?? "?") (\($0["command"] ?? "?") \($0["version"] ?? ""), run \($0["run_id"] ?? "?"))" }
                return (host.name, HostState(release: current?["version"] as? String, slot: object["slot"] as? String, lock: holder))
            } catch {
                return (host.name, HostState(error: "\(error)"))
            }
        }
        return Dictionary(uniqueKeysWithValues: results)
    }

    /// Live output: plain timestamped lines (CI and terminals alike), or NDJSON events with `--json`.
    static func printer(_ context: CommandContext, json: Bool) -> @Sendable (ExecutionEvent) -> Void {
        let color = context.useColor
        return { event in
            let time = clockTime()
            if json {
                context.out(eventJSON(event, time: time) + "\n")
                return
            }
            switch event {
            case .stage(let title): context.err("\(time) -- \(title)\n")
            case .note(let text): context.err("\(time) note: \(text)\n")
            case .phase(let host, let phase, let batch):
                context.err("\(time) \(host) \(phase)\(batch.map { " (batch \($0))" } ?? "")\n")
            case .hostDone(let report):
                let ok = report.outcome == .updated || report.outcome == .skipped
                var text = "\(time) \(report.host) \(report.outcome.rawValue)"
                if let to = report.to { text += " \(report.from ?? "none") -> \(to)" }
                if report.durationMs > 0 { text += String(format: " (%.1f s)", Double(report.durationMs) / 1000) }
                if let error = report.error { text += ": \(error.split(separator: "\n").first ?? "")" }
                context.err((color ? (ok ? "\u{1B}[32m" : "\u{1B}[31m") + text + "\u{1B}[0m" : text) + "\n")
            }
        }
    }

    static func eventJSON(_ event: ExecutionEvent, time: String) -> String {
        var object: [String: Any] = ["time": time]
        switch event {
        case .stage(let title): object["event"] = "stage"; object["title"] = title
        case .note(let text): object["event"] = "note"; object["text"] = text
        case .phase(let host, let phase, let batch):
            object["event"] = "phase"; object["host"] = host; object["phase"] = phase; object["batch"] = batch ?? NSNull()
        case .hostDone(let report):
            object["event"] = "host"; object["host"] = report.host; object["outcome"] = report.outcome.rawValue
            object["error"] = report.error ?? NSNull(); object["exit_code"] = report.exitCode.map { Int($0) } ?? NSNull()
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// HH:MM:SS local time, for log lines.
    static func clockTime() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        return String(format: "%02d:%02d:%02d", parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
