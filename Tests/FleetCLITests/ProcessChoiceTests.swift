import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// `--process P` of `fleet logs` and `fleet exec --container`: which hosts it reaches, and what a refusal says.
@Suite struct ProcessChoiceTests {
    static let inventory = """
    app: shop
    image: registry.example.com/acme/shop
    processes:
      web: {hosts: {tags: [web]}}
      job: {cmd: [bin/jobs], hosts: {tags: [worker]}}
    hosts:
      web1: {address: 10.0.0.11, tags: [web]}
      web2: {address: 10.0.0.12, tags: [web]}
      jobs1: {address: 10.0.0.13, tags: [worker]}
      jobs2: {address: 10.0.0.14, tags: [worker]}

    """

    /// `--process job --hosts web1`: the message names the selected host and the hosts that run job, each as
    /// what it is (not the process's hosts as "the selected hosts").
    @Test func aProcessOnNoneOfTheSelectedHostsNamesBoth() throws {
        let inventory = try InventoryLoader.load(path: try writeInventory(Self.inventory))
        let web1 = inventory.hosts.filter { $0.name == "web1" }
        let error = try #require(throws: InputError.self) { try ProcessChoice("job", inventory: inventory, hosts: web1) }
        let text = "\(error)"
        #expect(text.contains("none of the selected hosts (web1)"), "\(text)")
        #expect(text.contains("it runs on jobs1, jobs2 (hosts: tags worker)"), "\(text)")
        let chosen = try ProcessChoice("job", inventory: inventory, hosts: inventory.hosts)
        #expect(chosen.hosts.map(\.name) == ["jobs1", "jobs2"] && chosen.scriptArgs == ["--process", "job"])
    }
}
