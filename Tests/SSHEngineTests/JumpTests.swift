import Foundation
import Testing
@testable import SSHEngine

/// `lab.sh bastion-up`: a bastion (10.77.0.250) in front of priv1 and priv2 (10.78.0.0/24, no route from here),
/// and a light bastion (127.0.9.1, MaxSessions 10) in front of the light hosts.
enum BastionLab {
    static let dir = Lab.dir + "/bastion"
    static let knownHosts = dir + "/known_hosts"
    static let bastion = JumpHost(user: "root", address: "10.77.0.250")
    static let lightBastion = JumpHost(user: "root", address: "127.0.9.1")

    static func priv(_ i: Int, via: [JumpHost] = [bastion]) throws -> SSHTarget {
        guard FileManager.default.fileExists(atPath: knownHosts) else { throw BastionMissing() }
        return SSHTarget(name: "priv\(i)", address: "10.78.0.\(10 + i)", user: "root", via: via)
    }

    static func options(knownHosts: String = BastionLab.knownHosts) -> SSHOptions {
        Lab.options(knownHosts: knownHosts, timeout: .seconds(20))
    }

    /// The light hosts' known_hosts plus the light bastion's line.
    static func lightKnownHosts() throws -> String {
        let (_, light) = try Lab.lightHosts()
        let path = Lab.temp("known_hosts_light_bastion")
        try shell("cat '\(light)' > '\(path)' && grep '^127.0.9.1 ' '\(knownHosts)' >> '\(path)'")
        return path
    }
}

struct BastionMissing: Error, CustomStringConvertible {
    var description: String { "the bastion lab is not up: run `sudo scripts/lab/lab.sh bastion-up` (scripts/test.sh does)" }
}

@Suite("Jump hosts: targets reached only through a bastion", .serialized)
struct JumpTests {
    @Test func directConnectionFails() async throws {
        var target = try BastionLab.priv(1)
        target.via = []
        do {
            let connection = try await SSHConnection.connect(to: target, options: BastionLab.options())
            await connection.close()
            Issue.record("priv1 was reached without the bastion")
        } catch let error as SSHError {
            #expect(error.isUnreachable, "\(error)")
        }
    }

    @Test func execThroughTheBastion() async throws {
        let jumps = JumpHosts()
        let connection = try await SSHConnection.connect(to: BastionLab.priv(1), options: BastionLab.options(), jumps: jumps)
        let result = try await connection.run("hostname -I")
        #expect(result.stdoutText.contains("10.78.0.11"))
        // Several MB both ways and on both streams: the tunnel carries flow control correctly.
        let input = [UInt8]((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let echoed = try await connection.run("cat; head -c 3000000 /dev/zero >&2", stdin: input)
        #expect(echoed.stdout == input)
        #expect(echoed.stderr.count == 3_000_000)
        #expect(await jumps.openSessions == 1)
        await connection.close()
        #expect(await waitUntil { await jumps.openSessions == 0 })
    }

    @Test func chainOfTwoJumps() async throws {
        let jumps = JumpHosts()
        let hop2 = JumpHost(user: "root", address: "10.78.0.11")
        let target = try BastionLab.priv(2, via: [BastionLab.bastion, hop2])
        let connection = try await SSHConnection.connect(to: target, options: BastionLab.options(), jumps: jumps)
        #expect(try await connection.run("hostname -I").stdoutText.contains("10.78.0.12"))
        #expect(await jumps.sessionsOpened == 2)
        await connection.close()
        #expect(await waitUntil { await jumps.openSessions == 0 })
    }

    @Test func changedBastionKeyIsRefusedAndNamesTheBastion() async throws {
        let wrong = Lab.temp("known_hosts_wrong_bastion")
        // priv1's key recorded for the bastion: a changed key.
        try shell("grep -v '^10.77.0.250 ' '\(BastionLab.knownHosts)' > '\(wrong)'"
            + " && grep '^10.78.0.11 ' '\(BastionLab.knownHosts)' | sed 's/^10.78.0.11 /10.77.0.250 /' >> '\(wrong)'")
        do {
            let connection = try await SSHConnection.connect(to: BastionLab.priv(1), options: BastionLab.options(knownHosts: wrong), jumps: JumpHosts())
            await connection.close()
            Issue.record("a changed bastion key was accepted")
        } catch let error as SSHError {
            #expect(error.kind == .hostKeyChanged)
            #expect(error.host == "priv1")
            #expect(error.message.hasPrefix("bastion 10.77.0.250:22: HOST KEY CHANGED"), "\(error)")
        }
    }

    @Test func refusedTunnelNamesTheBastionAndTheTarget() async throws {
        var target = try BastionLab.priv(1)
        target.port = 2  // nothing listens there
        do {
            _ = try await SSHConnection.connect(to: target, options: BastionLab.options(), jumps: JumpHosts())
            Issue.record("connected to a closed port")
        } catch let error as SSHError {
            #expect(error.kind == .connect)
            #expect(error.message.contains("bastion 10.77.0.250:22 could not connect to 10.78.0.11 port 2"), "\(error)")
        }
    }

    /// 20 light hosts through one bastion with MaxSessions 10: two jump sessions of 10 tunnels each.
    @Test func manyTargetsShareJumpSessions() async throws {
        let knownHosts = try BastionLab.lightKnownHosts()
        let targets = try Lab.lightHosts().targets.prefix(20).map {
            SSHTarget(name: $0.name, address: $0.address, user: "root", via: [BastionLab.lightBastion])
        }
        let jumps = JumpHosts()
        let connections = try await withThrowingTaskGroup(of: SSHConnection.self) { group in
            for target in targets {
                group.addTask { try await SSHConnection.connect(to: target, options: BastionLab.options(knownHosts: knownHosts), jumps: jumps) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(connections.count == targets.count)
        for connection in connections { #expect(try await connection.run("echo ok").stdoutText == "ok\n") }
        // Two carry the 20 (10 tunnels each); a bastion that refuses a channel under load makes fleet open another,
        // by design, so a few more are allowed: one per target would be no sharing at all.
        let opened = await jumps.sessionsOpened
        #expect(opened >= (targets.count + 9) / 10 && opened <= 5, "\(opened) jump sessions for \(targets.count) targets")
        for connection in connections { await connection.close() }
        #expect(await waitUntil { await jumps.openSessions == 0 })
    }

    /// What OpenSSH does with more direct-tcpip channels than MaxSessions on one connection: it opens them
    /// (MaxSessions counts shell, exec and subsystem sessions only). Recorded in docs/ssh.md.
    @Test func sshdOpensMoreTunnelsThanMaxSessions() async throws {
        let knownHosts = try BastionLab.lightKnownHosts()
        let targets = try Lab.lightHosts().targets.prefix(15).map {
            SSHTarget(name: $0.name, address: $0.address, user: "root", via: [BastionLab.lightBastion])
        }
        let jumps = JumpHosts(channelsPerSession: 100)
        var connections: [SSHConnection] = []
        for target in targets {
            connections.append(try await SSHConnection.connect(to: target, options: BastionLab.options(knownHosts: knownHosts), jumps: jumps))
        }
        #expect(await jumps.sessionsOpened == 1)
        for connection in connections { await connection.close() }
    }

    @Test func cancellingEndsTheWaitPromptly() async throws {
        let target = try BastionLab.priv(1)
        let started = ContinuousClock.now
        let task = Task { try await SSHConnection.connect(to: target, options: BastionLab.options(), jumps: JumpHosts()) }
        try await Task.sleep(for: .milliseconds(20))
        task.cancel()
        if let connection = try? await task.value { await connection.close() }
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}

/// Polls `condition` (every 50 ms, 20 s at most).
func waitUntil(_ condition: () async -> Bool) async -> Bool {
    for _ in 0..<400 {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return false
}
