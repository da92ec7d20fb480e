import Foundation
import TestSupport
import Testing
@testable import FleetCore

/// `processes:`: parsed and checked at load, merged over `container:`, shown in the plan, carried to each host
/// (fleet.conf's WEB_PROCESS and WORKERS, the process-NAME files); without it, one web process as before.
@Suite struct ProcessesTests {
    static let inventory = """
    app: shop
    image: registry.example.com/acme/shop
    container: {memory: 512m, labels: {team: shop}}
    processes:
      web:
        hosts: {tags: [web]}
      job:
        cmd: bin/jobs start --queue 'high prio'
        hosts: {tags: [worker]}
        check: {command: [bin/jobs, ping], timeout: 5s}
        stop_timeout: 120s
        options: {memory: 1g, labels: {role: job}}
      mailer:
        role: worker
        cmd: [bin/mailer]
        hosts: [jobs1]
    hosts:
      web1: {address: 10.0.0.11, tags: [web]}
      web2: {address: 10.0.0.12, tags: [web, worker]}
      jobs1: {address: 10.0.0.13, tags: [worker]}
      db1: 10.0.0.21

    """

    @Test func parsedAndMergedOverContainer() throws {
        let inv = try Fixture.load(Self.inventory)
        #expect(inv.processesDeclared)
        #expect(inv.processes.map(\.name) == ["web", "job", "mailer"])
        let job = inv.processes[1]
        #expect(job.role == .worker && job.cmd == ["bin/jobs", "start", "--queue", "high prio"])
        #expect(job.check == .command(["bin/jobs", "ping"], timeout: 5))
        #expect(job.options.memory == "1g" && job.options.labels == ["team": "shop", "role": "job"])
        #expect(job.options.stopTimeoutSeconds == 120)
        #expect(inv.processes[2].check == .runningFor(seconds: 5))
        #expect(inv.processes[2].options.memory == "512m")
        #expect(inv.processes(on: try #require(inv.host(named: "web2"))).map(\.name) == ["web", "job"])
        #expect(inv.processes(on: try #require(inv.host(named: "jobs1"))).map(\.name) == ["job", "mailer"])
        #expect(FleetConf.render(inv, host: "jobs1").hasSuffix("WEB_PROCESS=\nWORKERS=job,mailer\n"))
        #expect(FleetConf.render(inv, host: "web1").hasSuffix("WEB_PROCESS=web\nWORKERS=\n"))
        #expect(job.confFile == "120\0command\0" + "5\0bin/jobs\0ping\0")
    }

    @Test func withoutProcessesOneWebProcessAsBefore() throws {
        let inv = try Fixture.load(Fixture.full)
        #expect(!inv.processesDeclared)
        #expect(inv.processes.map(\.name) == ["web"] && inv.processes[0].runs(on: inv.hosts[0]))
        #expect(!FleetConf.render(inv, host: "web1").contains("WORKERS"))
        let plan = try PlanBuilder.build(try PlanTests.input(inv))
        #expect(plan.processes == nil && plan.hosts.allSatisfy { $0.processes == nil } && plan.hostTime?.workers == nil)
        #expect(!PlanRenderer.json(plan).contains("\"processes\""))
    }

    @Test func planGolden() throws {
        let inv = try Fixture.load(Self.inventory)
        let plan = try PlanBuilder.build(try PlanTests.input(inv))
        try Golden.check(PlanRenderer.text(plan), "processes.txt")
        #expect(plan.skipped.map(\.name) == ["db1"])
        #expect(plan.hosts.map { $0.processes ?? [] } == [["web"], ["web", "job"], ["job", "mailer"]])
        #expect(plan.hostTime?.workers == WorkerTime(check: 5, stop: 120))
        // A host without the web process is not verified through nginx.
        let swaps = plan.stages.filter { $0.kind == .batch }.flatMap(\.hosts)
        #expect(swaps.first { $0.host == "jobs1" }?.steps.last?.check == nil)
        #expect(swaps.first { $0.host == "web1" }?.steps.last?.check?.kind == .verify)
        let install = try #require(plan.stages.first { $0.hosts.first?.host == "jobs1" }?.hosts.first?.steps.first?.files)
        #expect(install.map(\.source.name).filter { $0.hasPrefix("process-") }
                == ["process-job.cmd", "process-job.args", "process-job.conf", "process-mailer.cmd", "process-mailer.args", "process-mailer.conf"])
        let decoded = try JSONDecoder().decode(Plan.self, from: Data(PlanRenderer.json(plan).utf8))
        #expect(decoded == plan)
    }

    @Test func refusals() {
        let hosts = "hosts:\n  web1: {address: 10.0.0.11, tags: [web]}\n  web2: 10.0.0.12\n"
        for (yaml, words) in [
            ("processes: {}\n", "'processes' is empty"),
            ("processes: {Job: {}}\n", "process name 'Job'"),
            ("processes: {web: {}, app: {role: web}}\n", "a second web process"),
            ("processes: {job: {role: cron}}\n", "must be web or worker"),
            ("processes: {web: {check: {running_for: 5s}}}\n", "is for workers"),
            ("processes: {job: {hosts: {tags: [worker]}}}\n", "no host has tag 'worker'"),
            ("processes: {job: {hosts: [web9]}}\n", "not a host of the inventory"),
            ("processes: {job: {hosts: {roles: [x]}}}\n", "unknown key 'processes.job.hosts.roles'"),
            ("processes: {job: {cmd: \"bin/jobs 'start\"}}\n", "not closed"),
            ("processes: {job: {cmd: []}}\n", "is empty"),
            ("processes: {job: {check: {running_for: soon}}}\n", "a duration"),
            ("processes: {job: {check: {running_for: 5s, command: [x]}}}\n", "not both"),
            ("processes: {job: {check: {timeout: 5s}}}\n", "goes with 'command'"),
            ("processes: {job: {stop_timeout: 2h}}\n", "stop_timeout"),
            ("processes: {job: {options: {memory: lots}}}\n", "a size like 512m"),
            ("processes: {job: {options: {docker_args: [--name=x]}}}\n", "'processes.job.options.docker_args' holds --name"),
            ("processes: {job: {optoins: {}}}\n", "did you mean 'options'?"),
        ] {
            let error = Fixture.error("app: shop\nimage: registry.example.com/acme/shop\n" + hosts + yaml)
            #expect(error?.message.contains(words) == true, "\(yaml): \(String(describing: error))")
            #expect(error?.line != nil && error?.column != nil, "\(yaml)")
        }
    }
}

/// What status.sh says of a host's processes (with `processes:`), read for `fleet status`.
@Suite struct ProcessStatusTests {
    func status(_ line: String) throws -> HostStatus {
        HostStatus(host: "jobs1", json: try #require(JSONValue.resultLine(in: line)), expectedStatus: 200, now: Date())
    }

    @Test func aHostOfWorkersIsJudgedByThem() throws {
        let ok = try status("""
            {"script":"status","current":{"version":"v2"},"nginx":{"status":0},"consistent":true,"web_process":"",\
            "workers":[{"process":"job","container":"shop-job-b","state":"running","version":"v2"}]}
            """)
        #expect(ok.healthy && ok.error == nil && ok.web == nil)
        let table = HostStatus.table([ok], now: Date())
        #expect(table.contains("jobs1 job") && table.contains("shop-job-b") && table.contains("ok (running)"), "\(table)")

        let stopped = try status("""
            {"script":"status","current":{"version":"v2"},"nginx":{"status":0},"consistent":true,"web_process":"",\
            "workers":[{"process":"job","container":"shop-job-b","state":"exited","version":"v2"}]}
            """)
        #expect(!stopped.healthy && stopped.error == "worker job (shop-job-b) is exited")
        #expect(HostStatus.table([stopped], now: Date()).contains("FAILING (exited)"))
    }

    @Test func aWorkerOnAnotherVersionThanCurrentFailsTheHost() throws {
        let s = try status("""
            {"script":"status","current":{"version":"v2"},"slot":"blue","nginx":{"status":200},"consistent":true,\
            "web_process":"web","workers":[{"process":"job","container":"shop-job-a","state":"running","version":"v1"}]}
            """)
        #expect(!s.healthy && s.error == "worker job runs v1, not v2")
        #expect(s.web == "web" && s.workers?.count == 1)
    }

    @Test func withoutProcessesNothingChanges() throws {
        let s = try status("{\"script\":\"status\",\"current\":{\"version\":\"v2\"},\"slot\":\"blue\",\"nginx\":{\"status\":200},\"consistent\":true}")
        #expect(s.healthy && s.workers == nil && HostStatus.table([s], now: Date()).split(separator: "\n").count == 2)
    }
}
