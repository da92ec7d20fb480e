import FleetCore
import Foundation
import SSHEngine

/// What plan, deploy and rollback share: who runs, where the host scripts are, the probe.
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
}
