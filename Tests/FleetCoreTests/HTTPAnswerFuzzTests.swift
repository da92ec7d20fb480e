import Foundation
import Testing
import TestSupport
@testable import FleetCore

/// Random and hostile server answers: the parser never crashes, never keeps more than its limits, and gives
/// the same result whatever pieces the bytes arrive in.
@Suite struct HTTPAnswerFuzzTests {
    static let valid = [
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nServer: x\r\n\r\n",
        "HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\nsto\r\n4\r\nred\n\r\n0\r\nX-T: 1\r\n\r\n",
        "HTTP/1.0 500 Internal Server Error\r\nConnection: close\r\n\r\nno thanks\n",
        "HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
    ]
    static let hostile = ["-1", "7fffffffffffffff", "ffffffffffffffffffffffff", "99999999999999999999", "9223372036854775807",
                          "\r\n", "\r\n\r\n", "\n", "\r", ":", ";", ",", "0", " ", "\t", "\u{0}", "\u{FF}", "HTTP/1.1 ",
                          "HTTP/1.1 100 Continue\r\n\r\n", "Transfer-Encoding: chunked\r\n", "Content-Length: ",
                          "Content-Length: -1\r\n", "Content-Length: 5\r\nContent-Length: 6\r\n", "0\r\n\r\n", "1000\r\n", "+", "0x"]

    static func mutate(_ bytes: inout [UInt8], _ rng: inout FuzzTests.Rng) {
        let pos = rng.below(bytes.count + 1)
        switch rng.below(7) {
        case 0: if pos < bytes.count { bytes.remove(at: pos) }
        case 1: bytes.insert(contentsOf: Array(hostile[rng.below(hostile.count)].utf8), at: pos)
        case 2: if pos < bytes.count { bytes[pos] = UInt8(truncatingIfNeeded: rng.next()) }
        case 3: if pos < bytes.count { bytes.removeSubrange(pos..<min(bytes.count, pos + rng.below(12))) }
        case 4:  // repeat a slice
            let slice = Array(bytes[pos..<min(bytes.count, pos + rng.below(30))])
            bytes.insert(contentsOf: slice, at: rng.below(bytes.count + 1))
        case 5: bytes.removeSubrange(min(pos, bytes.count)...)  // cut short
        default:  // a header's value replaced by a hostile one
            if let colon = bytes[pos...].firstIndex(of: UInt8(ascii: ":")) {
                let end = bytes[colon...].firstIndex(of: 13) ?? bytes.count
                bytes.replaceSubrange((colon + 1)..<end, with: Array(" \(hostile[rng.below(hostile.count)])".utf8))
            }
        }
    }

    /// Cut in 1 to 4 pieces at random places.
    static func pieces(_ bytes: [UInt8], _ rng: inout FuzzTests.Rng) -> [[UInt8]] {
        let cuts = (0..<rng.below(4)).map { _ in rng.below(bytes.count + 1) }.sorted()
        var result: [[UInt8]] = []
        var start = 0
        for cut in cuts + [bytes.count] {
            result.append(Array(bytes[start..<cut]))
            start = cut
        }
        return result
    }

    @Test func randomAndHostileAnswers() async {
        await onOwnThread {
            var rng = FuzzTests.Rng(state: 0x4854_5450)
            var outcomes: [String: Int] = [:]
            let cases = 120_000
            for round in 0..<cases {
                var bytes: [UInt8]
                if round % 4 == 0 {  // bytes at random, most of them after a valid status line
                    bytes = round % 8 == 0 ? [] : Array("HTTP/1.1 200 OK\r\n".utf8)
                    for _ in 0..<rng.below(48) { bytes.append(rng.below(5) == 0 ? [13, 10][rng.below(2)] : UInt8(truncatingIfNeeded: rng.next())) }
                } else {
                    bytes = Array(Self.valid[rng.below(Self.valid.count)].utf8)
                    for _ in 0...rng.below(4) { Self.mutate(&bytes, &rng) }
                }
                let closed = rng.below(2) == 0
                let whole = Parsed.of([bytes], closed: closed)
                let split = Parsed.of(Self.pieces(bytes, &rng), closed: closed)
                #expect(whole == split, "round \(round): \(bytes)")
                switch whole {
                case .answer(let status, let body)?:
                    #expect((100...999).contains(status) && body.count <= HTTPResponseParser.maxBody, "round \(round)")
                    outcomes["answer", default: 0] += 1
                case .failed(let error)?:
                    #expect(!error.description.isEmpty)
                    outcomes[Mirror(reflecting: error).children.first?.label ?? "\(error)", default: 0] += 1
                case nil:
                    #expect(!closed, "round \(round): closed, yet neither an answer nor an error")
                    outcomes["more", default: 0] += 1
                }
            }
            // The cases reach the parser's answers and several of its refusals, not only one of them.
            #expect(outcomes["answer", default: 0] > cases / 20, "\(outcomes)")
            #expect(outcomes.count >= 8, "\(outcomes)")
        }
    }
}
