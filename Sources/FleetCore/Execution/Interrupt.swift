import Foundation

/// Ctrl-C and SIGTERM during a rollout: the first asks for a graceful stop (no new host starts, hosts in flight
/// finish their swap, locks are released); the executor checks it between hosts and batches.
public final class Interrupt: @unchecked Sendable {
    private let lock = NSLock()
    private var reason: String?

    public init() {}

    public func request(_ why: String) {
        lock.lock()
        if reason == nil { reason = why }
        lock.unlock()
    }

    public var requested: String? {
        lock.lock()
        defer { lock.unlock() }
        return reason
    }
}

/// Progress as it happens, for live lines, CI logs and `--json` events.
public enum ExecutionEvent: Sendable {
    case stage(String)
    /// A host entered a phase ("pre-flight", "deploy", ...), with its batch when in one.
    case phase(host: String, phase: String, batch: Int?)
    case hostDone(HostReport)
    case note(String)
    /// Something the user should see that does not fail the run (an image check finding, an undelivered webhook).
    case warning(String)
    /// A line a hook's command (or hook.sh about it) printed on `host`, as it came: `stream` is "stdout" or "stderr".
    case output(host: String, phase: String, stream: String, line: String)
}
