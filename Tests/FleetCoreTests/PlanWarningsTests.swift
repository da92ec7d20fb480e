import Foundation
import SSHEngine
import TestSupport
import Testing
@testable import FleetCore

/// What the plan warns of: env file lines that look like shell substitution (fleet's env files do none), and RSA
/// identity files (libssh2 1.10 cannot log in with them to OpenSSH 8.8 and later). Never a value, never a key.
@Suite struct PlanWarningsTests {
    static let kamal = "RAILS_MASTER_KEY=$(cat config/master.key)\nPLAIN=a$ b\nDB=$DATABASE_URL\nREDIS=${REDIS_URL}\nPRICE=5$\n"

    @Test func kamalStyleEnvLinesAreNamedNotRefused() throws {
        let yaml = Fixture.full
        let inv = try Fixture.load(yaml, files: Fixture.files([Fixture.envPath: Self.kamal]))
        #expect(inv.envFile?.keys == ["RAILS_MASTER_KEY", "PLAIN", "DB", "REDIS", "PRICE"])
        #expect(inv.warnings.count == 3, "\(inv.warnings)")
        #expect(inv.warnings[0].hasPrefix("\(Fixture.envPath):1: RAILS_MASTER_KEY's value holds a command substitution $(...)"))
        #expect(inv.warnings[1].hasPrefix("\(Fixture.envPath):3: DB's value holds a variable reference $NAME"))
        #expect(inv.warnings[2].hasPrefix("\(Fixture.envPath):4: REDIS's value holds a variable reference ${...}"))
        let plan = try PlanBuilder.build(try PlanTests.input(inv))
        let text = PlanRenderer.text(plan)
        #expect(text.contains("  warning     \(Fixture.envPath):1: RAILS_MASTER_KEY's value holds"), "\(text)")
        #expect(text.contains("the container gets the text as written"))
        for secret in ["master.key", "DATABASE_URL", "REDIS_URL"] {
            #expect(!text.contains(secret) && !PlanRenderer.json(plan).contains(secret), "\(secret)")
        }
        #expect(plan.warnings?.count == 3)
        // A rollback uploads no env file: nothing to warn of.
        #expect(try PlanBuilder.build(try PlanTests.input(inv, .rollback, version: nil)).warnings == nil)
        // Without such lines: no warning, and the plan is as before (the golden files hold that).
        #expect(try Fixture.load(yaml).warnings.isEmpty)
        #expect(try PlanBuilder.build(try PlanTests.input(try Fixture.load(yaml))).warnings == nil)
    }

    /// Keys made by ssh-keygen in a temp folder: RSA (OpenSSH and PEM formats, and without a .pub) and ed25519.
    @Test func rsaIdentityFilesWarnedAndRefusedWhenAllTheHostHas() throws {
        let dir = NSTemporaryDirectory() + "fleet-keys-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, args) in [("rsa", "-t rsa -b 2048"), ("pem", "-t rsa -b 2048 -m PEM"), ("nopub", "-t rsa -b 2048"), ("ed", "-t ed25519")] {
            let made = runShell("ssh-keygen -q \(args) -N '' -C test -f '\(dir)/\(name)' </dev/null 2>&1")
            try #require(made.status == 0, "\(made.output)")
        }
        try FileManager.default.removeItem(atPath: dir + "/nopub.pub")
        let keys = ["rsa", "pem", "nopub", "ed"].map { dir + "/" + $0 }
        let secretLine = try #require(try String(contentsOfFile: keys[0], encoding: .utf8).split(separator: "\n").dropFirst().first)
        func inventory(_ files: [String], hostFiles: String = "") throws -> Inventory {
            let yaml = """
                app: shop
                image: registry.example.com/acme/shop
                ssh: {identity_files: [\(files.joined(separator: ", "))], known_hosts: \(dir)/known_hosts}
                hosts:
                  web1: 10.0.0.11
                  web2: 10.0.0.12

                """
            let path = dir + "/inventory.yml"
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            return try InventoryLoader.load(path: path, context: LoaderContext(home: dir, user: "tester", variables: [:]))
        }
        let rsaOnly = try inventory(Array(keys.prefix(3)))
        #expect(rsaOnly.identityKeyTypes == Dictionary(uniqueKeysWithValues: keys.prefix(3).map { ($0, "ssh-rsa") }))
        let warnings = rsaOnly.identityWarnings(hosts: rsaOnly.hosts)
        #expect(warnings.count == 3 && warnings[0].hasPrefix("identity file \(keys[0]) (for every host) is an RSA key"), "\(warnings)")
        #expect(warnings[0].contains("use an ed25519 key"))
        let refusal = try #require(throws: InventoryError.self) { try rsaOnly.checkLocalFiles() }
        #expect("\(refusal)".contains("host web1: every identity file") && "\(refusal)".contains("no ssh-agent"), "\(refusal)")
        #expect(!"\(refusal)".contains(String(secretLine)) && !warnings.joined().contains(String(secretLine)))

        // An ed25519 key beside them: warned of, not refused; the plan shows the warning.
        let mixed = try inventory([keys[0], keys[3]])
        #expect(mixed.identityKeyTypes[keys[3]] == "ssh-ed25519")
        try mixed.checkLocalFiles()
        let plan = try PlanBuilder.build(try PlanTests.input(mixed, .rollback, version: nil))
        #expect(plan.warnings == mixed.identityWarnings(hosts: mixed.hosts) && plan.warnings?.count == 1)
        #expect(PlanRenderer.text(plan).contains("  warning     identity file \(keys[0]) (for every host) is an RSA key"))
        // ed25519 alone: nothing.
        #expect(try inventory([keys[3]]).identityWarnings(hosts: try inventory([keys[3]]).hosts).isEmpty)
    }

    /// The key type reader never fails on garbage (random bytes, truncated blobs) and stays linear.
    @Test func keyTypeReaderTakesAnyText() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let bytes = (0..<Int.random(in: 0...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let body = Data(Array("openssh-key-v1\0".utf8) + bytes).base64EncodedString()
            _ = PrivateKeyInspector.keyType(privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\n\(body)\n-----END OPENSSH PRIVATE KEY-----\n", publicKey: nil)
            _ = PrivateKeyInspector.keyType(privateKey: String(decoding: bytes, as: UTF8.self), publicKey: String(decoding: bytes, as: UTF8.self))
        }
        let big = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + String(repeating: "A", count: 60_000) + "\n"
        #expect(PrivateKeyInspector.keyType(privateKey: big, publicKey: nil) == nil)
    }
}
