import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// An app of its own on the shared lab hosts, so these tests never disturb others' deploys of `demo`: its own
/// name (containers `<app>-blue/green`), ports, state and root folders, upstream file, and its own nginx in each
/// host's namespace on 127.0.0.1:`nginxPort` (started over SSH, stopped by its pid file).
final class LabApp: @unchecked Sendable {
    let app: String
    let hosts: [(name: String, address: String)]
    let nginxPort: Int
    let ports: (Int, Int)
    let dir: String
    let extraYAML: String
    let image: String

    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static var environment: [String: String] { ["FLEET_PLAYBOOKS": repo + "/playbooks"] }

    init(app: String, hosts: [(String, String)], nginxPort: Int, ports: (Int, Int), extraYAML: String = "",
         image: String = "10.77.0.1:5000/demo") throws {
        self.app = app
        self.hosts = hosts.map { (name: $0.0, address: $0.1) }
        self.nginxPort = nginxPort
        self.ports = ports
        self.dir = "/tmp/fleet-cmds-\(app)"
        self.extraYAML = extraYAML
        self.image = image
        Self.stopLeftovers(dir)
        try? FileManager.default.removeItem(atPath: dir)
        for host in self.hosts {
            for sub in ["opt", "state", "nginx/tmp"] {
                try FileManager.default.createDirectory(atPath: "\(dir)/\(host.name)/\(sub)", withIntermediateDirectories: true)
            }
            try nginxConf(host.name).write(toFile: "\(dir)/\(host.name)/nginx/nginx.conf", atomically: true, encoding: .utf8)
            try "upstream \(upstream) {\n    server 127.0.0.1:\(ports.0);\n}\n"
                .write(toFile: "\(dir)/\(host.name)/nginx/upstream.conf", atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: dir + "/inventory", withIntermediateDirectories: true)
        try inventoryYAML().write(toFile: inventoryPath, atomically: true, encoding: .utf8)
    }

    /// An interrupted run may have left its nginx running: stop it by its pid file, only if that pid is still
    /// the nginx of this folder (hosts share this machine's pid namespace; only the network is separate).
    static func stopLeftovers(_ dir: String) {
        for host in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            guard let text = try? String(contentsOfFile: "\(dir)/\(host)/nginx/nginx.pid", encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                  String(decoding: cmdline, as: UTF8.self).contains("nginx"),
                  String(decoding: cmdline, as: UTF8.self).contains("\(dir)/\(host)/nginx/nginx.conf") else { continue }
            kill(pid, SIGTERM)
        }
    }

    var upstream: String { "fleet_" + app.replacingOccurrences(of: "-", with: "_") }
    var inventoryPath: String { dir + "/inventory/lab.yml" }

    func nginxConf(_ host: String) -> String {
        let d = "\(dir)/\(host)/nginx"
        return """
            worker_processes 1;
            pid \(d)/nginx.pid;
            error_log \(d)/error.log warn;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(d)/tmp/client_body;
                proxy_temp_path \(d)/tmp/proxy;
                fastcgi_temp_path \(d)/tmp/fastcgi;
                uwsgi_temp_path \(d)/tmp/uwsgi;
                scgi_temp_path \(d)/tmp/scgi;
                include \(d)/upstream.conf;
                server {
                    listen 127.0.0.1:\(nginxPort);
                    location / {
                        proxy_pass http://\(upstream);
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_connect_timeout 2s;
                    }
                }
            }

            """
    }

    func inventoryYAML(hostLines: [String]? = nil) -> String {
        let lines = hostLines ?? hosts.map { "  \($0.name): \($0.address)" }
        return """
            app: \(app)
            image: \(image)
            ssh:
              user: root
              identity_files: [\(Lab.dir)/client/id_ed25519]
              known_hosts: \(Lab.dir)/known_hosts
              connect_timeout: 5s
            health:
              timeout: 30s
            paths:
              root: \(dir)/{host}/opt
              state: \(dir)/{host}/state
            nginx:
              upstream_file: \(dir)/{host}/nginx/upstream.conf
              conf: \(dir)/{host}/nginx/nginx.conf
              url: http://127.0.0.1:\(nginxPort)
            container:
              ports: [\(ports.0), \(ports.1)]
            drain: 0s
            \(extraYAML)
            hosts:
            \(lines.joined(separator: "\n"))

            """
    }

    /// Another inventory in the same folder (same app and paths), with other hosts or keys.
    func writeInventory(name: String, hostLines: [String]? = nil, extra: String = "") throws -> String {
        let path = "\(dir)/inventory/\(name).yml"
        try (inventoryYAML(hostLines: hostLines) + extra).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func load() throws -> Inventory { try InventoryLoader.load(path: inventoryPath) }

    func entries(_ names: [String]) throws -> [HostEntry] { try load().hosts.filter { names.contains($0.name) } }

    func scripts() throws -> HostScripts {
        HostScripts(inventory: try load(), playbooks: try Playbooks.load(dir: Self.repo + "/playbooks"))
    }

    /// Runs one shell line as root on each host.
    @discardableResult
    func shell(_ line: @escaping @Sendable (String) -> String, on names: [String]) async throws -> [String] {
        let inventory = try load()
        let results = await Sessions(transport: SSHTransport(agentSocket: nil), settings: inventory.ssh).each(try entries(names)) { host, session in
            let result = try await session.run(line(host.name), timeout: .seconds(180), stdin: [], onLine: nil)
            return "exit \(result.exitStatus): \(result.stdoutText)\(result.stderrText)"
        }
        return try results.map { try $0.get() }
    }

    /// Starts this app's nginx on each host (stopping one a previous run left, by its pid file).
    func start() async throws {
        let answers = try await shell({ h in
            let d = "\(self.dir)/\(h)/nginx"
            return "if [ -s \(d)/nginx.pid ]; then kill \"$(cat \(d)/nginx.pid)\" 2>/dev/null || true; sleep 0.3; fi; "
                + "docker rm -f \(self.app)-blue \(self.app)-green $(docker ps -aq --filter label=fleet.app=\(self.app)) >/dev/null 2>&1 || true; "
                + "nginx -c \(d)/nginx.conf </dev/null >/dev/null 2>&1 && echo started"
        }, on: hosts.map(\.name))
        for answer in answers where !answer.contains("started") {
            throw HostFailure(host: app, message: "nginx did not start: \(answer)")
        }
    }

    /// Deploys VERSION on a host through the real deploy.sh (installed by HostScripts).
    func deploy(_ version: String, on host: String) async throws -> HostScriptOutput {
        let scripts = try self.scripts()
        let entry = try #require(try entries([host]).first)
        let session = try await SSHTransport(agentSocket: nil).connect(entry)
        let env = scripts.root(host) + "/incoming/\(version).env"
        do {
            try await scripts.install(on: session)
            _ = try await session.run("umask 077 && cat > " + ShellWords.quote(env), timeout: .seconds(30),
                                      stdin: Array("APP_MODE=test\n".utf8), onLine: nil)
            let output = try await scripts.run("deploy.sh", ["--version", version, "--env-file", env, "--run-id", "test-\(app)"],
                                               on: session, timeout: .seconds(240))
            await session.close()
            return output
        } catch {
            await session.close()
            throw error
        }
    }

    /// Stops nginx (by pid file) and removes the containers and the folders.
    func stop() async {
        _ = try? await shell({ h in
            let d = "\(self.dir)/\(h)/nginx"
            return "if [ -s \(d)/nginx.pid ]; then kill \"$(cat \(d)/nginx.pid)\" 2>/dev/null || true; fi; "
                + "docker rm -f \(self.app)-blue \(self.app)-green $(docker ps -aq --filter label=fleet.app=\(self.app)) >/dev/null 2>&1 || true"
        }, on: hosts.map(\.name))
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs `body`, then `stop()`, whatever happened.
    func use(_ body: () async throws -> Void) async throws {
        do {
            try await start()
            try await body()
        } catch {
            await stop()
            throw error
        }
        await stop()
    }
}

func jsonObjects(_ text: String) -> [[String: Any]] {
    text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}

func byHost(_ text: String) -> [String: [String: Any]] {
    Dictionary(jsonObjects(text).compactMap { o in (o["host"] as? String).map { ($0, o) } }, uniquingKeysWith: { a, _ in a })
}

@Suite("HostScripts: finding and reading the playbooks")
struct StatusFixtureTests {
    @Test func playbooksFoundOnlyWhereNamed() throws {
        // fleet's own checkout has playbooks/ next to inventory/: still not used unless named.
        let inside = LabApp.repo + "/inventory/production.example.yml"
        #expect(try Playbooks.locate(inventoryFile: inside, environment: [:]).origin == .builtIn)
        let elsewhere = "/tmp/nowhere-\(UInt32.random(in: 0...UInt32.max))/inventory/x.yml"
        #expect(try Playbooks.locate(inventoryFile: elsewhere, environment: LabApp.environment).dir == LabApp.repo + "/playbooks")
        // Nothing named and nothing next to the inventory: fleet's own scripts, built into the binary.
        #expect(try Playbooks.locate(inventoryFile: elsewhere, environment: [:]).origin == .builtIn)
        let loaded = try Playbooks.load(dir: LabApp.repo + "/playbooks")
        #expect(loaded.files.map(\.name).contains("status.sh") && loaded.files.map(\.name).contains("lib.sh"))
    }

    @Test func lastJSONObjectWins() {
        let json = JSONValue.resultLine(in: "noise\n{\"a\":1}\n{\"script\":\"status\",\"lock\":{\"fleet\":null},\"n\":3}\n")
        #expect(json?["script"]?.text == "status")
        #expect(json?["lock"]?["fleet"]?.isNull == true)
        #expect(json?["n"]?.int == 3)
        #expect(JSONValue.resultLine(in: "no json here") == nil)
        // Not JSON (a leading zero): status.sh prints canonical numbers, and the one reader does not guess.
        #expect(JSONValue.resultLine(in: "{\"nginx\":{\"status\":000}}") == nil)
    }
}
