import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// `processes:` on the lab: the web process on every host and a worker (the demo image's /bin/worker) on the two
/// hosts tagged `worker`. (In the same serialized suite as the other rolling deploys: they share the lab's hosts.)
extension DeployE2ETests {
    static let workerYAML = """
    env:
      clear: {WORKER_JOB_SECONDS: "2"}
    processes:
      web: {}
      job:
        cmd: [/bin/worker]
        hosts: {tags: [worker]}
        check: {running_for: 3s}
        stop_timeout: 30s
        options: {memory: 256m, labels: {role: job}, volumes: ["demo-jobs:/data"]}
    """

    /// The e2e inventory with the worker process; web1 and web2 tagged `worker`.
    func workerInventory(cmd: String = "[/bin/worker]") throws -> String {
        let path = try E2E.inventory(extra: Self.workerYAML.replacingOccurrences(of: "[/bin/worker]", with: cmd))
        var yaml = try String(contentsOfFile: path, encoding: .utf8)
        for host in 1...2 {
            yaml = yaml.replacingOccurrences(of: "  web\(host): 10.77.0.1\(host)\n", with: "  web\(host): {address: 10.77.0.1\(host), tags: [worker]}\n")
        }
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func docker(_ host: Int, _ args: String) async -> String {
        await sh("\(E2E.repo)/scripts/lab/lab.sh exec web\(host) -- docker \(args) 2>&1").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `NAME VERSION STATE` of the app's worker containers on a host, sorted.
    func workers(_ host: Int, app: String = "demo") async -> [String] {
        await docker(host, "ps -a --filter label=fleet.app=\(app) --filter label=fleet.process=job --format '{{.Names}} {{.Label \"fleet.version\"}} {{.State}}'")
            .split(separator: "\n").map(String.init).sorted()
    }

    /// Workers left by this suite would run on under the other tests' inventories (which name no workers).
    /// Synchronous: it runs in a `defer`.
    func removeWorkers() {
        for host in 1...E2E.hostCount {
            shNow("\(E2E.repo)/scripts/lab/lab.sh exec web\(host) -- docker rm -f demo-job-a demo-job-b >/dev/null 2>&1")
            shNow("rm -f \(Lab.dir)/hosts/web\(host)/state/worker-job")
        }
    }

    @Test func workersDeployAndRollBackUnderLoadThenAFailedCheckKeepsTheHostOnItsRelease() async throws {
        removeWorkers()
        defer { removeWorkers() }
        let inventory = try workerInventory()
        // The web serves v1 first (on a fresh lab nothing does); then, under load on every host's nginx, the
        // workers' first deploy starts them next to the serving web.
        let (ready, readyOut) = try await deploy(try E2E.inventory(), ["v1"])
        try #require(ready == 0, "\(readyOut.err)")
        var (base, baseOut) = (Int32(-1), Captured())
        let firstLoad = try await underLoad { (base, baseOut) = try await deploy(inventory, ["v1"]) }
        try #require(base == 0, "\(baseOut.err)")
        #expect(failedRequests(firstLoad) == 0, "\(firstLoad)")
        #expect(await workers(1) == ["demo-job-a v1 running"])
        #expect(await workers(3).isEmpty)
        let first = try #require(History.list(inventory: inventory, environment: "e2e").compactMap { try? $0.get() }.last)
        #expect(first.hosts.first { $0.host == "web1" }?.processes == ["web", "job"])
        #expect(first.hosts.first { $0.host == "web3" }?.processes == ["web"])

        // A worker container a killed run left (not recorded, of a version the records do not name: its restart
        // policy would bring it back with dockerd) is stopped and removed by the next run's recovery; the same
        // version again changes nothing else.
        _ = await docker(1, "run -d --name demo-job-b --label fleet.app=demo --label fleet.process=job --label fleet.version=v9 "
            + "10.77.0.1:5000/demo:v1 /bin/worker")
        let (again, againOut) = try await deploy(inventory, ["v1"])
        #expect(again == 0, "\(againOut.err)")
        #expect(await workers(1) == ["demo-job-a v1 running"])
        let repeated = try #require(History.list(inventory: inventory, environment: "e2e").compactMap { try? $0.get() }.last)
        #expect(repeated.hosts.allSatisfy { $0.outcome == .skipped }, "\(repeated.hosts)")
        #expect(await docker(1, "inspect -f '{{.HostConfig.Memory}} {{index .Config.Labels \"role\"}}' demo-job-a") == "268435456 job")
        // A file in the worker's named volume, checked again after the deploys below replaced its container.
        let marker = "kept-\(UInt32.random(in: 0...UInt32.max))"
        for host in 1...2 { _ = await docker(host, "exec -u 0 demo-job-a sh -c 'echo \(marker) > /data/marker'") }

        // status: a line per process; logs and exec --container pick the worker's container with --process.
        let status = Captured()
        #expect(try await Status.parse(["--inventory", inventory]).run(context: E2E.context(status)) == 0, "\(status.out)\(status.err)")
        #expect(status.out.contains("web1 job") && status.out.contains("demo-job-a") && !status.out.contains("web3 job"), "\(status.out)")
        let logs = Captured()
        #expect(try await Logs.parse(["--inventory", inventory, "--process", "job", "--lines", "5"])
            .run(context: E2E.context(logs)) == 0, "\(logs.err)")
        #expect(logs.out.contains("web1 job | job ") && logs.out.contains("web2 job | job ") && !logs.out.contains("web3"), "\(logs.out)")
        let exec = Captured()
        #expect(try await Exec.parse(["--inventory", inventory, "--container", "--process", "job", "--json", "--", "cat", "/www/version"])
            .run(context: E2E.context(exec)) == 0, "\(exec.out)\(exec.err)")
        #expect(exec.out.contains("\"web2\"") && !exec.out.contains("\"web3\""), "\(exec.out)")
        let unknown = Captured()
        #expect(try await Logs.parse(["--inventory", inventory, "--process", "jobs"]).run(context: E2E.context(unknown)) == 2)
        #expect(unknown.err.contains("unknown process 'jobs'"), "\(unknown.err)")

        // v2, then back to v1, under load on every host's nginx: no request fails; each worker is replaced.
        var codes: [Int32] = []
        var outputs: [String] = []
        let load = try await underLoad {
            let (up, upOut) = try await deploy(inventory, ["v2"])
            codes.append(up); outputs.append(upOut.err)
            let back = Captured()
            codes.append(try await Rollback.parse(["--inventory", inventory]).run(context: E2E.context(back)))
            outputs.append(back.err)
        }
        #expect(codes == [0, 0], "\(outputs)")
        #expect(totalRequests(load) > 100)
        #expect(failedRequests(load) == 0, "\(load)")
        for host in 1...E2E.hostCount { #expect(await E2E.serving(host) == "v1") }
        for host in 1...2 {
            // v1 on a (started again by the rollback), v2 on b, stopped.
            #expect(await workers(host) == ["demo-job-a v1 running", "demo-job-b v2 exited"], "web\(host)")
            // The v2 worker got SIGTERM, finished the job it was on and exited by itself (0, not SIGKILL's 137).
            let logs = await docker(host, "logs demo-job-b")
            #expect(logs.range(of: "finished job [0-9]+ after SIGTERM", options: .regularExpression) != nil, "\(logs.suffix(300))")
            #expect(await docker(host, "inspect -f '{{.State.ExitCode}}' demo-job-b") == "0")
        }
        #expect(await workers(3) + workers(4) == [])
        for host in 1...2 { #expect(await docker(host, "exec demo-job-a cat /data/marker") == marker, "web\(host): the volume's file") }

        // A worker whose check fails (its command exits at once): the first batch fails with exit 23 and
        // every process of those hosts stays on v1; the rollout halts before the second batch.
        let bad = try workerInventory(cmd: "[/bin/false]")
        let (failed, failedOut) = try await deploy(bad, ["v2"])
        #expect(failed == 1, "\(failedOut.err)")
        #expect(failedOut.err.contains("failed its check"))
        let report = try #require(History.list(inventory: bad, environment: "e2e").compactMap { try? $0.get() }.last)
        #expect(report.hosts.first { $0.host == "web1" }?.exitCode == 23)
        for host in 1...E2E.hostCount { #expect(await E2E.serving(host) == "v1") }
        for host in 1...2 {
            #expect(await workers(host) == ["demo-job-a v1 running"], "web\(host)")
            #expect(await docker(host, "ps --filter label=fleet.app=demo --filter label=fleet.slot --format '{{.Label \"fleet.version\"}}'") == "v1")
        }

        // The inventory without `processes:` (the web process alone), deployed on the version the hosts run (the
        // web has nothing to do): the workers it no longer names stop (SIGTERM first) and are forgotten.
        let plain = try E2E.inventory()
        let (webOnly, webOnlyOut) = try await deploy(plain, ["v1"])
        #expect(webOnly == 0, "\(webOnlyOut.err)")
        for host in 1...2 {
            #expect(await workers(host) == ["demo-job-a v1 exited"], "web\(host)")
            #expect(await docker(host, "inspect -f '{{.State.ExitCode}}' demo-job-a") == "0")
            #expect(!FileManager.default.fileExists(atPath: "\(Lab.dir)/hosts/web\(host)/state/worker-job"))
        }
        for host in 1...E2E.hostCount { #expect(await E2E.serving(host) == "v1") }
    }

    /// An app of workers only (no web process, so no nginx) on web3 and web4, checked by a command run in the new
    /// container: deploy, status, logs, rollback.
    @Test func anAppOfWorkersOnlyNeedsNoNginx() async throws {
        let dir = "/tmp/fleet-proc-workers"
        let clean = {
            for host in 3...4 { shNow("\(E2E.repo)/scripts/lab/lab.sh exec web\(host) -- docker rm -f proc-workers-job-a proc-workers-job-b >/dev/null 2>&1") }
            shNow("rm -rf \(dir)")
        }
        clean()
        defer { clean() }
        for sub in ["inventory", "web3/state", "web4/state"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        let inventory = dir + "/inventory/workers.yml"
        try """
        app: proc-workers
        image: 10.77.0.1:5000/demo
        ssh:
          user: root
          identity_files: [\(Lab.dir)/client/id_ed25519]
          known_hosts: \(Lab.dir)/known_hosts
        paths: {root: "\(dir)/{host}/opt", state: "\(dir)/{host}/state"}
        processes:
          job: {cmd: /bin/worker, check: {command: [test, -f, /tmp/worker.ready], timeout: 10s}, stop_timeout: 20s}
        hosts:
          web3: 10.77.0.13
          web4: 10.77.0.14

        """.write(toFile: inventory, atomically: true, encoding: .utf8)
        for version in ["v1", "v2"] {
            let (code, out) = try await deploy(inventory, [version])
            #expect(code == 0, "\(out.err)")
        }
        #expect(await workers(3, app: "proc-workers") == ["proc-workers-job-a v1 exited", "proc-workers-job-b v2 running"])
        let status = Captured()
        #expect(try await Status.parse(["--inventory", inventory]).run(context: E2E.context(status)) == 0, "\(status.out)\(status.err)")
        #expect(status.out.contains("web4 job") && status.out.contains("ok (running)"), "\(status.out)")
        // No web process: no slot, no nginx health (not "blue" and "ok").
        #expect(status.out.split(separator: "\n").contains { $0.hasPrefix("web3 ") && $0.contains(" -  ") && $0.contains("workers only") }, "\(status.out)")
        let logs = Captured()
        #expect(try await Logs.parse(["--inventory", inventory, "--lines", "3"]).run(context: E2E.context(logs)) == 0, "\(logs.err)")
        #expect(logs.out.contains("web3 job | job "), "\(logs.out)")
        let back = Captured()
        #expect(try await Rollback.parse(["--inventory", inventory]).run(context: E2E.context(back)) == 0, "\(back.err)")
        for host in 3...4 {
            #expect(await workers(host, app: "proc-workers") == ["proc-workers-job-a v1 running", "proc-workers-job-b v2 exited"])
            #expect(await docker(host, "logs proc-workers-job-b").contains("after SIGTERM"))
        }
    }
}
