import FleetCore
import Foundation
import SSHEngine
import TestSupport
@testable import FleetCLI

/// The lab with servers (`lab.sh up --hosts 4 --servers`), driven through fleet's own commands.
enum E2E {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let secret = "s3cr3t-e2e-7f3a9c"
    /// How many hosts the lab has (`LAB_HOSTS` in its lab.env); the suite wants at least 3.
    static let hostCount: Int = {
        let text = (try? String(contentsOfFile: Lab.dir + "/lab.env", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("LAB_HOSTS=") }
        return line.flatMap { Int($0.dropFirst("LAB_HOSTS=".count)) } ?? 4
    }()

    /// An inventory for the lab's first `hosts` hosts, in a folder of its own (history goes beside it).
    static func inventory(hosts: Int = E2E.hostCount, batch: String = "2", extra: String = "") throws -> String {
        let folder = NSTemporaryDirectory() + "fleet-e2e-\(UInt32.random(in: 0...UInt32.max))/inventory"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "SECRET_TOKEN=\(secret)\nGREETING=hello\n".write(toFile: folder + "/e2e.env", atomically: true, encoding: .utf8)
        var yaml = """
        app: demo
        image: 10.77.0.1:5000/demo
        env_file: e2e.env
        ssh:
          user: root
          identity_files: [\(Lab.dir)/client/id_ed25519]
          known_hosts: \(Lab.dir)/known_hosts
          connect_timeout: 10s
        paths:
          root: \(Lab.dir)/hosts/{host}/opt
          state: \(Lab.dir)/hosts/{host}/state
        nginx:
          upstream_file: \(Lab.dir)/hosts/{host}/nginx/fleet-demo.conf
          upstream_name: fleet_demo
          conf: \(Lab.dir)/hosts/{host}/nginx/nginx.conf
          url: http://127.0.0.1:80
        health: {path: /health, status: 200, timeout: 20s, interval: 1s}
        rollout: {batch: \(batch)}
        \(extra)
        hosts:

        """
        for i in 1...hosts { yaml += "  web\(i): 10.77.0.\(10 + i)\n" }
        try yaml.write(toFile: folder + "/e2e.yml", atomically: true, encoding: .utf8)
        return folder + "/e2e.yml"
    }

    static func context(_ captured: Captured) -> CommandContext {
        captured.context(environment: ["FLEET_PLAYBOOKS": repo + "/playbooks", "USER": "e2e"])
    }

    /// The version each host's nginx serves now.
    static func serving(_ host: Int) async -> String {
        await sh("curl -s -m 5 http://10.77.0.\(10 + host)/version").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The versions `hosts` serve now, in order.
    static func serving(_ hosts: some Sequence<Int>) async -> [String] {
        var versions = [String]()
        for host in hosts { versions.append(await serving(host)) }
        return versions
    }

    static func lab(_ args: String) async { _ = await sh("\(repo)/scripts/lab/lab.sh \(args) 2>&1") }
}

/// Runs a shell command to the end (popen) on a thread of its own, so its wait never holds one of the two
/// cooperative threads that every suite running beside it needs.
@discardableResult
func sh(_ command: String) async -> String { await background(command) }

/// A short shell command run right here, for `defer` blocks, which cannot wait with `await`.
@discardableResult
func shNow(_ command: String) -> String { runShell(command).output }

/// A shell command on a thread of its own, so a long wait never holds a cooperative thread.
func background(_ command: String) async -> String {
    await withCheckedContinuation { continuation in
        do {
            // SSHEngine's thread starter: a thread that cannot start is an answer, not a wait forever.
            try DetachedThread.start {
                // Children inherit this thread's signal mask; a blocked SIGCHLD would leave their shells waiting forever.
                var none = sigset_t()
                sigemptyset(&none)
                pthread_sigmask(SIG_SETMASK, &none, nil)
                continuation.resume(returning: runShell(command).output)
            }
        } catch {
            continuation.resume(returning: "background: \(error) (for: \(command))")
        }
    }
}

/// The lab's load generator against every host's nginx while `body` runs; returns its JSON summary.
func underLoad(hosts: Int = E2E.hostCount, _ body: () async throws -> Void) async throws -> [String: Any] {
    let pidFile = NSTemporaryDirectory() + "fleet-load-\(UInt32.random(in: 0...UInt32.max)).pid"
    let addresses = (1...hosts).map { "10.77.0.\(10 + $0)" }.joined(separator: " ")
    let load = Task { await background("echo $$ > \(pidFile); exec python3 \(E2E.repo)/scripts/lab/load.py \(addresses) --seconds 300") }
    try await Task.sleep(for: .seconds(1))
    do { try await body() } catch {
        await sh("kill -TERM $(cat \(pidFile))")
        _ = await load.value
        throw error
    }
    try await Task.sleep(for: .seconds(1))
    await sh("kill -TERM $(cat \(pidFile))")
    let output = await load.value
    let json = output.firstIndex(of: "{").map { String(output[$0...]) } ?? "{}"
    return (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) ?? [:]
}

/// Requests that failed, summed over hosts, from load.py's summary.
func failedRequests(_ summary: [String: Any]) -> Int {
    ((summary["hosts"] as? [String: Any]) ?? [:]).values.compactMap { ($0 as? [String: Any])?["failed"] as? Int }.reduce(0, +)
}

func totalRequests(_ summary: [String: Any]) -> Int {
    ((summary["hosts"] as? [String: Any]) ?? [:]).values.compactMap { ($0 as? [String: Any])?["total"] as? Int }.reduce(0, +)
}
