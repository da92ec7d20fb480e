import Foundation
import Testing
@testable import FleetCore

/// The `fleet.*` labels are fleet's own (recovery and status read them): refused wherever an inventory can write a
/// label, `labels:` and every spelling docker_args has, for `container:` and each process's `options`.
@Suite struct ContainerOptionsLabelTests {
    static let base = "app: shop\nimage: registry.example.com/acme/shop\nhosts:\n  web1: 10.0.0.11\n"

    /// Each way docker run reads a label from its arguments (and `--label-file`, which fleet cannot read).
    static let spellings: [(args: String, shown: String)] = [
        ("[--label=fleet.version=v9]", "fleet.version=v9"),
        ("[--label, fleet.version=v9]", "fleet.version=v9"),
        ("[--pids-limit=200, -l, fleet.version=v9]", "fleet.version=v9"),
        ("[-lfleet.version=v9]", "fleet.version=v9"),
        ("[-l=fleet.version=v9]", "fleet.version=v9"),
        ("[--label=fleet.version]", "fleet.version"),
        ("[--label-file=/etc/labels]", "--label-file"),
        ("[--label-file, /etc/labels]", "--label-file"),
    ]

    @Test func everySpellingInDockerArgsIsRefusedWithFileAndLine() {
        let places: [(yaml: (String) -> String, key: String, line: Int)] = [
            ({ "container:\n  docker_args: \($0)\n" }, "container.docker_args", 6),
            ({ "processes:\n  web: {options: {docker_args: \($0)}}\n" }, "processes.web.options.docker_args", 6),
            ({ "processes:\n  web: {}\n  job:\n    options:\n      docker_args: \($0)\n" }, "processes.job.options.docker_args", 9),
        ]
        for place in places {
            for spelling in Self.spellings {
                let yaml = Self.base + place.yaml(spelling.args)
                let error = Fixture.error(yaml)
                let message = error?.message ?? ""
                #expect(message.contains("'\(place.key)'") && message.contains(spelling.shown), "\(spelling.args): \(message)")
                #expect(message.contains("fleet's own"), "\(spelling.args): \(message)")
                #expect(error?.file == Fixture.file && error?.line == place.line, "\(spelling.args): \(String(describing: error))")
            }
        }
    }

    @Test func labelsOfAProcessAreRefusedToo() {
        let error = Fixture.error(Self.base + "processes:\n  web: {}\n  job: {options: {labels: {fleet.process: web}}}\n")
        #expect(error?.message.contains("fleet.process") == true && error?.line == 7, "\(String(describing: error))")
    }

    @Test func otherLabelsThroughDockerArgsPass() throws {
        let args = "[--label=team=shop, --label, tier=web, -l, fleetwood=mac, -lx=1, --label=fleet=1, --label-filex=1]"
        let inventory = try Fixture.load(Self.base + "container: {docker_args: \(args)}\n")
        #expect(inventory.container.options.dockerArgs.count == 8)
    }
}
