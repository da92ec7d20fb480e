import Foundation

/// `pthread_create` refused: the errno it returned.
public struct ThreadStartError: Error, CustomStringConvertible {
    public var code: Int32
    public var reason: String { String(cString: strerror(code)) }
    public var description: String { "cannot start a thread: \(reason)" }
}

/// A serial executor that owns one dedicated OS thread.
///
/// Each SSH connection is an actor whose jobs run here, so blocking libssh2 calls and `poll(2)` never occupy
/// Swift's cooperative thread pool (which has one thread per core).
final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var finished = false

    /// Starts the thread. Throws the `pthread_create` error (EAGAIN when the process or the machine has no room
    /// for another thread) instead of trapping, so the caller can make it that host's error.
    init(name: String, stackSize: Int = 512 * 1024) throws(ThreadStartError) {
        // The thread holds the executor until its loop ends (after `shutdown`).
        try DetachedThread.start(stackSize: stackSize) { self.loop() }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        if finished {
            condition.unlock()
            // The thread is gone (the connection was closed); run the straggler on a thread of its own, or here
            // when no thread can be started (a job must run, or its awaiter waits forever).
            let executor = self.asUnownedSerialExecutor()
            do {
                try DetachedThread.start { unowned.runSynchronously(on: executor) }
            } catch {
                unowned.runSynchronously(on: executor)
            }
            return
        }
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread end once its queue is empty.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        let executor = asUnownedSerialExecutor()
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                finished = true
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: executor) }
        }
    }
}

/// A detached OS thread for one blocking job, started with `pthread_create` so that a process with no room for
/// another thread gets an error to report (Foundation's `Thread.detachNewThread` gives none: the job would
/// never run, and whoever awaits it would wait forever).
public enum DetachedThread {
    private final class Job {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Runs `body` on a new thread; throws when the thread cannot be started (`body` then never runs).
    public static func start(stackSize: Int = 512 * 1024, _ body: @escaping @Sendable () -> Void) throws(ThreadStartError) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let retained = Unmanaged.passRetained(Job(body))
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { argument in
            guard let argument else { return nil }
            Unmanaged<Job>.fromOpaque(argument).takeRetainedValue().body()
            return nil
        }, retained.toOpaque())
        guard rc == 0 else {
            retained.release()
            throw ThreadStartError(code: rc)
        }
    }
}
