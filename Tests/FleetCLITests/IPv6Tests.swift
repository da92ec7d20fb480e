import FleetCore
import Foundation
import Testing
import TestSupport
@testable import FleetCLI

/// A real sshd listening on IPv6 loopback only (`[::1]:2299`, the lab's light-host keys): fleet reaches it
/// written as `[::1]:2299` and as a bare `::1` with a port, and known_hosts names it `[::1]:2299`.
@Suite("IPv6 hosts")
struct IPv6Tests {
    @Test func execOverIPv6() async throws {
        let light = Lab.dir + "/light"
        let pub = try String(contentsOfFile: light + "/ssh_host_ed25519_key.pub", encoding: .utf8).split(separator: " ")
        try #require(pub.count >= 2)
        let folder = NSTemporaryDirectory() + "fleet-v6-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "[::1]:2299 \(pub[0]) \(pub[1])\n".write(toFile: folder + "/known_hosts", atomically: true, encoding: .utf8)
        let pidFile = folder + "/sshd.pid"
        let start = runShell("/usr/sbin/sshd -f \(light)/sshd_config -o 'ListenAddress=[::1]:2299' -o PidFile=\(pidFile) -E \(folder)/sshd.log")
        try #require(start.status == 0, "sshd on [::1]:2299 did not start: \(start.output)")
        defer { _ = runShell("kill -KILL $(cat \(pidFile)) 2>/dev/null") }  // KILL: it inherits the runner's blocked signals
        for form in ["v6: \"[::1]:2299\"", "v6: {address: \"::1\", port: 2299}"] {
            let path = try writeInventory(labInventory(hosts: "  " + form, knownHosts: folder + "/known_hosts"))
            let captured = Captured()
            let code = try await Exec.parse(["--inventory", path, "--json", "--", "echo", "over-v6"]).run(context: captured.context())
            #expect(code == 0, "\(form): \(captured.out)\(captured.err)")
            #expect(captured.out.contains("over-v6"), "\(captured.out)")
        }
    }
}
