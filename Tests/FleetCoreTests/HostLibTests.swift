import Foundation
import TestSupport
import Testing

/// Functions of the host library (playbooks/lib.sh and its siblings) run here in bash, where the case needs no
/// lab host: the docker client is real, pointed at a socket where no dockerd answers (dockerd gone).
@Suite struct HostLibTests {
    static let playbooks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/playbooks"

    /// Runs `body` after sourcing lib.sh, with DOCKER_HOST naming a socket nothing listens on; stdout and stderr.
    static func run(_ body: String) throws -> String {
        let dir = NSTemporaryDirectory() + "fleet-hostlib-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = """
            set -euo pipefail
            SCRIPT_NAME=test
            . '\(playbooks)/lib.sh'
            install_traps
            export DOCKER_HOST=unix://\(dir)/no-dockerd.sock
            CFG_REGISTRY=""
            \(body)

            """
        try script.write(toFile: dir + "/t.sh", atomically: true, encoding: .utf8)
        return runShell("bash '\(dir)/t.sh' 2>&1").output
    }

    /// A worker whose container cannot be read because dockerd is gone: the cause, not "missing after 0
    /// restart(s)".
    @Test func aWorkerCheckSaysDockerdIsNotAnswering() throws {
        let out = try Self.run("WK_CHECK=running_for WK_SECONDS=3\nworker_check demo-job-b \"$SECONDS\" || echo \"why: $WK_WHY (dockerd $WK_DOCKERD)\"")
        #expect(out.contains("why: dockerd is not answering"), "\(out)")
        #expect(out.contains("start dockerd again") && out.contains("(dockerd 0)") && !out.contains("restart(s)"), "\(out)")
    }

    /// A failed pull's message: docker's last lines, then what to check, with no "timeout- check".
    @Test func aFailedPullReadsAsOneSentence() throws {
        let out = try Self.run("pull_image registry.invalid/demo:v1")
        let line = try #require(out.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init), "\(out)")
        #expect(line.contains("\"code\":10") && line.contains("docker pull registry.invalid/demo:v1 failed: "), "\(line)")
        #expect(line.contains("; check the registry address") && !line.contains("- check") && !line.contains(" ; "), "\(line)")
    }

    @Test func lastLinesJoinsTheNonBlankOnes() throws {
        let out = try Self.run("last_lines 2 $'one\\ntwo\\r\\n\\n  \\nthree\\n'; echo '|'; last_lines 3 ''; echo '|'")
        #expect(out.hasPrefix("two; three|\n|\n"), "\(out)")
    }
}
