import Foundation
import TestSupport
import Testing
@testable import FleetCore

/// `container:` options: validated at load, shown in the plan, handed to docker run as an argument array that
/// bash reads back word for word (never through a shell).
@Suite struct ContainerOptionsTests {
    static let options = """
    container:
      volumes: [data:/app/storage, "/srv/uploads:/app/uploads:ro"]
      memory: 1g
      cpus: "1.5"
      user: "1001:1001"
      read_only: true
      tmpfs: [/tmp]
      cap_drop: [ALL]
      init: true
      labels: {team: shop, "com.example.tier": "web app"}
      log_driver: json-file
      log_opts: {max-size: 10m}
      ulimits: {nofile: "1024:2048"}
      extra_hosts: ["db.internal:10.0.0.5"]
      stop_timeout: 60s
      docker_args: [--pids-limit=200, "--health-cmd=echo 'a b' $HOME"]

    """

    @Test func everyOptionBecomesExactArguments() throws {
        let inventory = try Fixture.load(Fixture.minimal + Self.options)
        let o = inventory.container.options
        #expect(o.arguments == ["--volume", "data:/app/storage", "--volume", "/srv/uploads:/app/uploads:ro", "--memory", "1g",
                                "--cpus", "1.5", "--user", "1001:1001", "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
                                "--init", "--label", "com.example.tier=web app", "--label", "team=shop", "--log-driver", "json-file",
                                "--log-opt", "max-size=10m", "--ulimit", "nofile=1024:2048", "--add-host", "db.internal:10.0.0.5",
                                "--stop-timeout", "60", "--pids-limit=200", "--health-cmd=echo 'a b' $HOME"])
        #expect(FleetConf.render(inventory, host: "web1").contains("STOP_TIMEOUT=60\n"))
        // The plan shows them, and bash reads the file back word for word.
        let plan = try PlanBuilder.build(try PlanTests.input(inventory))
        #expect(PlanRenderer.text(plan).contains("docker run ... --volume data:/app/storage"))
        #expect(PlanRenderer.text(plan).contains("per host    the swap takes at most 212s"))
        let file = NSTemporaryDirectory() + "fleet-args-\(UInt32.random(in: 0...UInt32.max))"
        try o.argumentsFile.write(toFile: file, atomically: true, encoding: .utf8)
        let (words, status) = runShell("bash -c 'mapfile -d \"\" -t a < \"$0\"; printf \"[%s]\\\\n\" \"${a[@]}\"' '\(file)'")
        #expect(status == 0)
        #expect(words == o.arguments.map { "[\($0)]\n" }.joined(), "\(words)")
    }

    @Test func shortFlagsThatAreNotFleetsPass() throws {
        let o = try Fixture.load(Fixture.minimal + "container: {docker_args: [-m512m, -u1000, --pids-limit=200, -v/data:/data]}\n").container.options
        #expect(o.dockerArgs == ["-m512m", "-u1000", "--pids-limit=200", "-v/data:/data"])
    }

    @Test func refusals() {
        for (yaml, words) in [
            ("container: {volumes: [relative/path]}\n", "HOST:CONTAINER"),
            ("container: {memory: lots}\n", "a size like 512m"),
            ("container: {docker_args: [--name=x]}\n", "--name, which fleet sets itself"),
            ("container: {docker_args: [\"-p\", \"80:80\"]}\n", "-p, which fleet sets itself"),
            // Short flags with their value attached, or clustered, as docker reads them.
            ("container: {docker_args: [-p8080:80]}\n", "-p, which fleet sets itself"),
            ("container: {docker_args: [-eSECRET=x]}\n", "-e, which fleet sets itself"),
            ("container: {docker_args: [-dit]}\n", "-d, which fleet sets itself"),
            ("container: {docker_args: [--network=host]}\n", "--network, which fleet sets itself"),
            ("container: {labels: {fleet.app: x}}\n", "fleet's own"),
            ("container: {cap_add: [\"net_admin; id\"]}\n", "a capability"),
            ("container: {stop_timeout: 2h}\n", "stop_timeout"),
            ("container: {memroy: 1g}\n", "did you mean 'memory'?"),
        ] {
            let error = Fixture.error(Fixture.minimal + yaml)
            #expect(error?.message.contains(words) == true, "\(yaml): \(String(describing: error))")
            #expect(error?.line != nil, "\(yaml)")
        }
    }
}
