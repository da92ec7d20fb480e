import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// fleet's bound on env values (65,536 bytes a line, `EnvFileParser.maxLineBytes`) is Docker's own: on a lab host's dockerd, the env
/// file fleet writes for a secret exactly at the limit starts a container that sees the whole value, and the same
/// file one byte longer is refused by `docker run` ("token too long"), the failure fleet now reports at load.
@Suite("Env values at Docker's line limit on the lab's dockerd", .serialized)
struct EnvLimitLabTests {
    static let key = "SHOP_BIG_SECRET"

    func dockerRun(_ envFile: String) async -> String {
        await sh("\(E2E.repo)/scripts/lab/lab.sh exec web1 -- docker run --rm --network none --env-file \(envFile) "
            + "10.77.0.1:5000/demo:v1 sh -c 'printf %s \"$\(Self.key)\" | wc -c; printf %s \"$\(Self.key)\" | head -c 2' 2>&1")
    }

    @Test func aSecretAtTheLimitStartsAContainerAndOneByteMoreDoesNot() async throws {
        let limit = 65_536
        // "é" first: the bound counts bytes.
        let value = "é" + String(repeating: "s", count: limit - Self.key.utf8.count - 4)
        let yaml = "app: demo\nimage: 10.77.0.1:5000/demo\nenv:\n  secret: [\(Self.key)]\nhosts:\n  web1: 10.77.0.11\n"
        let context = LoaderContext(home: NSHomeDirectory(), user: "e2e", variables: [Self.key: value])
        let inventory = try InventoryLoader.parse(yaml: yaml, path: "/tmp/e2e-limit.yml", context: context) { _ in nil }
        let text = try #require(inventory.envFile).contents.reveal()
        #expect(text.utf8.count == limit)

        let folder = NSTemporaryDirectory() + "fleet-envlimit-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try text.write(toFile: folder + "/at.env", atomically: true, encoding: .utf8)
        try text.replacingOccurrences(of: "=é", with: "=éx").write(toFile: folder + "/over.env", atomically: true, encoding: .utf8)

        let atLimit = await dockerRun(folder + "/at.env")
        #expect(atLimit.hasPrefix("\(value.utf8.count)\né"), "\(atLimit.prefix(300))")
        let over = await dockerRun(folder + "/over.env")
        #expect(over.contains("token too long"), "\(over.prefix(300))")
        // And fleet refuses that value at load, naming the variable.
        let refused = #expect(throws: InventoryError.self) {
            let more = LoaderContext(home: NSHomeDirectory(), user: "e2e", variables: [Self.key: value + "x"])
            _ = try InventoryLoader.parse(yaml: yaml, path: "/tmp/e2e-limit.yml", context: more) { _ in nil }
        }
        #expect(refused?.message.contains(Self.key) == true)
    }
}
