import Foundation
import TestSupport
import Testing
@testable import FleetCore

/// `fleet setup`'s one round trip, run here under bash with the stream it sends (setup.sh itself writes /etc,
/// so the lab never runs it): the scripts land in a fresh folder, setup.sh runs from there, the folder goes.
@Suite struct HostSetupTests {
    @Test func theOneCommandUnpacksRunsAndCleansUp() async throws {
        let inventory = try Fixture.load(Fixture.minimal)
        let log = NSTemporaryDirectory() + "fleet-setup-\(UInt32.random(in: 0...UInt32.max)).log"
        let fake = "#!/bin/bash\necho \"setup $* in $(dirname \"$0\") $(ls \"$(dirname \"$0\")\" | tr '\\n' ' ')\" > '\(log)'\necho '{\"ok\":true,\"changed\":[\"made /opt/fleet\"]}'\n"
        let playbooks = Playbooks(dir: "/fleet/playbooks", files: [.init(name: "setup.sh", bytes: Array(fake.utf8)),
                                                                  .init(name: "lib.sh", bytes: Array("# lib\n".utf8))])
        let setup = HostSetup(inventory: inventory, playbooks: playbooks, deployUser: "deploy", login: "root")
        let transport = RecordingTransport()
        let session = try await transport.connect(try #require(inventory.host(named: "web1")))
        _ = try await setup.run(on: session)
        let stream = try #require(transport.stdin(for: "web1"))
        #expect(transport.calls(for: "web1").map(\.text) == [setup.command])
        let input = NSTemporaryDirectory() + "fleet-setup-stream-\(UInt32.random(in: 0...UInt32.max))"
        _ = FileManager.default.createFile(atPath: input, contents: Data(stream))
        let script = input + ".sh"
        try setup.command.write(toFile: script, atomically: true, encoding: .utf8)
        let (output, status) = runShell("bash '\(script)' < '\(input)' 2>&1")
        #expect(status == 0, "\(output)")
        #expect(output.contains("\"changed\":[\"made /opt/fleet\"]"))
        let said = try String(contentsOfFile: log, encoding: .utf8)
        #expect(said.hasPrefix("setup --config /tmp/fleet-setup."), "\(said)")
        #expect(said.contains("/fleet.conf --user deploy in /tmp/fleet-setup."), "\(said)")
        #expect(said.hasSuffix("fleet.conf lib.sh setup.sh \n"), "\(said)")
        // The folder is gone once setup ran.
        let folder = said.split(separator: " ").first { $0.hasPrefix("/tmp/fleet-setup.") && !$0.hasSuffix("fleet.conf") }
        #expect(folder.map { !FileManager.default.fileExists(atPath: String($0)) } == true)
    }
}
