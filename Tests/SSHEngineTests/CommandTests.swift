import Foundation
import Testing
@testable import SSHEngine

@Suite("Commands on real sshd hosts")
struct CommandTests {
    @Test func exitStatusAndStreamsKeptApart() async throws {
        let connection = try await Lab.connect()
        let result = try await connection.run("echo out; echo err >&2; exit 7")
        #expect(result.exitStatus == 7)
        #expect(result.exitSignal == nil)
        #expect(result.stdoutText == "out\n")
        #expect(result.stderrText == "err\n")
        // The same session serves a second command.
        let again = try await connection.run("true")
        #expect(again.exitStatus == 0)
        await connection.close()
    }

    @Test func megabytesOnBothStreamsNeverStall() async throws {
        let connection = try await Lab.connect()
        let size = 5_000_000
        let result = try await connection.run(
            "(head -c \(size) /dev/zero | tr '\\0' o) & (head -c \(size) /dev/zero | tr '\\0' e >&2); wait",
            timeout: .seconds(60))
        #expect(result.exitStatus == 0)
        #expect(result.stdout.count == size)
        #expect(result.stderr.count == size)
        #expect(result.stdout.allSatisfy { $0 == UInt8(ascii: "o") })
        #expect(result.stderr.allSatisfy { $0 == UInt8(ascii: "e") })
        await connection.close()
    }

    @Test func signalIsReportedAsTheSignal() async throws {
        let connection = try await Lab.connect()
        let result = try await connection.run("kill -TERM $$")
        #expect(result.exitSignal == "TERM")
        #expect(!result.succeeded)
        await connection.close()
    }

    @Test func linesStreamAsTheyArrive() async throws {
        let connection = try await Lab.connect()
        let seen = LockedLines()
        let started = ContinuousClock.now
        _ = try await connection.run("for i in 1 2 3; do echo line$i; sleep 0.4; done; echo warn >&2") { stream, line in
            seen.add(stream, line, at: ContinuousClock.now - started)
        }
        let lines = seen.all
        #expect(lines.map(\.1) == ["line1", "line2", "line3", "warn"])
        #expect(lines.last?.0 == .stderr)
        // Lines arrived as they were written, not all at the end: the sleeps separate them.
        #expect(lines[2].2 - lines[0].2 > .milliseconds(600))
        await connection.close()
    }

    @Test func commandTimeout() async throws {
        let connection = try await Lab.connect()
        let started = ContinuousClock.now
        await #expect(throws: SSHError.self) {
            _ = try await connection.run("sleep 20", timeout: .seconds(1))
        }
        // Generous (every suite shares 2 cores in CI): waiting for the command would take 20 s.
        #expect(ContinuousClock.now - started < .seconds(18))
        await connection.close()
    }

    @Test func cancellationClosesPromptly() async throws {
        let connection = try await Lab.connect()
        let task = Task { try await connection.run("sleep 30") }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        task.cancel()
        let outcome = await task.result
        // Generous (every suite shares 2 cores in CI): waiting for the command would take 30 s.
        #expect(ContinuousClock.now - started < .seconds(25))
        if case .failure(let error as SSHError) = outcome {
            #expect(error.kind == .cancelled)
        } else {
            Issue.record("expected a cancellation error, got \(outcome)")
        }
        await connection.close()
    }
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(OutputKind, String, Duration)] = []
    func add(_ stream: OutputKind, _ line: String, at time: Duration) {
        lock.lock(); lines.append((stream, line, time)); lock.unlock()
    }
    var all: [(OutputKind, String, Duration)] { lock.lock(); defer { lock.unlock() }; return lines }
}
