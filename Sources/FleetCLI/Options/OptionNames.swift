import ArgumentParser

/// A command's option names as its `--help` lists them, and the closest of them to a mistyped word: what an
/// unknown option's "Did you mean" names.
enum OptionNames {
    /// Every name of every option of the command (`-e`, `--env`, ...), in `--help` order, without `--help`,
    /// `-h` and `--version`.
    static func of(_ command: ParsableCommand.Type) -> [String] {
        var names: [String] = []
        var inOptions = false
        for line in FleetCommand.helpMessage(for: command, columns: 10_000).split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") { inOptions = line.hasSuffix("OPTIONS:"); continue }
            guard inOptions, line.hasPrefix("  -") else { continue }
            // `  -e, --env <env>    The environment...`: the names end at the first two spaces after them.
            let head = line.dropFirst(2).components(separatedBy: "  ")[0]
            for word in head.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "/" }) where word.hasPrefix("-") {
                let name = String(word)
                if !["-h", "--help", "--version"].contains(name), !names.contains(name) { names.append(name) }
            }
        }
        return names
    }

    /// The name nearest `word` by edit distance (ties: the first in `names`); long names only when there is one.
    static func closest(to word: String, in names: [String]) -> String? {
        let long = names.filter { $0.hasPrefix("--") }
        let pool = long.isEmpty ? names : long
        let typed = Array(word.prefix(64))
        return pool.map { ($0, distance(typed, Array($0))) }.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance (`word` is cut at 64 characters by the caller: linear in the option names).
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
