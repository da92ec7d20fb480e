import Foundation

/// Runs a shell command on this machine (the test controller) with popen and returns its stdout and exit
/// status. popen, not Process: Foundation's Process.waitUntilExit can hang when the command leaves a daemon
/// behind, as ssh-agent does.
public func runShell(_ command: String) -> (output: String, status: Int32) {
    guard let pipe = popen(command, "r") else { return ("", -1) }
    var output = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, buffer.count, pipe)
        if n <= 0 { break }
        output += buffer[0..<n]
    }
    let status = pclose(pipe)
    return (String(decoding: output, as: UTF8.self), (status >> 8) & 0xFF)
}
