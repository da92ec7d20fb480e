import Testing
@testable import FleetCore

/// Where an address goes, `[::1]:2222`, bare `::1`, `10.0.0.1:2222` and `web1.example.com:2222` are accepted.
@Suite struct AddressFormsTests {
    @Test func everyFormParses() throws {
        let inventory = try Fixture.load("""
        app: shop
        image: registry.example.com/acme/shop
        hosts:
          a: "[::1]:2222"
          b: "::1"
          c: 10.0.0.1:2200
          d: {address: "[fe80::1%eth0]", port: 2201}
          e: web5.example.com:2202
          f: {address: "[::2]:2203", port: 2203}

        """)
        let endpoints = inventory.hosts.map { "\($0.address) \($0.port)" }
        #expect(endpoints == ["::1 2222", "::1 22", "10.0.0.1 2200", "fe80::1%eth0 2201", "web5.example.com 2202", "::2 2203"])
    }

    @Test func refusals() {
        for (line, words) in [("a: \"[::1]:99999\"", "must be 1 to 65535"), ("a: \"10.0.0.1:x\"", "must be 1 to 65535"),
                              ("a: {address: \"[::1]:2222\", port: 2223}", "keep one"), ("a: \"[::1\"", "not an IPv4 or IPv6")] {
            let error = Fixture.error("app: shop\nimage: x\nhosts:\n  \(line)\n")
            #expect(error?.message.contains(words) == true, "\(line): \(String(describing: error))")
        }
    }
}
