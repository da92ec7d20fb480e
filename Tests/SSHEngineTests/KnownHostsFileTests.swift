import Testing
@testable import SSHEngine

/// known_hosts parsed once into an index: which lines name a host, as OpenSSH reads them.
@Suite struct KnownHostsFileTests {
    // Written by `ssh-keygen -H` for web1.example.com and [web2.example.com]:2222.
    let hashedWeb1 = "|1|hqbAvd5XBqTjOI2W06hcGEmcPvk=|5nT//OjGd/nlisUvpBsZidkJ4P0= ssh-ed25519 AAAAkey1"
    let hashedWeb2 = "|1|7wUMa3d3VGYYNToPhvmqrJT7w+Q=|IAmMtHyeAd25c0zcq59hbQt38jE= ssh-ed25519 AAAAkey2"

    @Test func plainNamesListsAndPorts() {
        let file = KnownHostsFile.parse("""
            # a comment
            web1,10.0.0.1 ssh-ed25519 AAAAone comment here
            [web1]:2222 ecdsa-sha2-nistp256 AAAAtwo
            WEB3 ssh-ed25519 AAAAthree

            """)
        #expect(file.entries(for: "web1").map(\.keyPart) == ["ssh-ed25519 AAAAone comment here"])
        #expect(file.entries(for: "10.0.0.1").map(\.line) == [2])
        #expect(file.entries(for: "[web1]:2222").map(\.keyPart) == ["ecdsa-sha2-nistp256 AAAAtwo"])
        #expect(file.entries(for: "web3").count == 1)  // host names compare without case, as OpenSSH's do
        #expect(file.entries(for: "web2").isEmpty)
    }

    @Test func hashedNamesAsSshKeygenWritesThem() {
        let file = KnownHostsFile.parse(hashedWeb1 + "\n" + hashedWeb2 + "\n")
        #expect(file.entries(for: "web1.example.com").map(\.keyPart) == ["ssh-ed25519 AAAAkey1"])
        #expect(file.entries(for: "[web2.example.com]:2222").map(\.keyPart) == ["ssh-ed25519 AAAAkey2"])
        #expect(file.entries(for: "web2.example.com").isEmpty)
    }

    @Test func patternsWithNegation() {
        let file = KnownHostsFile.parse("*.example.com,!bad.example.com ssh-ed25519 AAAAwild\nweb? ssh-ed25519 AAAAq\n")
        #expect(file.entries(for: "a.example.com").count == 1)
        #expect(file.entries(for: "bad.example.com").isEmpty)
        #expect(file.entries(for: "example.com").isEmpty)
        #expect(file.entries(for: "web7").map(\.keyPart) == ["ssh-ed25519 AAAAq"])
        #expect(file.entries(for: "web10").isEmpty)
    }

    @Test func revokedAndCertificateAuthorityLines() {
        let file = KnownHostsFile.parse("""
            @revoked * ssh-ed25519 AAAArevoked
            @cert-authority *.corp.example ssh-ed25519 AAAAca
            web1.corp.example ssh-ed25519 AAAAown
            """)
        #expect(file.revoked == ["AAAArevoked"])
        #expect(file.entries(for: "web1.corp.example").map(\.keyPart) == ["ssh-ed25519 AAAAown"])
        #expect(file.certificateAuthorityLines(for: "web2.corp.example") == [2])
        #expect(file.certificateAuthorityLines(for: "web2.other.example").isEmpty)
    }

    @Test func globMatchesAsOpenSSHDoes() {
        let cases: [(String, String, Bool)] = [("*", "anything", true), ("a*c", "abbbc", true), ("a*c", "abbbd", false),
                                               ("*.b.*", "a.b.c", true), ("??", "ab", true), ("??", "abc", false),
                                               ("", "", true), ("a*", "", false)]
        for (pattern, text, want) in cases {
            #expect(KnownHostsFile.glob(Array(pattern.utf8)[...], Array(text.utf8)[...]) == want, "\(pattern) ~ \(text)")
        }
    }
}
