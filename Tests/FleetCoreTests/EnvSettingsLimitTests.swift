import Foundation
import Testing
@testable import FleetCore

/// Docker's `--env-file` reader takes at most 65,536 bytes per line, newline included (Go's bufio.Scanner
/// default): a longer value would pass the plan and pre-flight and fail every host at `docker run`. fleet bounds
/// each value where it reads it (env file, `env.clear`, `env.secret`), naming the variable and the limit, never
/// the value, exit 2, before any host is contacted. Measured on the lab's dockerd by `EnvLimitLabTests`.
@Suite struct EnvSettingsLimitTests {
    /// `KEY=VALUE` plus its newline is exactly this long at the limit.
    static let limit = 65_536

    /// A value that makes `KEY=VALUE\n` `total` bytes long; `é` (2 bytes) first, so bytes and characters differ.
    static func value(key: String, total: Int) -> String {
        "é" + String(repeating: "v", count: total - key.utf8.count - 2 - 2)
    }

    func load(_ env: String, variables: [String: String] = [:], files: [String: String] = [:]) throws -> Inventory {
        let context = LoaderContext(home: "/home/tester", user: "tester", variables: variables)
        let all = Fixture.files(files)
        return try InventoryLoader.parse(yaml: Fixture.minimal + env, path: Fixture.file, context: context) { all[$0] }
    }

    func refused(_ body: () throws -> Inventory, sourceLocation: SourceLocation = #_sourceLocation) -> InventoryError? {
        let error = #expect(throws: InventoryError.self, sourceLocation: sourceLocation) { _ = try body() }
        if let error { #expect(ExitStatus.of(error) == ExitStatus.usage, sourceLocation: sourceLocation) }
        return error
    }

    @Test func aSecretAtTheLimitPassesAndOneByteMoreIsRefusedByName() throws {
        let key = "SHOP_BIG_CERT"
        let atLimit = Self.value(key: key, total: Self.limit)
        let inventory = try load("env:\n  secret: [\(key)]\n", variables: [key: atLimit])
        let text = try #require(inventory.envFile).contents.reveal()
        #expect(text == "\(key)=\(atLimit)\n")
        #expect(text.utf8.count == Self.limit)

        let over = atLimit + "w"
        let error = refused { try load("env:\n  secret: [\(key)]\n", variables: [key: over]) }
        let message = error?.description ?? ""
        #expect(message.contains(key) && message.contains("65536"), "\(message)")
        #expect(!message.contains("vvvvvvvv") && !message.contains("é"), "the value must never be shown")
        #expect(error?.file == Fixture.file && error?.line == 7, "\(message)")
    }

    @Test func aClearValueAtTheLimitPassesAndOneByteMoreIsRefused() throws {
        let atLimit = Self.value(key: "BLOB", total: Self.limit)
        let inventory = try load("env:\n  clear: {BLOB: \"\(atLimit)\"}\n")
        #expect(try #require(inventory.envFile).contents.reveal().utf8.count == Self.limit)
        let error = refused { try load("env:\n  clear: {BLOB: \"\(atLimit)w\"}\n") }
        #expect(error?.message.contains("env.clear.BLOB") == true && error?.message.contains("65536") == true,
                "\(String(describing: error))")
        #expect(error?.line == 7)
    }

    @Test func anEnvFileLineAtTheLimitPassesAndOneByteMoreIsRefusedWithItsLine() throws {
        let path = "/srv/app/inventory/big.env"
        let atLimit = Self.value(key: "BIG", total: Self.limit)
        let ok = try load("env_file: big.env\n", files: [path: "A=1\nBIG=\(atLimit)\n"])
        #expect(ok.envFile?.keys == ["A", "BIG"])
        // The last line needs no newline: Docker counts one all the same.
        _ = try load("env_file: big.env\n", files: [path: "BIG=\(atLimit)"])
        for text in ["A=1\nBIG=\(atLimit)w\n", "A=1\nBIG=\(atLimit)w"] {
            let error = refused { try load("env_file: big.env\n", files: [path: text]) }
            #expect(error?.file == path && error?.line == 2, "\(String(describing: error))")
            #expect(error?.message.contains("BIG") == true && error?.message.contains("65536") == true)
            #expect(error.map { !$0.description.contains("vvvvvvvv") } == true)
        }
        // Docker reads comment lines with the same reader: one too long fails the file as well.
        let comment = refused { try load("env_file: big.env\n", files: [path: "# " + String(repeating: "c", count: Self.limit) + "\nA=1\n"]) }
        #expect(comment?.line == 1 && comment?.message.contains("65536") == true, "\(String(describing: comment))")
        // Merged with env: the file's line is checked where it is read, too.
        let merged = refused { try load("env_file: big.env\nenv:\n  clear: {A: \"2\"}\n", files: [path: "BIG=\(atLimit)w\n"]) }
        #expect(merged?.file == path && merged?.line == 1)
    }

    @Test func aLongNameCountsToo() throws {
        let key = "K" + String(repeating: "_", count: 200)
        let atLimit = Self.value(key: key, total: Self.limit)
        _ = try load("env:\n  secret: [\(key)]\n", variables: [key: atLimit])
        #expect(refused { try load("env:\n  secret: [\(key)]\n", variables: [key: atLimit + "x"]) } != nil)
    }
}
