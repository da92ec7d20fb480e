import Foundation
import TestSupport
import Testing
@testable import SSHEngine

/// The lab that `scripts/lab/lab.sh up` brings up: real sshd hosts in network namespaces.
enum Lab {
    static let dir = ProcessInfo.processInfo.environment["FLEET_LAB_DIR"] ?? "/tmp/fleet-lab"
    static var knownHosts: String { dir + "/known_hosts" }
    static func key(_ type: String) -> String { dir + "/client/id_\(type)" }

    /// web1 ... webN with their addresses, from the lab's known_hosts (ed25519 lines only).
    static func hosts() throws -> [SSHTarget] {
        guard let text = try? String(contentsOfFile: knownHosts, encoding: .utf8) else {
            throw LabMissing()
        }
        return text.split(separator: "\n").compactMap { line in
            let address = String(line.split(separator: " ")[0])
            guard address.hasPrefix("10.77.0."), let last = Int(address.split(separator: ".")[3]) else { return nil }
            return SSHTarget(name: "web\(last - 10)", address: address, port: 22, user: "root")
        }
    }

    static func host(_ index: Int = 0) throws -> SSHTarget {
        let all = try hosts()
        guard index < all.count else { throw LabMissing() }
        return all[index]
    }

    /// Light hosts (`lab.sh light-up N`): one sshd per loopback address.
    static func lightHosts() throws -> (targets: [SSHTarget], knownHosts: String) {
        let path = dir + "/light/known_hosts"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw LabMissing() }
        let targets = text.split(separator: "\n").enumerated().map { index, line in
            SSHTarget(name: "light\(index + 1)", address: String(line.split(separator: " ")[0]), port: 22, user: "root")
        }
        return (targets, path)
    }

    static func options(key: String = "ed25519", knownHosts: String = Lab.knownHosts,
                        policy: HostKeyPolicy = .strict, timeout: Duration = .seconds(5)) -> SSHOptions {
        SSHOptions(identityFiles: [Lab.key(key)], knownHostsPath: knownHosts, hostKeyPolicy: policy,
                   connectTimeout: timeout)
    }

    static func connect(_ index: Int = 0, options: SSHOptions = Lab.options()) async throws -> SSHConnection {
        try await SSHConnection.connect(to: host(index), options: options)
    }

    static func temp(_ name: String) -> String {
        let folder = NSTemporaryDirectory() + "fleet-tests-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder + "/" + name
    }
}

struct LabMissing: Error, CustomStringConvertible {
    var description: String {
        "the lab is not up: run `sudo scripts/lab/lab.sh up --hosts 4 && sudo scripts/lab/lab.sh light-up 20` (scripts/test.sh does)"
    }
}

/// Runs a shell command on this machine (the test controller), returning its stdout.
@discardableResult
func shell(_ command: String) throws -> String { runShell(command).output }
