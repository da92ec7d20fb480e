import FleetCore
import Foundation
import Testing
import TestSupport
@testable import FleetCLI

/// A real sshd listening on IPv6 loopback only (`[::1]:2299`, the lab's light-host keys): fleet reaches it
/// written as `[::1]:2299` and as a bare `::1` with a port, and known_hosts names it `[::1]:2299`. And the lab's
/// namespace hosts on their IPv6 addresses (`lab.sh ipv6-up`: fd77::11, ...), through the lab's bridge.
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

    /// web1 written as a bare `fd77::11`, web2 as `[fd77::12]:22`: exec and plan --probe reach both over IPv6
    /// (the hosts see fleet's connection come from the bridge's fd77::1).
    @Test func labHostsOnTheirIPv6Addresses() async throws {
        let knownHosts = Lab.dir + "/known_hosts.v6"
        try #require(FileManager.default.fileExists(atPath: knownHosts), "no \(knownHosts): scripts/lab/lab.sh ipv6-up")
        let path = try writeInventory(labInventory(hosts: "  web1: \"fd77::11\"\n  web2: \"[fd77::12]:22\"", knownHosts: knownHosts))
        let captured = Captured()
        let code = try await Exec.parse(["--inventory", path, "--json", "--", "sh", "-c", "echo from-${SSH_CONNECTION%% *}"])
            .run(context: captured.context())
        #expect(code == 0, "\(captured.out)\(captured.err)")
        #expect(captured.out.components(separatedBy: "from-fd77::1").count == 3, "\(captured.out)")
        let probed = Captured()
        let probe = try await PlanCommand.parse(["--inventory", path, "--probe", "v1"]).run(context: probed.context())
        #expect(probe == 0, "\(probed.out)\(probed.err)")
        #expect((probed.out + probed.err).contains("probe: 2 reachable, 0 unreachable"), "\(probed.out)\(probed.err)")
    }
}
