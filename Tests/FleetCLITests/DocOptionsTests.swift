import ArgumentParser
import Foundation
import Testing
@testable import FleetCLI

/// docs/commands.md lists every option each command has: each name `COMMAND --help` prints appears in that
/// command's section (`## fleet COMMAND`), except the inventory options every command shares, which the page's
/// first table lists once.
@Suite struct DocOptionsTests {
    static let page = (try? String(contentsOfFile: DocCommandsTests.repo + "/docs/commands.md", encoding: .utf8)) ?? ""

    /// The text under the `## ` heading that names `fleet PATH`, up to the next `## ` heading.
    static func section(_ path: String) -> String? {
        var found: [String]?
        for line in page.components(separatedBy: "\n") {
            if line.hasPrefix("## ") {
                if found != nil { break }
                if mentions(line, "fleet " + path) { found = [] }
            } else {
                found?.append(line)
            }
        }
        return found?.joined(separator: "\n")
    }

    /// The text before the first `## `: the options every command that reads an inventory takes.
    static var shared: String { page.components(separatedBy: "\n## ")[0] }

    /// `name` as a whole word of `text` (`--force` is not found in `--force-x`).
    static func mentions(_ text: String, _ name: String) -> Bool {
        var rest = text[...]
        while let range = rest.range(of: name) {
            let before = range.lowerBound == text.startIndex ? " " : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? " " : text[range.upperBound]
            let word: (Character) -> Bool = { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
            if !word(before) && !word(after) { return true }
            rest = text[range.upperBound...]
        }
        return false
    }

    @Test func everyOptionOfEveryCommandIsInItsSection() {
        let sharedNames = ["-e", "--env", "-i", "--inventory", "--hosts"]
        for name in sharedNames { #expect(Self.mentions(Self.shared, name), "the shared options table lacks \(name)") }
        for (path, type) in FleetCommand.leaves() {
            guard let section = Self.section(path) else {
                Issue.record("docs/commands.md has no section for fleet \(path)")
                continue
            }
            let names = OptionNames.of(type)
            #expect(!names.isEmpty, "fleet \(path) --help lists no option")
            for name in names where !sharedNames.contains(name) {
                #expect(Self.mentions(section, name), "docs/commands.md, section fleet \(path), does not mention \(name)")
            }
        }
    }

    /// The reverse: a synopsis names no option the command does not have (DocCommandsTests parses each line too).
    @Test func theHelpParserFindsEveryKindOfOption() {
        #expect(OptionNames.of(Logs.self).contains("-f") && OptionNames.of(Logs.self).contains("--follow"))
        #expect(OptionNames.of(LockRelease.self).contains("--force"))
        #expect(OptionNames.of(PlanCommand.self).contains("--json"))
        #expect(!OptionNames.of(Rollback.self).contains("--strict-image"))
        #expect(Self.mentions("a --force b", "--force") && !Self.mentions("--force-x", "--force"))
    }
}
