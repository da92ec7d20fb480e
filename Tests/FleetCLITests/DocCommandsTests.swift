import ArgumentParser
import Foundation
import Testing
import TestSupport
@testable import FleetCLI

/// Every `fleet ...` command line of README.md and docs/ goes through fleet's own argument parser, so a
/// renamed option or subcommand fails here before a reader meets it.
@Suite struct DocCommandsTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func documents() -> [String] {
        let docs = FileManager.default.enumerator(atPath: repo + "/docs")?.compactMap { $0 as? String } ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") || $0.hasSuffix(".yml") }.sorted().map { "docs/" + $0 }
    }

    static func lines() -> [DocCommandLine] {
        documents().flatMap { DocCommandLine.scan(repo + "/" + $0, name: $0) }
    }

    /// nil when fleet's parser takes the words; else its message.
    static func problem(_ command: DocCommandLine) -> String? {
        do {
            _ = try FleetCommand.parseAsRoot(command.words)
            return nil
        } catch {
            if FleetCommand.exitCode(for: error) == .success { return nil } // --help, --version
            let message = FleetCommand.message(for: error)
            // An inline mention of a subcommand or an option (`fleet exec`, `fleet deploy --dry-run`) need not
            // give the command's required arguments.
            if command.inline && (isSubcommand(command.words) || message.hasPrefix("Missing expected argument")) { return nil }
            return message
        }
    }

    /// True when the words are exactly a path of fleet's subcommands (`lock release`).
    static func isSubcommand(_ words: [String]) -> Bool {
        var commands = FleetCommand.configuration.subcommands
        for word in words {
            guard let next = commands.first(where: { $0._commandName == word }) else { return false }
            commands = next.configuration.subcommands
        }
        return !words.isEmpty
    }

    @Test func theDocumentationHasCommandLines() {
        let lines = Self.lines()
        #expect(lines.count > 50, "found only \(lines.count) fleet command lines")
        #expect(lines.contains { $0.file == "README.md" && $0.words.first == "deploy" })
        #expect(lines.contains { $0.file == "docs/commands.md" && $0.words.first == "init" })
    }

    @Test func everyCommandLineParses() async {
        // About 4 s of parsing: on a thread of its own, not one of the two cooperative threads.
        await onOwnThread {
            for line in Self.lines() {
                let problem = Self.problem(line)
                #expect(problem == nil, "\(line): \(problem ?? "")")
            }
        }
    }

    /// The scanner itself: a renamed option and an unknown subcommand are caught.
    @Test func renamedOptionsAndSubcommandsFail() {
        func parse(_ text: String, inline: Bool = false) -> String? {
            Self.problem(DocCommandLine(file: "t", line: 1, text: text, words: DocCommandLine.words(text), inline: inline))
        }
        #expect(parse("fleet plan --env E VERSION [--hosts LIST] [--probe [--force]] [--json]") == nil)
        #expect(parse("fleet plan --env E VERSION [--progress auto|live|plain]") != nil)
        #expect(parse("fleet rollback [--env E] [--host H | --hosts LIST] [--to V]") == nil)
        #expect(parse("fleet exec --env production --hosts 'web*' -- uptime # comment") == nil)
        #expect(parse("fleet deploy --env \"$TARGET_ENV\" --json \"$VERSION\" > report.ndjson") == nil)
        #expect(parse("fleet history --env E --limit N") == nil)
        #expect(parse("fleet deploy", inline: true) == nil)
        #expect(parse("fleet lock release", inline: true) == nil && parse("fleet exec", inline: true) == nil)
        #expect(parse("fleet preflight", inline: true) != nil)
        #expect(parse("fleet plan --env E VERSION --prove") != nil)
    }
}
