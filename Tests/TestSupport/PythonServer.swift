import Foundation

/// A python3 script a test starts (and stops, by pid) that listens on 127.0.0.1 and prints its port as its first
/// line: the local HTTP and HTTPS receivers of the webhook tests, the bad-answer receiver.
public final class PythonServer: @unchecked Sendable {
    let process = Process()
    public let port: Int

    /// The server printed no port: `message` says which one.
    public struct NotStarted: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// Writes `script` to DIR/server.py and runs it with `arguments`; throws `failure` when no port is printed.
    public init(script: String, dir: String, arguments: [String], failure: String) throws {
        try script.write(toFile: dir + "/server.py", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", dir + "/server.py"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw NotStarted(message: failure)
        }
        self.port = port
    }

    public func stop() {
        if process.isRunning {
            // SIGKILL: a child of the test process inherits its blocked signals, so SIGTERM may never arrive.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
