/// Env file lines written for a tool that substitutes (Kamal's `.kamal/secrets`, a shell's `.env`): fleet's env
/// files are read as Docker's `--env-file` reads them, with no substitution, so `KEY=$(cat config/master.key)`
/// gives the container that text. Accepted (a literal `$` can be wanted), and said in the plan and by deploy.
extension EnvFileParser {
    /// One warning per line whose value holds `$(`, `${` or `$NAME`: the file, line and key, and what kind of
    /// substitution it looks like; never the value. Lines the parser refuses are left to its error.
    static func substitutionWarnings(in text: String, file: String) -> [String] {
        guard let entries = try? entries(in: text, file: file) else { return [] }
        return entries.compactMap { entry in
            substitution(in: entry.value).map { kind in
                "\(file):\(entry.line): \(entry.key)'s value holds \(kind), which fleet does not expand (env files are "
                    + "read as docker's --env-file reads them): the container gets the text as written. Put the value "
                    + "itself in the file, or name the variable in env.secret to take it from fleet's environment"
            }
        }
    }

    /// What the value holds that a shell would substitute: "$(...)", "${...}" or "$NAME"; nil for none.
    static func substitution(in value: Substring) -> String? {
        var previous: Character?
        for c in value {
            if previous == "$" {
                if c == "(" { return "a command substitution $(...)" }
                if c == "{" { return "a variable reference ${...}" }
                if c == "_" || (c.isASCII && c.isLetter) { return "a variable reference $NAME" }
            }
            previous = c
        }
        return nil
    }
}
