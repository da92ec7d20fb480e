import Foundation
import SSHEngine
import Testing
@testable import FleetCore

@Suite("Image checks")
struct ImageCheckTests {
    static let image = "10.77.0.1:5000/demo:v1"

    func kinds(_ output: String, maxSizeMB: Int = 500) -> [ImageWarning.Kind] {
        ImageCheck.check(output: output, host: "web1", image: "img", maxSizeMB: maxSizeMB).map(\.kind)
    }

    @Test func rootUsers() {
        for user in ["", "0", "root", "0:0", "root:1000", " 0 "] { #expect(ImageCheck.isRoot(user), "\(user)") }
        for user in ["1001", "app", "1001:0", "nobody"] { #expect(!ImageCheck.isRoot(user), "\(user)") }
        #expect(ImageCheck.isRoot(nil))
    }

    @Test func parsesInspectOutput() {
        let good = #"{"User":"1001","Healthcheck":{"Test":["CMD-SHELL","wget -qO- http://127.0.0.1:8080/health"]}}|1982618"#
        #expect(kinds(good).isEmpty)
        #expect(kinds(#"{"User":"","Cmd":["sh"]}|1982618"#) == [.runsAsRoot, .noHealthcheck])
        #expect(kinds(#"{"User":"app","Healthcheck":{"Test":["NONE"]}}|600000000"#) == [.noHealthcheck, .tooLarge])
        #expect(kinds(#"{"User":"app","Healthcheck":{"Test":["CMD","true"]}}|600000000"#, maxSizeMB: 0).isEmpty)
        #expect(kinds("garbage") == [.inspectFailed])
        #expect(kinds(#"{"User":"1001|x"}|12"#) == [.noHealthcheck])
    }

    @Test func messagesSayWhatToDo() {
        let warnings = ImageCheck.check(output: #"{"User":"root"}|750000000"#, host: "web1", image: "shop:v2", maxSizeMB: 500)
        #expect(warnings.map(\.description) == [
            "web1: shop:v2: runs as root (USER root); add a non-root user to the Dockerfile, e.g. `USER 1001`",
            "web1: shop:v2: has no HEALTHCHECK; add one (e.g. `HEALTHCHECK CMD wget -qO- http://127.0.0.1:$PORT/health`) so docker sees a hung app",
            "web1: shop:v2: is 750 MB, over the budget of 500 MB (image_checks.max_size_mb); use a smaller base image or a multi-stage build, or raise the budget",
        ])
    }

    /// The lab's demo image (USER 1001, no HEALTHCHECK, about 2 MB), pulled on web1 over SSH first.
    @Test func labImageOnWeb1() async throws {
        let lab = ProcessInfo.processInfo.environment["FLEET_LAB_DIR"] ?? "/tmp/fleet-lab"
        guard FileManager.default.fileExists(atPath: lab + "/lab.env"),
              (try? String(contentsOfFile: lab + "/lab.env", encoding: .utf8))?.contains("LAB_SERVERS=1") == true else {
            Issue.record("the lab with servers is not up: run scripts/lab/lab.sh up --servers first (see docs/lab.md)")
            return
        }
        let settings = SSHSettings(user: "root", port: 22, identityFiles: [lab + "/client/id_ed25519"],
                                   knownHosts: lab + "/known_hosts", hostKeyPolicy: .strict,
                                   connectTimeout: .seconds(5), parallel: 1)
        let host = try HostEntry.direct("web1", address: "10.77.0.11", settings: settings)
        let session = try await SSHTransport(agentSocket: nil).connect(host)
        let pull = try await session.run("docker pull -q \(ShellWords.quote(Self.image))", timeout: .seconds(60), stdin: [], onLine: nil)
        #expect(pull.succeeded, "docker pull: \(pull.stderrText)")

        /// The plan's image check command, judged as the rollout judges it.
        func inspect(_ image: String, maxSizeMB: Int = ImageCheck.defaultMaxSizeMB) async throws -> [ImageWarning] {
            let result = try await session.run(ImageCheck.command(image: image), timeout: .seconds(30), stdin: [], onLine: nil)
            return ImageCheck.judge(result, host: session.hostName, image: image, maxSizeMB: maxSizeMB)
        }
        let warnings = try await inspect(Self.image)
        #expect(warnings.map(\.kind) == [.noHealthcheck])
        #expect(warnings.first?.host == "web1")
        #expect(warnings.first?.image == Self.image)

        let tight = try await inspect(Self.image, maxSizeMB: 1)
        #expect(tight.map(\.kind) == [.noHealthcheck, .tooLarge])
        #expect(tight.last?.message.hasPrefix("is 2 MB, over the budget of 1 MB") == true)

        let missing = try await inspect("10.77.0.1:5000/demo:never-pushed")
        #expect(missing.map(\.kind) == [.inspectFailed])
        #expect(missing.first?.message.contains("pull it first") == true)
        await session.close()
    }
}
