import Testing
@testable import FleetCore

/// One test per refusal: the message and the location (file:line:column).
@Suite struct ValidationTests {
    static let head = "app: shop\nimage: registry.example.com/acme/shop\n"
    static let twoHosts = "hosts:\n  web1: 10.0.0.11\n  web2: 10.0.0.12\n"

    func expectError(_ yaml: String, at line: Int?, _ column: Int?, _ fragments: [String], file: String = Fixture.file,
                     files: [String: String] = Fixture.files(), sourceLocation: SourceLocation = #_sourceLocation) {
        guard let e = Fixture.error(yaml, files: files, sourceLocation: sourceLocation) else { return }
        #expect(e.file == file, sourceLocation: sourceLocation)
        #expect(e.line == line, "\(e)", sourceLocation: sourceLocation)
        #expect(e.column == column, "\(e)", sourceLocation: sourceLocation)
        for f in fragments { #expect(e.message.contains(f), "\(e)", sourceLocation: sourceLocation) }
        #expect(!e.description.contains("hunter2") && !e.description.contains("s3cr3t"), sourceLocation: sourceLocation)
    }

    @Test func malformedYAML() {
        expectError(Self.head + "hosts:\n  web1: [10.0.0.11\n", at: 5, 1, ["YAML syntax error", "indentation"])
        expectError("app: shop\n  image: x\n", at: 2, 8, ["YAML syntax error"])
    }

    @Test func wrongTypes() {
        expectError(Self.head + "ssh:\n  port: twenty\n" + Self.twoHosts, at: 4, 9, ["'ssh.port' must be a whole number", "'twenty'"])
        expectError(Self.head + "ssh: [a, b]\n" + Self.twoHosts, at: 3, 6, ["'ssh' must be a mapping", "a list"])
        expectError(Self.head + "hosts: [web1, web2]\n", at: 3, 8, ["'hosts' must be a mapping"])
        expectError(Self.head + "ssh: {port: 70000}\n" + Self.twoHosts, at: 3, 13, ["between 1 and 65535", "70000"])
        expectError(Self.head + "ssh: {connect_timeout: 10 sec}\n" + Self.twoHosts, at: 3, 24, ["must be a duration like 10s"])
        expectError(Self.head + "health: {timeout: 1500ms}\n" + Self.twoHosts, at: 3, 19, ["whole number of seconds", "1500ms"])
        expectError(Self.head + "ssh: {host_key_policy: yes-please}\n" + Self.twoHosts, at: 3, 24, ["strict or accept-new"])
        expectError(Self.head + "container: {ports: [8080, 8080]}\n" + Self.twoHosts, at: 3, 20, ["two different ports"])
        expectError(Self.head + "keep_releases: 1\n" + Self.twoHosts, at: 3, 16, ["between 2 and 1000"])
    }

    @Test func unknownKeysSuggest() {
        expectError("app: shop\nimgae: registry.example.com/acme/shop\n" + Self.twoHosts, at: 2, 1, ["unknown key 'imgae'", "did you mean 'image'?"])
        expectError(Self.head + "ssh:\n  prot: 22\n" + Self.twoHosts, at: 4, 3, ["unknown key 'ssh.prot'", "did you mean 'port'?"])
        expectError(Self.head + "hosts:\n  web1: {adress: 10.0.0.11}\n", at: 4, 10, ["unknown key 'hosts.web1.adress'", "did you mean 'address'?"])
        expectError(Self.head + "rollout: {batches: 2}\n" + Self.twoHosts, at: 3, 11, ["unknown key 'rollout.batches'", "did you mean 'batch'?"])
        expectError(Self.head + "zzzzzz: 1\n" + Self.twoHosts, at: 3, 1, ["unknown key 'zzzzzz'", "valid keys: app, image"])
    }

    @Test func duplicateHostNames() {
        expectError(Self.head + "hosts:\n  web1: 10.0.0.11\n  web2: 10.0.0.12\n  web1: 10.0.0.13\n", at: 6, 3,
                    ["duplicate key 'web1'", "first at line 4"])
        expectError(Self.head + "hosts: {web1: 10.0.0.11, web1: 10.0.0.12}\n", at: 3, 26, ["duplicate key 'web1'"])
    }

    @Test func duplicateAddresses() {
        expectError(Self.head + "hosts:\n  web1: 10.0.0.11\n  web2: {address: 10.0.0.11, port: 22}\n", at: 5, 3,
                    ["host 'web2' has the same address as 'web1'", "10.0.0.11 port 22"])
    }

    @Test func batchOutOfRange() {
        expectError(Self.head + "rollout: {batch: 0}\n" + Self.twoHosts, at: 3, 18, ["batch' of 0 hosts would never deploy"])
        expectError(Self.head + "rollout: {batch: \"0%\"}\n" + Self.twoHosts, at: 3, 18, ["0% would never deploy"])
        expectError(Self.head + "rollout: {batch: [1, \"150%\"]}\n" + Self.twoHosts, at: 3, 22, ["150% is over 100%"])
        expectError(Self.head + "rollout: {batch: []}\n" + Self.twoHosts, at: 3, 18, ["empty list"])
        expectError(Self.head + "rollout: {batch: lots}\n" + Self.twoHosts, at: 3, 18, ["must be a host count"])
    }

    @Test func missingEnvFile() {
        expectError(Self.head + "env_file: ../secrets/prod.env\n" + Self.twoHosts, at: 3, 11,
                    ["env file /srv/app/secrets/prod.env not found", "create it"])
    }

    @Test func badEnvFileLines() {
        let yaml = Self.head + "env_file: production.env\n" + Self.twoHosts
        expectError(yaml, at: 2, 1, ["line 2 is not KEY=VALUE"], file: Fixture.envPath,
                    files: [Fixture.envPath: "GOOD=1\nhunter2 without equals\n"])
        expectError(yaml, at: 3, 1, ["line 3: the text before '=' is not a variable name"], file: Fixture.envPath,
                    files: [Fixture.envPath: "# c\n\nexport SECRET=hunter2\n"])
        expectError(yaml, at: 2, 1, ["key 'A' is set twice (lines 1 and 2)"], file: Fixture.envPath,
                    files: [Fixture.envPath: "A=hunter2\nA=s3cr3t\n"])
    }

    @Test func badNames() {
        expectError("app: Shop_1\nimage: registry.example.com/acme/shop\n" + Self.twoHosts, at: 1, 6,
                    ["app name 'Shop_1' must match [a-z0-9][a-z0-9-]*"])
        expectError(Self.head + "hosts:\n  Web_1: 10.0.0.11\n", at: 4, 3, ["host name 'Web_1' must match [a-z0-9][a-z0-9-]*"])
        expectError(Self.head + "hosts:\n  web1: 10.0.0.11;id\n", at: 4, 9, ["address '10.0.0.11;id' of host 'web1'"])
        expectError(Self.head + "hosts:\n  web1: {address: 10.0.0.1, user: \"a b\"}\n", at: 4, 35, ["must be a login name"])
    }

    @Test func missingOrEmpty() {
        expectError("", at: 1, 1, ["the inventory is empty"])
        expectError("image: registry.example.com/acme/shop\n" + Self.twoHosts, at: 1, 1, ["missing 'app'"])
        expectError(Self.head, at: 1, 1, ["no hosts"])
        expectError(Self.head + "hosts: {}\n", at: 3, 8, ["'hosts' is empty"])
        expectError(Self.head + "hosts:\n  web1:\n", at: 4, 3, ["host 'web1' has no address"])
    }

    @Test func unsafeValues() {
        expectError("app: shop\nimage: registry.example.com/acme/shop:v1\n" + Self.twoHosts, at: 2, 8, ["without a tag"])
        expectError(Self.head + "health: {path: \"/health;id\"}\n" + Self.twoHosts, at: 3, 16, ["'health.path' must start with /", "'/health;id'"])
        expectError(Self.head + "nginx: {upstream_file: \"/a b\"}\n" + Self.twoHosts, at: 3, 24, ["holds a space", "fleet.conf"])
        expectError(Self.head + "paths: {root: \"/opt/$HOME\"}\n" + Self.twoHosts, at: 3, 15, ["holds '$'"])
        expectError(Self.head + "paths: {root: \"/opt/`id`\"}\n" + Self.twoHosts, at: 3, 15, ["holds '`'"])
        expectError(Self.head + "paths: {root: \"/opt/\\nx\"}\n" + Self.twoHosts, at: 3, 15, ["holds a newline"])
        expectError(Self.head + "paths: {root: opt/fleet}\n" + Self.twoHosts, at: 3, 15, ["must be an absolute path"])
        expectError(Self.head + "paths: {root: \"/opt/{app}\"}\n" + Self.twoHosts, at: 3, 15, ["nothing else in braces"])
        expectError(Self.head + "hooks: {before_rollout: \"migrate 'oops\"}\n" + Self.twoHosts, at: 3, 25, ["unclosed quote"])
        expectError(Self.head + "nginx: {url: \"ftp://x\"}\n" + Self.twoHosts, at: 3, 14, ["http(s)://HOST[:PORT] without a path"])
        expectError(Self.head + "nginx: {url: \"http://127.0.0.1/x\"}\n" + Self.twoHosts, at: 3, 14, ["without a path"])
        expectError(Self.head + "drain: 2h\n" + Self.twoHosts, at: 3, 8, ["between 0s and 3600s"])
    }

    @Test func hostSelection() throws {
        let inv = try Fixture.load(Fixture.full)
        #expect(try selectHosts(inv, patterns: []).map(\.name) == ["web1", "web2", "web3", "db1"])
        #expect(try selectHosts(inv, patterns: ["web*"]).map(\.name) == ["web1", "web2", "web3"])
        #expect(try selectHosts(inv, patterns: ["tag:eu"]).map(\.name) == ["web1", "web2"])
        #expect(try selectHosts(inv, patterns: ["db1,web3", "web?"]).map(\.name) == ["web1", "web2", "web3", "db1"])
        #expect(try selectHosts(inv, patterns: ["tag:canary", "db1"]).map(\.name) == ["web1", "db1"])
        let unknown = #expect(throws: InputError.self) { try selectHosts(inv, patterns: ["web4"]) }
        #expect(unknown?.description == "--hosts: unknown host 'web4' in \(Fixture.file); did you mean 'web1'? known hosts: web1, web2, web3, db1")
        let glob = #expect(throws: InputError.self) { try selectHosts(inv, patterns: ["cache*"]) }
        #expect(glob?.message.contains("'cache*' matches no host") == true)
        let tag = #expect(throws: InputError.self) { try selectHosts(inv, patterns: ["tag:asia"]) }
        #expect(tag?.message.contains("known tags: canary, eu, us") == true)
    }
}
