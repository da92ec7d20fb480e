import Foundation

/// Every `fleet ...` command line of the documentation: in code blocks (a line starting with `fleet`, `$ fleet`,
/// `run: fleet`, or `fleet` after `&&`, `;`, `|` or `$(`) and in inline code spans that start with `fleet `. Each
/// becomes the words a shell would pass (quotes removed, cut at `;`, `&&`, `|`, `>`, `#`...), with a synopsis's
/// `[...]` taken as given, the first of `a|b` alternatives, and numeric placeholders (N, S) as numbers.
struct DocCommandLine: CustomStringConvertible {
    var file: String
    var line: Int
    var text: String
    var words: [String]
    /// From an inline code span: a bare reference like `fleet deploy` may leave out required arguments.
    var inline: Bool

    var description: String { "\(file):\(line): \(text)" }

    static let numeric: [String: String] = ["N": "5", "S": "30"]

    static func scan(_ path: String, name: String) -> [DocCommandLine] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        var found: [DocCommandLine] = []
        var fenced = false
        var output = false
        let lines = text.components(separatedBy: "\n")
        for (index, raw) in lines.enumerated() {
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                fenced.toggle()
                // What a program prints (```text, ```json), not what one types.
                output = fenced && ["text", "json"].contains(trimmed.dropFirst(3).trimmingCharacters(in: .whitespaces))
                continue
            }
            let isCode = fenced || raw.hasPrefix("    ") || name.hasSuffix(".yml")
            if isCode, !output, let start = commandStart(trimmed) {
                var command = String(trimmed[start...])
                // A synopsis continued on indented lines of options.
                var next = index + 1
                while next < lines.count, lines[next].trimmingCharacters(in: .whitespaces).hasPrefix("[") {
                    command += " " + lines[next].trimmingCharacters(in: .whitespaces)
                    next += 1
                }
                found.append(DocCommandLine(file: name, line: index + 1, text: command, words: words(command), inline: false))
            }
            if !isCode || name.hasSuffix(".md") {
                // Only spans that name a subcommand or an option: `fleet deploy: ...` (a message's prefix) and
                // `fleet 0.1.0 (...)` (what --version prints) are not commands.
                for span in inlineSpans(raw) where span.hasPrefix("fleet ") && isCommandWord(span.split(separator: " ")[1]) {
                    found.append(DocCommandLine(file: name, line: index + 1, text: span, words: words(span), inline: true))
                }
            }
        }
        return found
    }

    static func isCommandWord(_ word: Substring) -> Bool {
        guard let first = word.first, first == "-" || first.isLowercase else { return false }
        return word.allSatisfy { $0 == "-" || ($0.isLetter && $0.isLowercase) }
    }

    /// Where a command starts in a line of code, if the line runs fleet.
    static func commandStart(_ line: String) -> String.Index? {
        for prefix in ["fleet ", "$ fleet ", "run: fleet "] where line.hasPrefix(prefix) {
            return line.index(line.startIndex, offsetBy: prefix.count - "fleet ".count)
        }
        for separator in ["&& fleet ", "; fleet ", "| fleet ", "$(fleet "] {
            if let range = line.range(of: separator) {
                return line.index(range.upperBound, offsetBy: -"fleet ".count)
            }
        }
        return nil
    }

    static func inlineSpans(_ line: String) -> [String] {
        let parts = line.components(separatedBy: "`")
        return stride(from: 1, to: parts.count - 1, by: 2).map { parts[$0] }
    }

    /// Shell words, up to the first unquoted operator or comment.
    static func words(_ command: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var inWord = false
        var previous: Character = " "
        for c in synopsis(command) {
            if let q = quote {
                if c == q { quote = nil } else { current.append(c) }
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else if c == " " || c == "\t" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else if ";&|><)`".contains(c) || (c == "#" && previous == " ") {
                break
            } else {
                current.append(c)
                inWord = true
            }
            previous = c
        }
        if inWord { words.append(current) }
        return Array(words.dropFirst()).map { numeric[$0] ?? $0 }
    }

    /// `[--a X | --b Y]` -> `--a X`; `auto|live|plain` -> `auto`.
    static func synopsis(_ command: String) -> String {
        var out = ""
        var group = ""
        var depth = 0
        for c in command {
            if c == "[" { depth += 1; continue }
            if c == "]" && depth > 0 {
                depth -= 1
                if depth == 0 { out += group.components(separatedBy: " | ").first ?? ""; group = "" }
                continue
            }
            if depth > 0 { group.append(c) } else { out.append(c) }
        }
        return out.split(separator: " ", omittingEmptySubsequences: false).map { word in
            word.contains("|") && !word.hasPrefix("'") && !word.hasPrefix("\"") && word != "|"
                ? String(word.split(separator: "|").first ?? "") : String(word)
        }.joined(separator: " ")
    }
}
