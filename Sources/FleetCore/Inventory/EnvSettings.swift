import Yams

/// `env:` in the inventory: `clear` values written in it, `secret` names read from fleet's own environment (what
/// CI hands over), merged with `env_file` into the one env file each host gets. A key set in more than one place
/// takes the value of the last of: `env_file`, `env.clear`, `env.secret` (CI's secret overrides a local file).
enum EnvSettingsParser {
    static func parse(_ top: YAMLSection, envFile: EnvFile?, variables: [String: String], require: Bool = true,
                      unset: inout [String]) throws -> EnvFile? {
        guard let section = try top.section("env", allowed: ["clear", "secret"]) else { return envFile }
        var values: [(key: String, value: String)] = []
        var origin: [String: String] = [:]
        if let envFile {
            for entry in try EnvFileParser.entries(in: envFile.contents.reveal(), file: envFile.path) {
                values.append((entry.key, String(entry.value)))
                origin[entry.key] = "env_file"
            }
        }
        func set(_ key: String, _ value: String, _ from: String) {
            if let index = values.firstIndex(where: { $0.key == key }) { values.remove(at: index) }
            values.append((key, value))
            origin[key] = from
        }
        if let clear = section.value("clear") {
            let map = try YAMLSection(file: top.file, name: "env.clear", node: clear, allowed: [])
            for key in map.orderedKeys {
                try checkKey(key, map.keyNode(key), map)
                let node = map.value(key) ?? clear
                let value = try map.scalarText(node, key, expected: "a value (a string or a number)")
                try checkValue(value, name: key, key: "env.clear.\(key)", node, map, shown: true)
                set(key, value, "env.clear")
            }
        }
        var seenSecret = Set<String>()
        for (key, node) in try section.stringList("secret") ?? [] {
            try checkKey(key, node, section)
            guard seenSecret.insert(key).inserted else { throw section.error(node, "'\(key)' is listed twice in env.secret") }
            if origin[key] == "env.clear" {
                throw section.error(node, "'\(key)' is in both env.clear and env.secret; keep it in one (secret if it is one)")
            }
            guard let value = variables[key] else {
                if !require { unset.append(key); continue }
                throw section.error(node, "'\(key)' is listed in env.secret but is not set in fleet's environment; export it before running fleet (in CI, pass the secret as an environment variable)")
            }
            try checkValue(value, name: key, key: key, node, section, shown: false)
            set(key, value, "env.secret")
        }
        let text = values.map { "\($0.key)=\($0.value)\n" }.joined()
        return EnvFile(path: envFile?.path ?? top.file, keys: values.map(\.key), contents: SecretText(text),
                       origins: values.map { origin[$0.key] ?? "env_file" }, fromFile: envFile != nil)
    }

    static func checkKey(_ key: String, _ node: Node?, _ section: YAMLSection) throws {
        guard EnvFileParser.isValidKey(key) else {
            throw section.error(node, "'\(YAMLSection.printable(key))' is not a variable name; use letters, digits and _ (not starting with a digit)")
        }
    }

    /// What Docker's env file cannot carry: a newline ends the value, NUL and CR are never what was meant, and a
    /// line over `EnvFileParser.maxLineBytes` is refused by its reader. A secret's value is never shown, only its
    /// name (`name` the variable, `key` as the message names it).
    static func checkValue(_ value: String, name: String, key: String, _ node: Node?, _ section: YAMLSection, shown: Bool) throws {
        if let why = EnvFileParser.tooLong(bytes: name.utf8.count + 1 + value.utf8.count + 1, key: name) {
            throw section.error(node, (shown ? "\(key): " : "env.secret: ") + why + (shown ? "" : " (the value is not shown)"))
        }
        guard let bad = value.unicodeScalars.first(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else { return }
        let what = bad == "\n" ? "a newline" : bad == "\r" ? "a carriage return" : "a NUL byte"
        throw section.error(node, "the value of \(key) holds \(what), which an env file cannot carry"
            + (shown ? "" : " (the value is not shown)") + "; pass it without one (base64 it if it is binary)")
    }
}
