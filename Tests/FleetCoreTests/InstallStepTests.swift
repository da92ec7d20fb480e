import Foundation
import TestSupport
import SSHEngine
import Testing
@testable import FleetCore

/// Pre-flight's install step: every host script and fleet.conf in one tar stream, one round trip. The exact
/// planned command runs here under bash with the recorded stream on stdin, and GNU tar unpacks it.
@Suite struct InstallStepTests {
    @Test func theTarballIsWhatTarReads() throws {
        let folder = try temporaryFolder()
        let stream = try Tarball.pack([
            .init(name: "0/deploy.sh", mode: 0o755, bytes: Array("#!/bin/bash\necho hi\n".utf8)),
            .init(name: "1/empty", mode: 0o600, bytes: []),
            .init(name: "1/big", mode: 0o644, bytes: [UInt8](repeating: 65, count: 70_000)),
        ], mtime: 1_790_000_000)
        #expect(stream.count % 512 == 0)
        let listing = try shell("tar -tvf - | awk '{print $1, $3, $6}'", stdin: stream, in: folder)
        #expect(listing == "-rwxr-xr-x 20 0/deploy.sh\n-rw------- 0 1/empty\n-rw-r--r-- 70000 1/big\n")
        #expect(throws: Tarball.NameTooLong.self) { try Tarball.pack([.init(name: String(repeating: "n", count: 100), mode: 0, bytes: [])], mtime: 0) }
    }

    @Test func thePlannedCommandInstallsEveryFileWholeAndLeavesNoTemporaryFolder() async throws {
        let folder = try temporaryFolder()
        let root = folder + "/app"
        let (plan, inventory) = try ExecutorTests.plan(hosts: 2, batch: "2")
        let withRoot = try Fixture.load(Fixture.hosts(2, batch: "2", extra: "paths: {root: '\(root)/{host}'}\n"))
        let input = PlanInput(inventory: withRoot, command: .deploy, version: "v2", hosts: withRoot.hosts, run: plan.run,
                              playbookNames: ["deploy.sh", "lib.sh", "lock.sh", "preflight.sh"], playbooksDir: "/fleet/playbooks")
        let rooted = try PlanBuilder.build(input)
        let steps = try #require(rooted.stages.first?.hosts.first { $0.host == "h1" }?.steps)
        let install = try #require(steps.first)
        #expect(install.kind == .install)
        #expect(install.files?.map(\.member) == ["0/deploy.sh", "0/lib.sh", "0/lock.sh", "0/preflight.sh", "1/fleet.conf", "1/container.args", "2/env"])

        let transport = RecordingTransport()
        let session = try await transport.connect(try #require(inventory.host(named: "h1")))
        try await StepRunner(files: ExecutorTests.files(rooted)).run([install], on: session)
        let stream = try #require(transport.stdin(for: "h1"))
        // Twice: the second run replaces every file (safe to run again).
        for _ in 1...2 { _ = try shell(install.command!, stdin: stream, in: folder) }
        let h1 = root + "/h1"
        #expect(try String(contentsOfFile: h1 + "/bin/lock.sh", encoding: .utf8) == "#!/bin/bash\n# lock.sh\n")
        #expect(try String(contentsOfFile: h1 + "/fleet.conf", encoding: .utf8).contains("APP=shop\n"))
        #expect(try permissions(h1 + "/bin/deploy.sh") == 0o755)
        #expect(try permissions(h1 + "/fleet.conf") == 0o644)
        #expect(try permissions(h1 + "/incoming") == 0o700)
        // The env file rode in the same stream and landed whole, 0600, where the deploy reads it.
        #expect(try permissions(h1 + "/incoming/v2.env") == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: h1).sorted() == ["bin", "container.args", "fleet.conf", "incoming"])
    }

    func temporaryFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "fleet-install-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    func permissions(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    /// Runs `command` under bash in `folder` with `stdin`; its output (stdout and stderr), or an error carrying it.
    func shell(_ command: String, stdin: [UInt8], in folder: String) throws -> String {
        let input = folder + "/.stdin-\(UInt32.random(in: 0...UInt32.max))"
        _ = FileManager.default.createFile(atPath: input, contents: Data(stdin))
        defer { try? FileManager.default.removeItem(atPath: input) }
        let script = folder + "/.cmd-\(UInt32.random(in: 0...UInt32.max)).sh"
        try command.write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let (output, status) = runShell("cd '\(folder)' && bash '\(script)' < '\(input)' 2>&1")
        guard status == 0 else { throw ShellFailed(output: output) }
        return output
    }

    struct ShellFailed: Error { var output: String }
}
