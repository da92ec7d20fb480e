/// `--hosts` patterns: host names, globs (`web*`, `db?`) and tags (`tag:eu`); commas separate several.
/// The result keeps the inventory's order, each host once. No pattern: every host.
/// A pattern that matches nothing is an error listing what exists.
public func selectHosts(_ inventory: Inventory, patterns: [String]) throws -> [HostEntry] {
    let words = patterns.flatMap { $0.split(separator: ",").map { String($0).trimmedBlanks() } }.filter { !$0.isEmpty }
    if words.isEmpty { return inventory.hosts }
    var chosen = Set<String>()
    for word in words {
        let matched: [HostEntry]
        if word.hasPrefix("tag:") {
            let tag = String(word.dropFirst(4))
            matched = inventory.hosts.filter { $0.tags.contains(tag) }
            if matched.isEmpty {
                let tags = Array(Set(inventory.hosts.flatMap(\.tags))).sorted()
                let known = tags.isEmpty ? "no host has tags" : "known tags: " + tags.joined(separator: ", ")
                throw InputError("--hosts", "no host has tag '\(YAMLSection.printable(tag))' in \(inventory.file); \(known)")
            }
        } else if word.contains("*") || word.contains("?") {
            matched = inventory.hosts.filter { Glob.matches(word, $0.name) }
            if matched.isEmpty {
                throw InputError("--hosts", "'\(YAMLSection.printable(word))' matches no host in \(inventory.file); \(knownHosts(inventory))")
            }
        } else {
            guard let host = inventory.host(named: word) else {
                let hint = Suggest.closest(to: word, in: inventory.hosts.map(\.name)).map { "did you mean '\($0)'? " } ?? ""
                throw InputError("--hosts", "unknown host '\(YAMLSection.printable(word))' in \(inventory.file); \(hint)\(knownHosts(inventory))")
            }
            matched = [host]
        }
        for host in matched { chosen.insert(host.name) }
    }
    return inventory.hosts.filter { chosen.contains($0.name) }
}

private func knownHosts(_ inventory: Inventory) -> String {
    let names = inventory.hosts.map(\.name)
    let shown = names.prefix(20).joined(separator: ", ")
    return "known hosts: " + shown + (names.count > 20 ? " and \(names.count - 20) more" : "")
}

extension String {
    func trimmedBlanks() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

/// Shell-style globs (`--hosts`, and ssh's `Host` patterns): `*` any run, `?` one character (one Unicode scalar).
/// Linear in practice and O(pattern × text) at worst: on a mismatch only the last `*` seen takes one more
/// character (an earlier star never needs to, since the last one can absorb whatever it would have), so nothing
/// backtracks exponentially.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        matches(Array(pattern.unicodeScalars), Array(text.unicodeScalars))
    }

    /// Over Unicode scalars (as ssh reads its patterns; host names are ASCII), not generic: a test build does not
    /// specialise, and the 1,000-star worst case must stay cheap there too.
    static func matches(_ p: [Unicode.Scalar], _ t: [Unicode.Scalar]) -> Bool {
        let star: Unicode.Scalar = "*", any: Unicode.Scalar = "?"
        var pi = 0, ti = 0, lastStar = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == star {
                lastStar = pi; mark = ti; pi += 1
            } else if pi < p.count, p[pi] == any || p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if lastStar >= 0 {
                pi = lastStar + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == star { pi += 1 }
        return pi == p.count
    }
}
