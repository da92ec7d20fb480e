/// Shell quoting for the exact command lines of the plan, and word splitting for hook commands.
public enum ShellWords {
    /// `arg` as one shell word: unchanged when it holds only safe characters, else in single quotes.
    public static func quote(_ arg: String) -> String {
        if !arg.isEmpty, arg.unicodeScalars.allSatisfy({ Validation.isAlnum($0) || "_@%+=:,./-".unicodeScalars.contains($0) }) {
            return arg
        }
        return "'" + arg.replacingAll("'", with: "'\\''") + "'"
    }

    /// A command line built from words, each quoted as needed.
    public static func join(_ words: [String]) -> String { words.map(quote).joined(separator: " ") }

    /// Splits like a POSIX shell without expansions: whitespace separates words; '...' keeps everything;
    /// "..." keeps everything but `\"`, `\\`, `\$`, `` \` ``; a backslash outside quotes escapes the next character.
    /// Nil when a quote is not closed.
    static func split(_ text: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var it = text.unicodeScalars.makeIterator()
        while let c = it.next() {
            switch c {
            case " ", "\t", "\n", "\r":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'":
                inWord = true
                var closed = false
                while let d = it.next() { if d == "'" { closed = true; break }; current.unicodeScalars.append(d) }
                if !closed { return nil }
            case "\"":
                inWord = true
                var closed = false
                while let d = it.next() {
                    if d == "\"" { closed = true; break }
                    if d == "\\" {
                        guard let e = it.next() else { return nil }
                        if !"\"\\$`".unicodeScalars.contains(e) { current.unicodeScalars.append(d) }
                        current.unicodeScalars.append(e)
                    } else {
                        current.unicodeScalars.append(d)
                    }
                }
                if !closed { return nil }
            case "\\":
                inWord = true
                if let e = it.next() { current.unicodeScalars.append(e) }
            default:
                inWord = true
                current.unicodeScalars.append(c)
            }
        }
        if inWord { words.append(current) }
        return words
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
