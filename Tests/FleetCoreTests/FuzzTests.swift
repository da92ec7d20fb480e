import Foundation
import Testing
import TestSupport
@testable import FleetCore

/// Malformed and hostile inventories: the loader never crashes and always throws an `InventoryError` with a
/// message (or accepts the text, when a mutation happens to stay valid).
@Suite struct FuzzTests {
    static let hostile = ["$(id)", "`id`", "; rm -rf /", "a\nb", "\u{0}", "{host}", "{{", "'", "\"", "\\", "*", "&&", "|",
                          "%", "--", "-", "~", "../../etc/passwd", "!!binary aGVsbG8=", "&a", "*a", "? x", "- - -", "[", "]",
                          "{", "}", ":", ": :", "#", "%YAML 1.2", "---", "...", "\t", "é", "🚀", String(repeating: "x", count: 5000),
                          "0x1F", "1e400", "-1", "99999999999999999999", ".inf", ".nan", "null", "~", "yes", "<<: *a"]

    /// A small deterministic generator (SplitMix64), so failures reproduce.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    static func mutate(_ text: String, _ rng: inout Rng) -> String {
        var scalars = Array(text.unicodeScalars)
        let pos = rng.below(scalars.count + 1)
        switch rng.below(7) {
        case 0: if pos < scalars.count { scalars.remove(at: pos) }
        case 1: scalars.insert(contentsOf: hostile[rng.below(hostile.count)].unicodeScalars, at: pos)
        case 2: if pos < scalars.count { scalars[pos] = Unicode.Scalar(UInt8(rng.below(127) + 1)) }
        case 3:  // duplicate a line
            var lines = String(String.UnicodeScalarView(scalars)).split(separator: "\n", omittingEmptySubsequences: false)
            let i = rng.below(lines.count)
            lines.insert(lines[i], at: rng.below(lines.count))
            return lines.joined(separator: "\n")
        case 4:  // replace a value after ': ' with a hostile string
            var lines = String(String.UnicodeScalarView(scalars)).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let i = rng.below(lines.count)
            if let r = lines[i].range(of: ": ") { lines[i] = String(lines[i][..<r.upperBound]) + hostile[rng.below(hostile.count)] }
            return lines.joined(separator: "\n")
        case 5: scalars.insert(contentsOf: " ".unicodeScalars, at: pos)
        default: if pos < scalars.count { scalars.removeSubrange(pos..<min(scalars.count, pos + rng.below(20))) }
        }
        return String(String.UnicodeScalarView(scalars))
    }

    @Test func mutationsNeverCrash() async throws {
        try await onOwnThread {
            var rng = Rng(state: 0xF1EE7)
            var refused = 0, accepted = 0
            for round in 0..<1500 {
                var text = Fixture.full
                for _ in 0...rng.below(4) { text = Self.mutate(text, &rng) }
                do {
                    let inv = try Fixture.load(text)
                    accepted += 1
                    // Whatever was accepted must give a plan without unsafe fleet.conf values.
                    let plan = try PlanBuilder.build(try PlanTests.input(inv))
                    for hs in plan.stages.first?.hosts ?? [] {
                        let conf = hs.steps.flatMap { $0.files ?? [] }.first { $0.source.kind == .inline }?.source.content ?? ""
                        for line in conf.split(separator: "\n") {
                            let value = line.split(separator: "=", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
                            #expect(Validation.unsafeCharacter(in: value) == nil, "round \(round): \(line)")
                        }
                    }
                } catch let e as InventoryError {
                    refused += 1
                    #expect(!e.message.isEmpty && !e.file.isEmpty, "round \(round)")
                    #expect(!e.description.contains("hunter2") && !e.description.contains("s3cr3t"), "round \(round): \(e)")
                }
            }
            #expect(refused > 500)
            #expect(accepted > 0)
        }
    }

    @Test func hostileEnvFiles() async throws {
        try await onOwnThread {
            var rng = Rng(state: 42)
            for _ in 0..<500 {
                var env = Fixture.envText
                for _ in 0...rng.below(3) { env = Self.mutate(env, &rng) }
                do {
                    _ = try Fixture.load(Fixture.full, files: [Fixture.envPath: env])
                } catch let e as InventoryError {
                    #expect(e.file == Fixture.envPath)
                    #expect(!e.description.contains("hunter2") && !e.description.contains("s3cr3t"), "\(e)")
                }
            }
        }
    }

    @Test func hostileDocuments() {
        let docs = ["- a\n- b\n", "just text", "&a [*a]", "a: &x {b: *x}", "app: *nope", "{app: shop, app: shop}",
                    "!!python/object:os.system ls", String(repeating: "[", count: 5000),
                    "a: &a [x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c]\n",
                    "app: shop\nimage: registry.example.com/acme/shop\nhosts:\n  web1: &h {address: 10.0.0.1, tags: *h}\n",
                    "\u{FEFF}app: shop", "app: shop\r\nimage: x\r\n", "---\n---\n", "%TAG ! tag:x\n--- !x\n"]
        for doc in docs {
            #expect(throws: InventoryError.self) { try Fixture.load(doc) }
        }
    }
}
