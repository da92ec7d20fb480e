import Foundation
import Testing
@testable import FleetCore

/// Local files are checked before they are read and before any host is contacted; an env file's bad bytes are
/// refused naming the line, never showing the text.
@Suite struct LocalFileTests {
    static let secret = "hunter2-very-secret"

    func envError(_ text: String) -> InventoryError? {
        Fixture.error(Fixture.minimal + "env_file: production.env\n", files: [Fixture.envPath: text])
    }

    @Test func anEnvFileWithANulByteIsRefusedNamingTheLine() {
        let error = envError("A=1\nS=\(Self.secret)\0x\nB=2\n")
        #expect(error?.file == Fixture.envPath && error?.line == 2, "\(String(describing: error))")
        #expect(error?.message.contains("NUL") == true)
        #expect(error.map { !$0.description.contains(Self.secret) } == true)
    }

    @Test func crlfLineEndsAreRefusedOnTheFirstLine() {
        let error = envError("S=\(Self.secret)\r\nB=2\r\n")
        #expect(error?.line == 1, "\(String(describing: error))")
        #expect(error?.message.contains("carriage return") == true)
        #expect(error.map { !$0.description.contains(Self.secret) } == true)
    }

    @Test func invalidUTF8IsRefusedNamingTheLineNotTheBytes() throws {
        let path = try write([UInt8]("A=1\nB=2\nS=".utf8) + [0xC3, 0x28] + [UInt8]("\(Self.secret)\n".utf8))
        let error = #expect(throws: InventoryError.self) { _ = try LocalFile.readText(path, what: "env file", maxBytes: 1 << 20) }
        #expect(error?.line == 3 && error?.message.contains("not UTF-8") == true, "\(String(describing: error))")
        #expect(error.map { !$0.description.contains(Self.secret) } == true)
    }

    @Test func devicesDirectoriesAndFIFOsAreRefusedWithoutReading() throws {
        var settings = SSHSettings(user: "u", port: 22, identityFiles: ["/dev/zero"], knownHosts: "/nonexistent-\(getpid())",
                                   hostKeyPolicy: .acceptNew, connectTimeout: .seconds(5), parallel: 1)
        let device = #expect(throws: InventoryError.self) { try settings.checkLocalFiles() }
        #expect(device?.file == "/dev/zero" && device?.message.contains("a character device") == true, "\(String(describing: device))")

        settings.identityFiles = []
        settings.knownHosts = NSTemporaryDirectory()
        let folder = #expect(throws: InventoryError.self) { try settings.checkLocalFiles() }
        #expect(folder?.message.contains("a directory") == true)

        let fifo = NSTemporaryDirectory() + "fleet-fifo-\(UInt32.random(in: 0...UInt32.max))"
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        let pipe = #expect(throws: InventoryError.self) { _ = try LocalFile.read(fifo, what: "env file", maxBytes: 1 << 20) }
        #expect(pipe?.message.contains("FIFO") == true)

        settings.knownHosts = "/nonexistent-\(getpid())"  // may not exist yet: accept-new creates it
        settings.identityFiles = ["/nonexistent-key-\(getpid())"]
        let missing = #expect(throws: InventoryError.self) { try settings.checkLocalFiles() }
        #expect(missing?.message.contains("does not exist") == true)
    }

    @Test func aFileOverItsBoundIsRefused() throws {
        let path = try write([UInt8](repeating: 65, count: 2048))
        let error = #expect(throws: InventoryError.self) { _ = try LocalFile.read(path, what: "identity file", maxBytes: 1024) }
        #expect(error?.message.contains("over the 1024-byte limit") == true)
    }

    func write(_ bytes: [UInt8]) throws -> String {
        let path = NSTemporaryDirectory() + "fleet-local-\(UInt32.random(in: 0...UInt32.max))"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }
}
