import CLibSSH2
import Foundation

/// A request for one `direct-tcpip` channel of a jump session, answered exactly once: by the pump's thread
/// (the descriptor of the target's end of the tunnel, or why not) or by the waiting task's cancellation.
final class ChannelRequest: @unchecked Sendable {
    let host: String
    let port: Int
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Int32, any Error>?
    private var result: Result<Int32, SSHError>?

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    var isAnswered: Bool {
        lock.lock()
        defer { lock.unlock() }
        return result != nil
    }

    /// Delivers the answer. False when it was already answered (a descriptor given then is the caller's to close).
    @discardableResult
    func answer(_ value: Result<Int32, SSHError>) -> Bool {
        lock.lock()
        guard result == nil else {
            lock.unlock()
            return false
        }
        result = value
        let waiting = continuation
        continuation = nil
        lock.unlock()
        waiting?.resume(with: value.mapError { $0 as any Error })
        return true
    }

    /// Waits for the answer; cancelling the task answers `cancelled` at once.
    func wait(submit: () -> Void, name: String) async throws -> Int32 {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                lock.lock()
                if let result {
                    lock.unlock()
                    continuation.resume(with: result.mapError { $0 as any Error })
                    return
                }
                self.continuation = continuation
                lock.unlock()
                submit()
            }
        } onCancel: {
            answer(.failure(SSHError(.cancelled, host: name, "cancelled")))
        }
    }
}
