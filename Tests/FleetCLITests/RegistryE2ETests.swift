import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// `registry:` and `env.secret` on the lab: an app of its own deploys from the registry that requires a login
/// (`lab.sh registry-auth-up`), with the password and the secrets handed over in fleet's environment, as CI does.
@Suite("Private registry login and secrets from the environment on the lab", .serialized)
struct RegistryE2ETests {
    static let authDir = Lab.dir + "/registry-auth"
    /// Quotes, `$`, spaces, `=`, backslashes and unicode: what the container must see exactly.
    static let tricky = "p@ss 'w\"o$rd' = $(id) `x` \\back\\slash ünï € \(UUID().uuidString)"

    static func registrySection() -> String {
        """
        registry:
          server: "10.77.0.1:5001"
          username: {env: LAB_REGISTRY_USER}
          password: {env: LAB_REGISTRY_PASSWORD}
        env:
          clear: {GREETING: hello, WORKER_JOB_SECONDS: "1"}
          secret: [SHOP_SECRET]
        processes:
          web: {options: {memory: 256m, labels: {team: shop}}}
          job: {cmd: [/bin/worker], hosts: [web2], check: {running_for: 2s}, stop_timeout: 20s, options: {memory: 256m, labels: {team: shop}}}

        """
    }

    func deploy(_ inventory: String, _ args: [String], password: String, user: String) async throws -> (Int32, Captured) {
        let captured = Captured()
        var environment = LabApp.environment
        environment["USER"] = "e2e"
        environment["LAB_REGISTRY_USER"] = user
        environment["LAB_REGISTRY_PASSWORD"] = password
        environment["SHOP_SECRET"] = Self.tricky
        let code = try await Deploy.parse(["--inventory", inventory] + args).run(context: captured.context(environment: environment))
        return (code, captured)
    }

    /// Every file under `dir` whose bytes hold `needle` (the lab's hosts share this machine's file system).
    func files(under dir: String, holding needle: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: dir) else { return [] }
        var found: [String] = []
        for case let path as String in walker {
            let full = dir + "/" + path
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue,
                  let data = FileManager.default.contents(atPath: full) else { continue }
            if data.range(of: Data(needle.utf8)) != nil { found.append(full) }
        }
        return found
    }

    @Test func deploysWithTheLoginAndAWrongPasswordChangesNothing() async throws {
        let password = try #require(try? String(contentsOfFile: Self.authDir + "/password", encoding: .utf8),
                                    "the auth registry is not up: scripts/lab/lab.sh registry-auth-up")
        let user = try String(contentsOfFile: Self.authDir + "/username", encoding: .utf8)
        let lab = try LabApp(app: "reg-auth", hosts: [("web1", "10.77.0.11"), ("web2", "10.77.0.12")],
                             nginxPort: 18193, ports: (19201, 19202), image: "10.77.0.1:5001/demo")
        let inventory = try lab.writeInventory(name: "auth", extra: Self.registrySection())
        try await lab.use {
            // Every process's argv on the hosts (they share this machine's pid namespace), sampled while deploying.
            let samples = lab.dir + "/ps-samples.txt", stop = lab.dir + "/ps-stop"
            let sampler = Task { await background("while [ ! -e \(stop) ]; do ps -eo args >> \(samples); sleep 0.02; done") }
            var (code, first) = (Int32(-1), Captured())
            do { (code, first) = try await deploy(inventory, ["v1"], password: password, user: user) } catch {
                _ = FileManager.default.createFile(atPath: stop, contents: nil)
                _ = await sampler.value
                throw error
            }
            _ = FileManager.default.createFile(atPath: stop, contents: nil)
            _ = await sampler.value
            #expect(code == 0, "\(first.err)")
            let argv = (try? String(contentsOfFile: samples, encoding: .utf8)) ?? ""
            // The login step's own process was seen (it lasts as long as docker login, a few hundred ms).
            #expect(argv.contains("preflight.sh") && argv.contains("--login \(user)"), "the sampler missed the login: \(argv.count) bytes")
            #expect(!argv.contains(password) && !argv.contains(Self.tricky))

            // Every container (the web on both hosts, the worker on web2) runs the image from the auth registry with
            // the container options, and sees the secret exactly.
            let seen = try await lab.shell({ _ in
                "for c in $(docker ps -q --filter label=fleet.app=reg-auth); do "
                    + "docker inspect -f '{{.Name}} {{.Config.Image}} {{.HostConfig.Memory}} {{index .Config.Labels \"team\"}}' $c; "
                    + "docker exec $c env | grep -E '^(SHOP_SECRET|GREETING)='; done"
            }, on: ["web1", "web2"])
            for (answer, count) in zip(seen, [1, 2]) {
                let lines = answer.split(separator: "\n")
                let containers = lines.filter { $0.contains("/reg-auth-") }
                #expect(containers.count == count && containers.allSatisfy { $0.hasSuffix(" 10.77.0.1:5001/demo:v1 268435456 shop") }, "\(answer.prefix(600))")
                #expect(lines.filter { $0 == "SHOP_SECRET=\(Self.tricky)" }.count == count, "the secret did not arrive exactly")
                #expect(lines.filter { $0 == "GREETING=hello" }.count == count)
            }
            #expect(seen.last?.contains("/reg-auth-job-a ") == true, "the worker runs on web2: \(seen.last ?? "")")
            // The login lasted only until the pull: the app's docker config folder is 0700 and holds no login.
            for host in ["web1", "web2"] {
                let folder = "\(lab.dir)/\(host)/state/docker"
                let mode = (try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int) ?? 0
                #expect(mode == 0o700, "\(folder): \(String(mode, radix: 8))")
                #expect(!FileManager.default.fileExists(atPath: folder + "/config.json"))
            }

            // A wrong password: pre-flight fails (exit 4) naming the registry; nothing changed, no lock left.
            let (refused, wrong) = try await deploy(inventory, ["--json", "v2"], password: password + "-wrong", user: user)
            #expect(refused == 4, "\(wrong.err)")
            #expect(wrong.out.contains("the registry 10.77.0.1:5001 refused the login of \(user)"), "\(wrong.out)")
            let report = try #require(jsonObjects(wrong.out).last { ($0["event"] as? String) == "report" }?["report"] as? [String: Any])
            let hosts = (report["hosts"] as? [[String: Any]]) ?? []
            // web1 first (the lock decides between runs there); web2 starts once web1's lock is held, beside web1's
            // login, so it is refused too (or not started yet when web1 was refused first): nothing is deployed.
            let outcome = Dictionary(uniqueKeysWithValues: hosts.compactMap { h in (h["host"] as? String).map { ($0, h) } })
            #expect((report["exit_code"] as? Int) == 4 && (outcome["web1"]?["exit_code"] as? Int) == 22, "\(wrong.out)")
            #expect((outcome["web1"]?["phase"] as? String) == "pre-flight")
            let web2 = outcome["web2"]?["outcome"] as? String
            #expect(web2 == "not_started" || (web2 == "failed" && (outcome["web2"]?["phase"] as? String) == "pre-flight"), "\(wrong.out)")
            #expect((outcome["web1"]?["error"] as? String)?.contains("{env: LAB_REGISTRY_PASSWORD}") == true)
            let after = try await lab.shell({ _ in "docker ps --format '{{.Names}} {{.Image}}' | grep reg-auth" }, on: ["web1", "web2"])
            #expect(after.allSatisfy { $0.contains("10.77.0.1:5001/demo:v1") && !$0.contains(":v2") }, "\(after)")

            // Then the right password deploys v2: no lock was left behind.
            let (again, second) = try await deploy(inventory, ["v2"], password: password, user: user)
            #expect(again == 0, "\(second.err)")

            // A shell that holds no secrets (a laptop, not CI): status reads the hosts; a deploy is refused naming
            // the variables, exit 2, nothing contacted.
            let bare = Captured()
            #expect(try await Status.parse(["--inventory", inventory]).run(context: bare.context(environment: LabApp.environment)) == 0, "\(bare.err)")
            #expect(bare.out.contains("v2"), "\(bare.out)")
            let noSecrets = Captured()
            #expect(try await Deploy.parse(["--inventory", inventory, "v3"]).run(context: noSecrets.context(environment: LabApp.environment)) == 2)
            #expect(noSecrets.err.contains("'SHOP_SECRET' is listed in env.secret but is not set in fleet's environment"), "\(noSecrets.err)")
            // A rollback sends no secret: from the same shell, every process of both hosts goes back to v1.
            let back = Captured()
            #expect(try await Rollback.parse(["--inventory", inventory]).run(context: back.context(environment: LabApp.environment)) == 0, "\(back.err)")
            let running = try await lab.shell({ _ in
                "docker ps --filter label=fleet.app=reg-auth --format '{{.Names}} {{.Label \"fleet.version\"}}' | sort"
            }, on: ["web1", "web2"])
            #expect(running.first?.contains(" v1") == true && running.first?.contains(" v2") == false, "\(running)")
            #expect(running.last.map { $0.contains("reg-auth-job-a v1") && !$0.contains(" v2") } == true, "\(running)")

            // Neither the password nor the secret in any output, plan, report, history, or the hosts' folders and logs.
            let planOut = Captured()
            var environment = LabApp.environment
            environment.merge(["LAB_REGISTRY_USER": user, "LAB_REGISTRY_PASSWORD": password, "SHOP_SECRET": Self.tricky]) { $1 }
            #expect(try await PlanCommand.parse(["--inventory", inventory, "--json", "v3"]).run(context: planOut.context(environment: environment)) == 0)
            #expect(planOut.out.contains("LAB_REGISTRY_PASSWORD") && planOut.out.contains("SHOP_SECRET"))
            for text in [first.out, first.err, wrong.out, wrong.err, second.out, second.err, planOut.out, planOut.err] {
                #expect(!text.contains(password) && !text.contains(Self.tricky))
            }
            #expect(files(under: lab.dir + "/inventory", holding: password).isEmpty)
            #expect(files(under: lab.dir + "/inventory", holding: Self.tricky).isEmpty)
            for host in ["web1", "web2"] {
                #expect(files(under: "\(lab.dir)/\(host)", holding: password).isEmpty)
                // The secret is where it belongs only: the release's env file (0600), nowhere else on the host.
                let holding = files(under: "\(lab.dir)/\(host)", holding: Self.tricky)
                #expect(holding.allSatisfy { $0.hasSuffix("/env") && $0.contains("/releases/") }, "\(holding)")
                #expect(files(under: "\(Lab.dir)/hosts/\(host)", holding: password).isEmpty, "dockerd's log or the host's folders")
            }
        }
    }
}
