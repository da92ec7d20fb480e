import FleetCore
import Foundation
import Testing
@testable import FleetCLI

/// The live view's frames, drawn from events with a fixed clock: one line per host and a progress bar.
@Suite struct LiveViewTests {
    let t0 = ContinuousClock.now
    let plainASCII = LiveBoard.Style(color: false, unicode: false)

    func report(_ host: String, _ outcome: HostOutcome, error: String? = nil, code: Int32? = nil) -> HostReport {
        HostReport(host: host, outcome: outcome, phase: "deploy", batch: 1, exitCode: code, error: error, lastLines: [],
                   from: "v1", to: "v2", durationMs: 8100)
    }

    @Test func oneLinePerHostThenTheBar() {
        var board = LiveBoard(hosts: ["web1", "web2", "web3"], style: plainASCII, started: t0)
        board.stage("batch 1 of 2 (web1, web2)", now: t0)
        board.phase("web1", "deploy", batch: 1, now: t0)
        board.phase("web2", "deploy", batch: 1, now: t0 + .seconds(2))
        board.done(report("web2", .failed, error: "health check failed\nmore", code: 11))
        let frame = board.frame(now: t0 + .seconds(12), columns: 100, rows: 30)
        #expect(frame == [
            "> web1  batch 1  deploy       12s",
            "x web2  failed (8.1 s) in deploy, exit 11: health check failed",
            "  web3  waiting",
            "[######..............] 1/3 hosts done, 1 failed  0:12  batch 1 of 2 (web1, web2)",
        ])
    }

    @Test func aNewStageEndsEveryPhase() {
        var board = LiveBoard(hosts: ["web1", "web2"], style: plainASCII, started: t0)
        board.phase("web1", "pre-flight", batch: nil, now: t0)
        board.phase("web2", "pre-flight", batch: nil, now: t0)
        board.stage("batch 1 of 2 (web1)", now: t0 + .seconds(3))
        board.phase("web1", "deploy", batch: 1, now: t0 + .seconds(3))
        board.done(report("web1", .updated))
        let frame = board.frame(now: t0 + .seconds(20), columns: 100, rows: 30)
        #expect(frame[0] == "+ web1  updated v1 -> v2 (8.1 s)")
        board.phase("web1", "release", batch: nil, now: t0 + .seconds(21))
        #expect(board.frame(now: t0 + .seconds(21), columns: 100, rows: 30)[0] == frame[0])
        #expect(frame[1] == "  web2  pre-flight done, waiting")
        #expect(frame[2].hasPrefix("[##########..........] 1/2 hosts done  0:20"))
    }

    @Test func aFleetTallerThanTheTerminalShowsHostsAtWorkAndCountsTheRest() {
        let hosts = (1...100).map { "web\($0)" }
        var board = LiveBoard(hosts: hosts, style: plainASCII, started: t0)
        for host in hosts.prefix(40) { board.done(report(host, .updated)) }
        for host in hosts[40..<44] { board.phase(host, "deploy", batch: 2, now: t0) }
        let frame = board.frame(now: t0 + .seconds(5), columns: 80, rows: 10)
        #expect(frame.count <= 9)
        #expect(frame.prefix(4).allSatisfy { $0.hasPrefix(">") })
        #expect(frame[4] == "... 96 more: 40 done, 56 waiting")
        #expect(frame.allSatisfy { $0.count <= 79 })
    }

    @Test func linesAreClippedToTheTerminalAndColouredOnlyWhenAsked() {
        var board = LiveBoard(hosts: ["web1"], style: LiveBoard.Style(color: true, unicode: true), started: t0)
        board.done(report("web1", .failed, error: String(repeating: "e", count: 300), code: 11))
        let line = board.frame(now: t0, columns: 40, rows: 10)[0]
        #expect(line.hasPrefix("\u{1B}[31m✗ web1"))
        #expect(line.hasSuffix("…\u{1B}[0m"))
        #expect(line.count == 39 + "\u{1B}[31m".count + "\u{1B}[0m".count)
    }

    @Test func theViewRedrawsInPlaceAndKeepsMessagesAbove() {
        let captured = Captured()
        let view = LiveView(hosts: ["web1", "web2"], style: plainASCII, size: { TerminalSize(columns: 80, rows: 24) },
                            write: captured.context(environment: [:]).err)
        view.handle(.stage("pre-flight on 2 hosts"))
        view.log("warning: the image runs as root")
        view.handle(.phase(host: "web1", phase: "deploy", batch: 1))
        view.finish()
        view.log("after the end")
        let text = captured.err
        // Each redraw moves up over the 3 lines drawn before (2 hosts and the bar) and clears them.
        #expect(text.components(separatedBy: "\u{1B}[3F\u{1B}[J").count == 4)
        #expect(text.contains("-- pre-flight on 2 hosts\n"))
        #expect(text.contains("warning: the image runs as root\n"))
        #expect(text.hasSuffix("0/2 hosts done  0:00\nafter the end\n"))
    }

    @Test func progressChoosesLiveOnlyOnATerminalWithoutJSON() throws {
        var context = Captured().context(environment: ["TERM": "xterm"])
        func live(_ arguments: [String]) throws -> Bool {
            let deploy = try Deploy.parse(arguments)
            return Rollouts.useLiveView(context, json: deploy.json, progress: deploy.run.progress)
        }
        #expect(try !live(["v2"]))
        context.terminal = { TerminalSize(columns: 80, rows: 24) }
        #expect(try live(["v2"]))
        #expect(try !live(["--json", "v2"]))
        #expect(try !live(["--progress", "plain", "v2"]))
        context.environment["TERM"] = "dumb"
        #expect(try !live(["v2"]))
    }
}
