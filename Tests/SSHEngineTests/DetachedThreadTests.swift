import Foundation
import Testing
@testable import SSHEngine

/// `DetachedThread`: a blocking job's own thread, and an error (never a silent no-op) when none can be started.
@Suite struct DetachedThreadTests {
    @Test func runsTheJob() async throws {
        let answer = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, Error>) in
            do { try DetachedThread.start { continuation.resume(returning: 42) } } catch { continuation.resume(throwing: error) }
        }
        #expect(answer == 42)
    }

    /// A stack larger than the address space: pthread_create refuses, the caller is told, the job never runs.
    @Test func aThreadThatCannotStartIsAnError() throws {
        let ran = Flag()
        #expect {
            try DetachedThread.start(stackSize: 1 << 62) { ran.set() }
        } throws: { "\($0)".hasPrefix("cannot start a thread: ") }
        Thread.sleep(forTimeInterval: 0.1)
        #expect(!ran.value)
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var raised = false
        func set() { lock.lock(); raised = true; lock.unlock() }
        var value: Bool { lock.lock(); defer { lock.unlock() }; return raised }
    }
}
