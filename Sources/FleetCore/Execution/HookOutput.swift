import Foundation
import SSHEngine

/// What a hook prints, as events while it runs: every line of its output (hook.sh sends the command's stdout
/// and stderr to stderr), but not the script's own result line (the JSON object that ends its stdout).
enum HookOutput {
    static func forwarder(phase: String, to onEvent: @escaping @Sendable (ExecutionEvent) -> Void)
        -> @Sendable (String, OutputKind, String) -> Void {
        { host, kind, line in
            if kind == .stdout, JSONValue.resultLine(in: line) != nil { return }
            onEvent(.output(host: host, phase: phase, stream: kind.rawValue, line: shown(line)))
        }
    }

    /// The longest line shown whole; longer ones are cut (the recap and a terminal stay readable).
    static let maxLine = 2_000

    /// The line as a terminal can show it: control characters (escape sequences, carriage returns) as `?`,
    /// so a hook cannot redraw the live view or a CI log; cut at `maxLine` characters.
    static func shown(_ line: String) -> String {
        var text = String(String.UnicodeScalarView(line.unicodeScalars.prefix(maxLine).map { scalar in
            (scalar.value < 0x20 && scalar != "\t") || (0x7F...0x9F).contains(scalar.value) ? "?" : scalar
        }))
        if line.unicodeScalars.count > maxLine { text += " [cut at \(maxLine) characters]" }
        return text
    }
}
