// embed-playbooks OUTPUT.swift SCRIPT...: writes a Swift source whose `EmbeddedPlaybooks.files` holds each
// script's name and exact text (escaped string literals: quick to compile, byte for byte the same).
import Foundation

func literal(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case " "..."~": out.unicodeScalars.append(scalar)
        default: out += "\\u{\(String(scalar.value, radix: 16))}"
        }
    }
    return out + "\""
}

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: EmbedPlaybooksTool OUTPUT.swift SCRIPT...\n".utf8))
    exit(2)
}
var source = "// Generated from playbooks/*.sh by the EmbedPlaybooks plugin at build time; edit the scripts, not this.\n"
source += "enum EmbeddedPlaybooks {\n    static let files: [(name: String, text: String)] = [\n"
for path in arguments.dropFirst().sorted() {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
        FileHandle.standardError.write(Data("EmbedPlaybooksTool: cannot read \(path) as UTF-8\n".utf8))
        exit(1)
    }
    source += "        (\(literal((path as NSString).lastPathComponent)), \(literal(text))),\n"
}
source += "    ]\n}\n"
do {
    try source.write(toFile: output, atomically: true, encoding: .utf8)
} catch {
    FileHandle.standardError.write(Data("EmbedPlaybooksTool: cannot write \(output): \(error)\n".utf8))
    exit(1)
}
