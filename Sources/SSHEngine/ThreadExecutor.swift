import Foundation

/// A serial executor that owns one dedicated OS thread.
///
/// Each SSH connection is an actor whose jobs run here, so blocking libssh2 calls and `poll(2)` never occupy
/// Swift's cooperative thread pool (which has one thread per core).
final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var finished = false

    init(name: String, stackSize: Int = 512 * 1024) {
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.stackSize = stackSize
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        if finished {
            condition.unlock()
            // The thread is gone (the connection was closed); run the straggler on a thread of its own.
            let executor = self.asUnownedSerialExecutor()
            Thread.detachNewThread { unowned.runSynchronously(on: executor) }
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
