import Foundation
import Testing
@testable import SSHEngine

/// Against the WAN lab (`lab.sh wan-up RTT_MS N`): light hosts behind a delay proxy.
@Suite("Handshakes over a round-trip delay")
struct WANTests {
    static func wan() throws -> (targets: [SSHTarget], knownHosts: String, rtt: Double) {
        let knownHosts = Lab.dir + "/wan/known_hosts"
        guard let text = try? String(contentsOfFile: knownHosts, encoding: .utf8),
              let rttText = try? String(contentsOfFile: Lab.dir + "/wan/rtt", encoding: .utf8),
              let rtt = Double(rttText.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw LabMissing() }
        let targets = text.split(separator: "\n").enumerated().map { index, line -> SSHTarget in
            // [127.0.1.1]:2222 ssh-ed25519 AAAA...
            let entry = line.split(separator: " ")[0].dropFirst()
            let parts = entry.split(separator: "]")
            return SSHTarget(name: "wan\(index + 1)", address: String(parts[0]), port: Int(parts[1].dropFirst()) ?? 2222,
                             user: "root")
        }
        return (targets, knownHosts, rtt / 1000)
    }

    /// One connection and one command: TCP (1 round trip), key exchange (2), keys and service (1),
    /// authentication (2), channel (1), command (1) at least; well below twice that.
    @Test func oneHostTakesItsRoundTrips() async throws {
        let wan = try Self.wan()
        let options = Lab.options(knownHosts: wan.knownHosts, timeout: .seconds(60))
        let started = ContinuousClock.now
        let connection = try await SSHConnection.connect(to: wan.targets[0], options: options, pacer: HandshakePacer())
        let result = try await connection.run("true")
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        await connection.close()
        #expect(result.exitStatus == 0)
        #expect(seconds >= 7 * wan.rtt)
        #expect(seconds < 60)
    }

    /// Handshakes that sleep on the network let the pacer grow past its floor; every host answers.
    @Test func pacerGrowsOverLatency() async throws {
        let wan = try Self.wan()
        guard wan.rtt >= 0.05 else { return }
        let options = Lab.options(knownHosts: wan.knownHosts, timeout: .seconds(60))
        let pacer = HandshakePacer(controller: PacingController(floor: 2, ceiling: 64))
        let ok = await withTaskGroup(of: Bool.self) { group in
            for target in wan.targets {
                group.addTask {
                    guard let c = try? await SSHConnection.connect(to: target, options: options, pacer: pacer) else {
                        return false
                    }
                    await c.close()
                    return true
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(ok == wan.targets.count)
        #expect(await pacer.peak > 2)
        #expect(await (pacer.verdicts[.latencyBound] ?? 0) > 0)
    }
}
