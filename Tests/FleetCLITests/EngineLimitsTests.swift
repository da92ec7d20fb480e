import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// The one session owner under limits a real controller has, and the probe's verdict.
@Suite("Session limits and the probe's verdict")
struct EngineLimitsTests {
    /// The real binary under a hard open-file limit of 64, which leaves no room for 20 sessions at once: fleet
    /// says so, goes as wide as the limit allows, and every host still answers (no crash, no hang).
    @Test func execUnderAHardOpenFileLimitOf64() async throws {
        let fleet = try #require(E2E.fleetBinary(), "build fleet first (swift build)")
        let knownHosts = Lab.dir + "/light/known_hosts"
        let lines = try String(contentsOfFile: knownHosts, encoding: .utf8).split(separator: "\n").prefix(20)
        try #require(lines.count == 20, "the light hosts (lab.sh light-up 20) are not up")
        let hosts = lines.enumerated().map { "  light\($0.offset + 1): \($0.element.split(separator: " ")[0])" }
        let path = try writeInventory(labInventory(hosts: hosts.joined(separator: "\n"), knownHosts: knownHosts, user: "fleetlab"))
        let output = NSTemporaryDirectory() + "fleet-nofile-\(UInt32.random(in: 0...UInt32.max)).log"
        let child = try E2E.spawn("/bin/bash", ["-c", "ulimit -n 64 && exec \"$0\" exec --inventory \"$1\" -- true", fleet, path],
                                  output: output)
        let status = await child.exitStatus()
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(text)")
        #expect(text.contains("the open-file limit (64, hard 64) allows"), "\(text)")
        #expect(text.contains("20 hosts: 20 ok"), "\(text)")
    }

    /// `identity_files: [/dev/zero]` once hung in libssh2's key parsing: now exit 2 naming the path, at once,
    /// with no host contacted.
    @Test func aDeviceAsIdentityFileIsExitTwoBeforeAnyConnection() async throws {
        let path = try writeInventory(labInventory(hosts: "  web1: {address: 127.0.0.1, port: 1}")
            .replacingOccurrences(of: "identity_files: [\(Lab.dir)/client/id_ed25519]", with: "identity_files: [/dev/zero]"))
        let captured = Captured()
        let started = ContinuousClock.now
        let code = try await Exec.parse(["--inventory", path, "--", "true"]).run(context: captured.context())
        #expect(code == ExitStatus.usage, "\(captured.err)")
        #expect(captured.err.contains("/dev/zero: the identity file is a character device"), "\(captured.err)")
        #expect(ContinuousClock.now - started < .seconds(60))  // generous: 2 shared cores; a hang is forever
    }

    /// An env file with CRLF line ends or a NUL byte: exit 2 naming the file and line, the value shown nowhere,
    /// no host contacted (the hosts here refuse connections, and nothing even tries).
    @Test func aBadEnvFileIsExitTwoAndItsValueIsShownNowhere() async throws {
        for (body, words) in [("TOKEN=s3cr3t-crlf-\(getpid())\r\nA=1\r\n", "carriage return"), ("A=1\nTOKEN=s3cr3t-nul-\(getpid())\0x\n", "NUL")] {
            let path = try writeInventory(labInventory(hosts: "  web1: {address: 127.0.0.1, port: 1}") + "\nenv_file: app.env\n")
            let env = (path as NSString).deletingLastPathComponent + "/app.env"
            try body.write(toFile: env, atomically: true, encoding: .utf8)
            let captured = Captured()
            let code = try await Deploy.parse(["--inventory", path, "v2"])
                .run(context: captured.context(environment: ["FLEET_PLAYBOOKS": E2E.repo + "/playbooks"]))
            #expect(code == ExitStatus.usage, "\(captured.err)")
            #expect(captured.err.contains(env) && captured.err.contains(words), "\(captured.err)")
            #expect(!captured.err.contains("s3cr3t") && !captured.out.contains("s3cr3t"))
        }
    }

    /// A changed host key is a host the probe cannot vouch for: exit 4, named as a changed key.
    @Test func probeWithAChangedHostKeyExitsFour() async throws {
        let known = NSTemporaryDirectory() + "fleet-known-\(UInt32.random(in: 0...UInt32.max))"
        // web2's ed25519 key written down for web1's address: web1's real key no longer matches.
        let lines = try String(contentsOfFile: Lab.dir + "/known_hosts", encoding: .utf8).split(separator: "\n")
        let web2 = try #require(lines.first { $0.hasPrefix("10.77.0.12 ") })
        try (web2.replacingOccurrences(of: "10.77.0.12 ", with: "10.77.0.11 ") + "\n").write(toFile: known, atomically: true, encoding: .utf8)
        let path = try writeInventory(labInventory(hosts: "  web1: 10.77.0.11", knownHosts: known))
        let captured = Captured()
        let code = try await PlanCommand.parse(["--inventory", path, "--probe", "v2"])
            .run(context: captured.context(environment: ["FLEET_PLAYBOOKS": E2E.repo + "/playbooks"]))
        #expect(code == ExitStatus.preflight, "\(captured.err)")
        #expect(captured.err.contains("HOST KEY CHANGED") && captured.err.contains("probe: 0 reachable, 1 unreachable"), "\(captured.err)")
    }

    /// `plan --probe` against hosts that refuse the connection: the plan, then a summary, and exit 4 (what
    /// deploy's pre-flight would do), so a CI gate on it can fail.
    @Test func probeOfUnreachableHostsExitsFourWithASummary() async throws {
        let path = try writeInventory(labInventory(hosts: "  web1: {address: 127.0.0.1, port: 1}\n  web2: {address: 127.0.0.2, port: 1}"))
        let captured = Captured()
        let code = try await PlanCommand.parse(["--inventory", path, "--probe", "v2"])
            .run(context: captured.context(environment: ["FLEET_PLAYBOOKS": E2E.repo + "/playbooks"]))
        #expect(code == ExitStatus.preflight, "\(captured.err)")
        #expect(captured.out.contains("Plan: deploy demo v2"), "\(captured.out)")
        #expect(captured.err.contains("probe: 0 reachable, 2 unreachable, 0 already on v2\n"), "\(captured.err)")
        #expect(captured.err.contains("web1: ") && captured.err.contains("refused"), "\(captured.err)")
        #expect(captured.err.contains("--skip-unreachable"), "\(captured.err)")
    }
}
