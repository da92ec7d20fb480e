import Foundation
import Testing
import TestSupport
@testable import FleetCore

/// `Host` patterns of `ssh.config` match in time linear in practice (pattern × name at worst, never exponential),
/// and say the same as the definition of `*` and `?`.
@Suite struct SSHConfigPatternTests {
    /// The definition, written the obvious way (exponential on long patterns: small inputs only).
    static func reference(_ t: ArraySlice<Character>, _ p: ArraySlice<Character>) -> Bool {
        guard let c = p.first else { return t.isEmpty }
        if c == "*" { return reference(t, p.dropFirst()) || (!t.isEmpty && reference(t.dropFirst(), p)) }
        guard let x = t.first, c == "?" || c == x else { return false }
        return reference(t.dropFirst(), p.dropFirst())
    }

    static func threadCPUSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// The issue's line (`Host *a*a…*a*b`, 30 stars, a 120-character name: still running after 60 s) and its
    /// worst cases at 1,000 stars and 1,000 characters: each match costs under 100 ms of this thread's CPU.
    @Test func pathologicalPatternsAreFast() async throws {
        try await onOwnThread {
            let cases: [(pattern: String, name: String)] = [
                (String(repeating: "*a", count: 29) + "*b", String(repeating: "a", count: 120)),
                (String(repeating: "*a", count: 999) + "*b", String(repeating: "a", count: 1000)),
                (String(repeating: "a*", count: 1000) + "b", String(repeating: "a", count: 1000)),
                ("*" + String(repeating: "a", count: 999) + "b", String(repeating: "a", count: 1000)),
                // The two-pointer match's own worst case: 500 starts, each compared 500 characters deep.
                ("*" + String(repeating: "a", count: 499) + "b", String(repeating: "a", count: 1000)),
                (String(repeating: "*?", count: 1000), String(repeating: "x", count: 999)),
            ]
            for (pattern, name) in cases {
                let start = Self.threadCPUSeconds()
                let matched = SSHPattern.matches(name, pattern)
                let cpu = Self.threadCPUSeconds() - start
                print("ssh-pattern stars=\(pattern.filter { $0 == "*" }.count) name=\(name.count) cpu=\(cpu)s")
                #expect(!matched)
                #expect(cpu < 0.1, "\(pattern.filter { $0 == "*" }.count) stars, \(name.count) characters: \(cpu) s of CPU")
            }
            // The same through a config, as `fleet plan` reads it; the block applies to a name that ends in b.
            let text = "Host " + String(repeating: "*a", count: 999) + "*b\n  User matched\n"
            let config = try SSHConfigTests.config(text)
            let start = Self.threadCPUSeconds()
            #expect(config.match(String(repeating: "a", count: 1000)).settings["user"] == nil)
            #expect(config.match(String(repeating: "a", count: 1000) + "b").settings["user"]?.args == ["matched"])
            #expect(Self.threadCPUSeconds() - start < 0.2)
        }
    }

    /// Random small patterns over `a b * ?` against random names over `a b`: the matcher and `--hosts` globs
    /// agree with the definition every time.
    @Test func agreesWithTheDefinition() async {
        await onOwnThread {
            var rng = FuzzTests.Rng(state: 0x5EED_21)
            let patternAlphabet: [Character] = ["a", "b", "*", "?"], nameAlphabet: [Character] = ["a", "b"]
            var matched = 0
            for round in 0..<20_000 {
                let p = String((0..<rng.below(9)).map { _ in patternAlphabet[rng.below(4)] })
                let t = String((0..<rng.below(11)).map { _ in nameAlphabet[rng.below(2)] })
                let expected = Self.reference(Array(t)[...], Array(p)[...])
                if expected { matched += 1 }
                #expect(SSHPattern.matches(t, p) == expected, "round \(round): '\(p)' against '\(t)'")
                #expect(Glob.matches(p, t) == expected, "round \(round): '\(p)' against '\(t)'")
            }
            #expect(matched > 1000)  // the sample holds both answers
        }
    }

    @Test func literalsAndNonASCII() {
        #expect(SSHPattern.matches("wéb1", "w?b*"))
        #expect(SSHPattern.matches("", "*"))
        #expect(!SSHPattern.matches("", "?"))
        #expect(SSHPattern.matches("a*b", "a*b"))
        #expect(SSHPattern.matches("a.b", "a.b"))
        #expect(!SSHPattern.matches("axb", "a.b"))
    }
}
