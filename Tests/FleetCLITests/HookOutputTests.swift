import Foundation
import Testing
@testable import FleetCLI
@testable import FleetCore

/// A hook's output lines as events, and how each output shows them: plain progress, `--json`, the live view.
@Suite struct HookOutputTests {
    @Test func theHooksLinesAreEventsButNotTheScriptsResultLine() {
        let seen = Seen()
        let forward = HookOutput.forwarder(phase: "before_rollout", to: { seen.add($0) })
        forward("web1", .stderr, "fleet hook: running 'sh' in demo:v2")
        forward("web1", .stderr, "migrated 3 tables")
        forward("web1", .stdout, "{\"script\":\"hook\",\"ok\":true,\"code\":0,\"hook_exit\":0}")
        forward("web1", .stdout, "{not json")
        #expect(seen.lines == ["web1 before_rollout stderr fleet hook: running 'sh' in demo:v2",
                               "web1 before_rollout stderr migrated 3 tables", "web1 before_rollout stdout {not json"])
    }

    @Test func controlCharactersAndEndlessLinesAreShownSafely() {
        #expect(HookOutput.shown("\u{1B}[31mred\u{1B}[0m\rover\tok") == "?[31mred?[0m?over\tok")
        let long = HookOutput.shown(String(repeating: "x", count: 5_000))
        #expect(long == String(repeating: "x", count: HookOutput.maxLine) + " [cut at \(HookOutput.maxLine) characters]")
    }

    @Test func plainProgressAndJSONShowEachLine() throws {
        let captured = Captured()
        let print = Rollouts.printer(captured.context(environment: [:]), json: false)
        print(.output(host: "web1", phase: "after_rollout", stream: "stderr", line: "smoke tests: 12 passed"))
        #expect(captured.err.hasSuffix(" web1 after_rollout | smoke tests: 12 passed\n"), "\(captured.err)")
        let json = Rollouts.eventJSON(.output(host: "web1", phase: "after_rollout", stream: "stderr", line: "a \"quoted\" line"), time: "10:00:00")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String])
        #expect(object == ["event": "output", "host": "web1", "phase": "after_rollout", "stream": "stderr",
                           "line": "a \"quoted\" line", "time": "10:00:00"])
    }

    @Test func theLiveViewPrintsThemAboveTheHostLines() {
        let captured = Captured()
        let view = LiveView(hosts: ["web1"], style: LiveBoard.Style(color: false, unicode: false),
                            size: { TerminalSize(columns: 80, rows: 24) }, write: captured.context(environment: [:]).err)
        view.handle(.output(host: "web1", phase: "before_rollout", stream: "stderr", line: "migrating"))
        view.finish()
        #expect(captured.err.contains("web1 before_rollout | migrating\n"), "\(captured.err)")
    }
}

/// Events a test collects, from any thread.
final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [String] = []
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return all }

    func add(_ event: ExecutionEvent) {
        guard case .output(let host, let phase, let stream, let line) = event else { return }
        lock.lock()
        all.append("\(host) \(phase) \(stream) \(line)")
        lock.unlock()
    }
}
