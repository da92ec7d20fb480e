import Foundation
import Testing
@testable import FleetCore

/// Compares text with `Golden/<name>` exactly. `FLEET_UPDATE_GOLDEN=1 swift test ...` rewrites the files.
enum Golden {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = dir.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["FLEET_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("missing golden file \(url.path); run with FLEET_UPDATE_GOLDEN=1 to create it", sourceLocation: sourceLocation)
            return
        }
        if expected != text {
            let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let b = text.split(separator: "\n", omittingEmptySubsequences: false)
            let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
            let want = i < a.count ? String(a[i]) : "<end>"
            let got = i < b.count ? String(b[i]) : "<end>"
            Issue.record("\(name) differs at line \(i + 1):\n  want: \(want)\n  got:  \(got)\n(FLEET_UPDATE_GOLDEN=1 rewrites it)",
                         sourceLocation: sourceLocation)
        }
    }

    /// A plan's JSON, cut along the plan's own seams so that no file grows with the hosts: the plan without its
    /// hosts and pre-flight hosts (`NAME.json`), then each host with its connection (`NAME-host-HOST.json`), each
    /// host's pre-flight steps (`NAME-preflight-HOST.json`; the first host's stage and the others' alike), and
    /// the steps after the stages (`NAME-end.json`: `onFailure`, run when the rollout halts, and `finally`, run
    /// always), every part as `fleet plan --json` renders it.
    static func checkPlanJSON(_ plan: Plan, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var rest = plan
        rest.hosts = []
        for host in plan.hosts {
            try check(PlanRenderer.json(host), "\(name)-host-\(host.name).json", sourceLocation: sourceLocation)
        }
        var preflight: [HostSteps] = []
        for index in plan.stages.indices where [.lock, .preflight].contains(plan.stages[index].kind) {
            preflight += plan.stages[index].hosts
            rest.stages[index].hosts = []
        }
        let end = EndSteps(onFailure: plan.onFailure, finally: plan.finally)
        (rest.onFailure, rest.finally) = ([], [])
        try check(PlanRenderer.json(rest), name + ".json", sourceLocation: sourceLocation)
        try check(PlanRenderer.json(end), name + "-end.json", sourceLocation: sourceLocation)
        for hostSteps in preflight {
            try check(PlanRenderer.json(hostSteps), "\(name)-preflight-\(hostSteps.host).json", sourceLocation: sourceLocation)
        }
    }
}

/// The plan's steps after its stages, as one golden file.
struct EndSteps: Encodable {
    var onFailure: [HostSteps]
    var finally: [HostSteps]
}
