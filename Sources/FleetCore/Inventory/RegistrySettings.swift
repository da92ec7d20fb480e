import Yams

/// `registry:` in the inventory: the private registry pre-flight logs each host in to before it pulls. The password
/// is always read from fleet's environment (`{env: NAME}`, what CI hands over), never written in the inventory; it
/// reaches the host on the login step's standard input only, and is shown nowhere (only its variable's name).
public struct RegistrySettings: Sendable, Equatable {
    /// `host[:port]`, the registry of `image`.
    public var server: String
    /// Shown in the plan and given to `docker login --username` on the host (not a secret).
    public var username: String
    /// The variable the username was read from, when it was (`username: {env: NAME}`).
    public var usernameEnv: String?
    /// The variable the password is read from.
    public var passwordEnv: String
    /// The password (for the login step's stdin only).
    public var password: SecretText
}

enum RegistryParser {
    static func parse(_ top: YAMLSection, image: String, variables: [String: String], require: Bool = true,
                      unset: inout [String]) throws -> RegistrySettings? {
        guard let s = try top.section("registry", allowed: ["server", "username", "password"]) else { return nil }
        guard let serverNode = s.value("server") else {
            throw s.error(s.keyNode("server") ?? s.node, "missing 'registry.server'; add it, for example: server: \(imageRegistry(image))")
        }
        let server = try s.scalarText(serverNode, "server", expected: "a registry host like registry.example.com or 10.0.0.5:5000")
        guard isServer(server) else {
            throw s.error(serverNode, "'registry.server' must be a registry host[:port] like registry.example.com or 10.0.0.5:5000 (no scheme, no path), found '\(YAMLSection.printable(server))'")
        }
        // One login, the image's registry: a login elsewhere would leave the pull without one.
        guard normalised(server) == normalised(imageRegistry(image)) else {
            throw s.error(serverNode, "the image '\(image)' is on the registry '\(imageRegistry(image))', not on '\(server)'; "
                + "pre-flight logs in to registry.server and pulls the image from there: make them the same (or put the registry's host in 'image')")
        }
        guard let userNode = s.value("username") else {
            throw s.error(s.keyNode("username") ?? s.node, "missing 'registry.username'; add it: username: deploy-bot (or {env: NAME} to read it from fleet's environment)")
        }
        let user = try value(s, userNode, "username", variables, literal: true, require: require, unset: &unset)
        guard user.value.isEmpty && !require || isUsername(user.value) else {
            throw s.error(userNode, "'registry.username'\(user.env.map { " (from $\($0))" } ?? "") must be 1 to 128 letters, digits or . _ @ + - (not starting with -)"
                + (user.env == nil ? ", found '\(YAMLSection.printable(user.value))'" : ""))
        }
        guard let passwordNode = s.value("password") else {
            throw s.error(s.keyNode("password") ?? s.node, "missing 'registry.password'; add it: password: {env: REGISTRY_PASSWORD} (read from fleet's environment; never write it here)")
        }
        let password = try value(s, passwordNode, "password", variables, literal: false, require: require, unset: &unset)
        guard let passwordEnv = password.env else { throw s.error(passwordNode, "'registry.password' must be {env: NAME}") }
        guard !password.value.isEmpty || unset.contains(passwordEnv) else {
            throw s.error(passwordNode, "$\(passwordEnv) (registry.password) is empty; set it to the registry password before running fleet")
        }
        guard !password.value.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else {
            throw s.error(passwordNode, "$\(passwordEnv) (registry.password) holds a newline, carriage return or NUL byte (the value is not shown); a registry password cannot")
        }
        return RegistrySettings(server: server, username: user.value, usernameEnv: user.env, passwordEnv: passwordEnv,
                                password: SecretText(password.value))
    }

    /// A value written as `{env: NAME}` (read from fleet's environment), or, when `literal`, as a plain string.
    static func value(_ s: YAMLSection, _ node: Node, _ key: String, _ variables: [String: String],
                      literal: Bool, require: Bool, unset: inout [String]) throws -> (value: String, env: String?) {
        let form = "{env: NAME}, the variable of fleet's environment that holds it"
        if case .scalar = node {
            guard literal else {
                throw s.error(node, "'registry.\(key)' must be \(form), like {env: REGISTRY_PASSWORD}: a password is never written in the inventory (the value is not shown)")
            }
            return (try s.scalarText(node, key, expected: "a string"), nil)
        }
        let map = try YAMLSection(file: s.file, name: s.qualified(key), node: node, allowed: ["env"])
        guard let nameNode = map.value("env") else {
            throw s.error(node, "'registry.\(key)' must be \(literal ? "a string or " : "")\(form)")
        }
        let name = try map.scalarText(nameNode, "env", expected: "a variable name")
        guard EnvFileParser.isValidKey(name) else {
            throw map.error(nameNode, "'\(YAMLSection.printable(name))' is not a variable name; use letters, digits and _ (not starting with a digit)")
        }
        guard let value = variables[name] else {
            if !require {
                unset.append(name)
                return ("", name)
            }
            throw map.error(nameNode, "'\(name)' (registry.\(key)) is not set in fleet's environment; export it before running fleet (in CI, pass the secret as an environment variable)")
        }
        return (value, name)
    }

    /// The registry an image reference names: its first component when that is a host (holds `.` or `:`, or is
    /// `localhost`), else Docker Hub.
    static func imageRegistry(_ image: String) -> String {
        let parts = image.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let first = parts.first,
              first.contains(".") || first.contains(":") || first == "localhost" else { return "docker.io" }
        return String(first)
    }

    static func normalised(_ server: String) -> String {
        let s = server.lowercased()
        return ["index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"].contains(s) ? "docker.io" : s
    }

    static func isServer(_ v: String) -> Bool {
        v.unicodeScalars.count <= 255 && v.range(of: "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$", options: .regularExpression) != nil
    }

    static func isUsername(_ v: String) -> Bool {
        v.range(of: "^[A-Za-z0-9._@+][A-Za-z0-9._@+-]{0,127}$", options: .regularExpression) != nil
    }
}
