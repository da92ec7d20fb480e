import Yams

/// Turns Yams' errors into `InventoryError`s with file, line and column.
enum YAMLErrors {
    static func convert(_ error: YamlError, file: String, yaml: String) -> InventoryError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "YAML syntax error: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            return InventoryError(file: file, line: mark.line, column: mark.column,
                                  message: message + "; check the indentation and quoting here")
        case .reader(let problem, let offset, _, _):
            let (line, column) = offset.map { position(ofCharacter: $0, in: yaml) } ?? (nil, nil)
            return InventoryError(file: file, line: line, column: column,
                                  message: "cannot read the YAML text: \(problem); save the file as UTF-8 without control characters")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let first = context.mark
            let second = secondOccurrence(of: key, after: first, in: yaml) ?? (first.line, first.column)
            let shown = YAMLSection.printable(key)
            return InventoryError(file: file, line: second.0, column: second.1, message:
                "duplicate key '\(shown)' (first at line \(first.line)); every key, and every host name, must appear once: rename or remove one")
        default:
            return InventoryError(file: file, message: "cannot read this YAML: \(error)")
        }
    }

    /// 1-based line and column of the character at `offset`.
    static func position(ofCharacter offset: Int, in text: String) -> (Int?, Int?) {
        var line = 1, column = 1, i = 0
        for c in text {
            if i == offset { break }
            if c == "\n" { line += 1; column = 1 } else { column += 1 }
            i += 1
        }
        return (line, column)
    }

    /// Where `key` is written again after its first occurrence (block style at the same column, or later on the
    /// same line in flow style). Nil when not found (then the first occurrence is reported).
    static func secondOccurrence(of key: String, after first: Mark, in yaml: String) -> (Int, Int)? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line <= lines.count else { return nil }
        let candidates = [key, "\"\(key)\"", "'\(key)'"]
        func keyAt(_ text: Substring) -> Bool {
            candidates.contains { c in
                guard text.hasPrefix(c) else { return false }
                return text.dropFirst(c.count).drop { $0 == " " }.first == ":"
            }
        }
        // Flow style: later on the same line.
        let firstLine = Array(lines[first.line - 1].unicodeScalars)
        var col = first.column + key.unicodeScalars.count
        while col < firstLine.count {
            let rest = Substring(String(String.UnicodeScalarView(firstLine[col...])))
            if firstLine[col - 1] == " " || firstLine[col - 1] == "," || firstLine[col - 1] == "{", keyAt(rest) {
                return (first.line, col + 1)
            }
            col += 1
        }
        // Block style: a later line with the key at the same column.
        for index in first.line..<lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            guard scalars.count >= first.column else { continue }
            let indent = scalars[0..<(first.column - 1)]
            guard indent.allSatisfy({ $0 == " " || $0 == "-" }) else { continue }
            let rest = Substring(String(String.UnicodeScalarView(scalars[(first.column - 1)...])))
            if keyAt(rest) { return (index + 1, first.column) }
        }
        return nil
    }
}
