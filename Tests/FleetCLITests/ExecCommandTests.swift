import FleetCore
import Foundation
import Testing
@testable import FleetCLI

@Suite("fleet exec on the lab")
struct ExecCommandTests {
    @Test func allHostsSucceed() async throws {
        let captured = Captured()
        let inventory = Lab.dir + "/inventory/lab.yml"
        let command = try Exec.parse(["--inventory", inventory, "--", "echo", "hello world"])
        let code = try await command.run(context: captured.context())
        #expect(code == 0)
        #expect(captured.out.contains("== web1 (exit 0"))
        #expect(captured.out.components(separatedBy: "hello world\n").count - 1 >= 2)
    }

    @Test func jsonOnePerHost() async throws {
        let captured = Captured()
        let command = try Exec.parse(["--inventory", Lab.dir + "/inventory/lab.yml", "--json", "--hosts", "web1,web2",
                                      "--", "echo out; echo err >&2; exit 3"])
        let code = try await command.run(context: captured.context())
        #expect(code == 1)
        let objects = captured.out.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == 2)
        for object in objects {
            #expect(object["exit_status"] as? Int == 3)
            #expect(object["stdout"] as? String == "out\n")
            #expect(object["stderr"] as? String == "err\n")
            #expect(object["duration_ms"] is Int)
            #expect(object["error"] is NSNull)
            #expect(object["signal"] is NSNull)
        }
        #expect(Set(objects.compactMap { $0["host"] as? String }) == ["web1", "web2"])
    }

    /// A host that is down and a host that accepts TCP but never speaks SSH both fail within the connect
    /// timeout, while every other host succeeds.
    @Test func deadAndMuteHostsFailWithinTheConnectTimeout() async throws {
        let mute = try MuteListener()
        defer { mute.close() }
        let yaml = labInventory(hosts: """
              web1: 10.77.0.11
              web2: 10.77.0.12
              dead: 10.77.0.99
              mute: {address: 127.0.0.1, port: \(mute.port)}
            """, connectTimeout: "2s")
        let path = try writeInventory(yaml)
        let captured = Captured()
        let code = try await Exec.parse(["--inventory", path, "--json", "--", "true"]).run(context: captured.context())
        #expect(code == 1)
        let byHost = Dictionary(uniqueKeysWithValues: captured.out.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.map { ($0["host"] as! String, $0) })
        #expect(byHost["web1"]?["exit_status"] as? Int == 0)
        #expect(byHost["web2"]?["exit_status"] as? Int == 0)
        #expect((byHost["dead"]?["error"] as? String)?.contains("timed out") == true)
        #expect((byHost["mute"]?["error"] as? String)?.contains("handshake") == true)
        // Each failed on its own 2 s connect timeout, not after the others (a generous bound: the whole test
        // suite runs in parallel on 2 cores in CI).
        #expect((byHost["dead"]?["duration_ms"] as? Int ?? 99_999) < 20_000)
        #expect((byHost["mute"]?["duration_ms"] as? Int ?? 99_999) < 20_000)
    }

    /// 20 hosts each sleeping 3 s: in parallel this takes a little over 3 s; one at a time it would take 60 s.
    @Test func twentyHostsInParallel() async throws {
        let knownHosts = Lab.dir + "/light/known_hosts"
        let lines = try String(contentsOfFile: knownHosts, encoding: .utf8).split(separator: "\n").prefix(20)
        #expect(lines.count == 20)
        let hosts = lines.enumerated().map { "  light\($0.offset + 1): \($0.element.split(separator: " ")[0])" }
        // As the lab's plain user: root's shell start-up on this image (pyenv) takes a lock on every login.
        let path = try writeInventory(labInventory(hosts: hosts.joined(separator: "\n"), knownHosts: knownHosts, user: "fleetlab"))
        let captured = Captured()
        let started = ContinuousClock.now
        let code = try await Exec.parse(["--inventory", path, "--", "sleep 3"]).run(context: captured.context())
        #expect(code == 0, "\(captured.out)\(captured.err)")
        // One host at a time cannot take less than 60 s (20 x sleep 3); the bound is generous because every suite
        // shares 2 cores in CI (a quiet machine: 3.4 s).
        #expect(ContinuousClock.now - started < .seconds(50))
    }

    @Test func inventoryErrorExitsTwoNamingFileAndLine() async throws {
        let path = try writeInventory("app: demo\nimage: x\nhosts:\n  web1: 10.0.0.1\nsssh:\n  user: root\n")
        let captured = Captured()
        let code = try await Exec.parse(["--inventory", path, "--", "true"]).run(context: captured.context())
        #expect(code == 2)
        #expect(captured.err.contains(path))
        #expect(captured.err.contains(":5"))
    }

    @Test func usageErrorWithoutACommand() throws {
        #expect(throws: (any Error).self) { try Exec.parse(["--inventory", "x.yml"]) }
    }
}

/// A TCP listener that completes handshakes (the kernel does) but never accepts or says a word.
final class MuteListener: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        listen(fd, 16)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(fd) }
}
