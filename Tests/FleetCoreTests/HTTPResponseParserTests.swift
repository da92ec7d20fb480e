import Foundation
import Testing
import TestSupport
@testable import FleetCore

/// What a parse gave: the answer (status and body), what was wrong, or nil (more bytes needed).
enum Parsed: Equatable {
    case answer(Int, [UInt8])
    case failed(HTTPAnswerError)

    /// Feeds `pieces` in order; then, when `closed` and no answer yet, the connection's end.
    static func of(_ pieces: [[UInt8]], closed: Bool) -> Parsed? {
        var parser = HTTPResponseParser()
        do {
            for piece in pieces {
                if let answer = try parser.feed(piece) { return .answer(answer.status, Array(answer.body)) }
            }
            guard closed else { return nil }
            let answer = try parser.finish()
            return .answer(answer.status, Array(answer.body))
        } catch {
            return .failed(error)
        }
    }

    static func of(_ text: String, closed: Bool = false) -> Parsed? { of([Array(text.utf8)], closed: closed) }
    static func ok(_ status: Int, _ body: String) -> Parsed { .answer(status, Array(body.utf8)) }
}

@Suite("The HTTP answer parser: each answer it cannot use is an error, never a crash or a hang")
struct HTTPResponseParserTests {
    let limit = HTTPResponseParser.maxBody

    @Test func wellFormedAnswers() {
        #expect(Parsed.of("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") == .ok(200, "ok"))
        #expect(Parsed.of("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok") == nil)
        #expect(Parsed.of("HTTP/1.1 200 OK\r\ncontent-length:  2 \r\n\r\nokEXTRA") == .ok(200, "ok"))
        #expect(Parsed.of("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok") == .ok(200, "ok"))
        #expect(Parsed.of("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n") == .ok(204, ""))
        #expect(Parsed.of("HTTP/1.0 500 Oops\r\n\r\nno length", closed: true) == .ok(500, "no length"))
        #expect(Parsed.of("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n") == .ok(200, ""))
        #expect(Parsed.of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n") == .ok(200, "ab"))
        #expect(Parsed.of("HTTP/1.1 202 A\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: -1\r\n\r\n"
            + "3;name=value\r\nsto\r\nA \r\nred and ok\r\n0\r\nX-Trailer: 1\r\n\r\n") == .ok(202, "stored and ok"))
        // A coding other than chunked last: the body ends with the connection.
        #expect(Parsed.of("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", closed: true) == .ok(200, "zz"))
    }

    /// Fed in pieces of any size, the answer is the same as fed at once.
    @Test func piecesDoNotMatter() {
        let text = Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".utf8)
        for size in 1...text.count {
            let pieces = stride(from: 0, to: text.count, by: size).map { Array(text[$0..<min($0 + size, text.count)]) }
            #expect(Parsed.of(pieces, closed: false) == .ok(200, "hello"), "pieces of \(size)")
        }
    }

    @Test func notHTTP() {
        #expect(Parsed.of("SSH-2.0-OpenSSH_9.2\r\n\r\n") == .failed(.notHTTP("S")))
        #expect(Parsed.of("HTTP/2 200\r\n\r\n") == .failed(.notHTTP("HTTP/2")))
        #expect(Parsed.of("HTTP/1.1 20 OK\r\n\r\n") == .failed(.notHTTP("HTTP/1.1 20 OK")))
        #expect(Parsed.of("HTTP/1.1 +20 OK\r\n\r\n") == .failed(.notHTTP("HTTP/1.1 +20 OK")))
        #expect(Parsed.of("HTTP/1.1 099\r\n\r\n") == .failed(.notHTTP("HTTP/1.1 099")))
    }

    /// Negative, non-numeric, huge, conflicting: each a named error (-1 once trapped: SIGILL, exit 132).
    @Test func contentLengths() {
        func length(_ values: String...) -> Parsed? {
            Parsed.of("HTTP/1.1 200 OK\r\n" + values.map { "Content-Length: \($0)\r\n" }.joined() + "\r\nok")
        }
        #expect(length("-1") == .failed(.badContentLength("-1")))
        #expect(length("+2") == .failed(.badContentLength("+2")))
        #expect(length("") == .failed(.badContentLength("")))
        #expect(length("two") == .failed(.badContentLength("two")))
        #expect(length("0x2") == .failed(.badContentLength("0x2")))
        #expect(length("2 2") == .failed(.badContentLength("2 2")))
        #expect(length("9223372036854775807") == .failed(.bodyTooLarge(announced: "9223372036854775807")))
        #expect(length("99999999999999999999999999") == .failed(.bodyTooLarge(announced: "99999999999999999999999999")))
        #expect(length("\(limit + 1)") == .failed(.bodyTooLarge(announced: "\(limit + 1)")))
        #expect(length("\(limit)") == nil)
        #expect(length("2", "3") == .failed(.conflictingContentLength("2", "3")))
        #expect(length("2, -1") == .failed(.badContentLength("-1")))
        #expect(HTTPAnswerError.badContentLength("-1").description == "Content-Length \"-1\" is not a byte count")
    }

    /// Chunk sizes that overflow an Int (7fffffffffffffff once trapped), that pass the limit, that are not hex.
    @Test func chunkSizes() {
        func chunk(_ size: String, _ rest: String = "ok\r\n0\r\n\r\n") -> Parsed? {
            Parsed.of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\n\(rest)")
        }
        #expect(chunk("7fffffffffffffff") == .failed(.chunkTooLarge("7fffffffffffffff", limit: limit)))
        #expect(chunk("ffffffffffffffffffffffffffffffff") == .failed(.chunkTooLarge("ffffffffffffffffffffffffffffffff", limit: limit)))
        #expect(chunk("100001") == .failed(.chunkTooLarge("100001", limit: limit)))
        #expect(chunk("00000000000000000000002") == .ok(200, "ok"))
        #expect(chunk("2 ; ext") == .ok(200, "ok"))
        #expect(chunk("-1") == .failed(.badChunkSize("-1")))
        #expect(chunk("zz") == .failed(.badChunkSize("zz")))
        #expect(chunk("") == .failed(.badChunkSize("")))
        #expect(chunk("2 3") == .failed(.badChunkSize("2 3")))
        #expect(chunk("1") == .failed(.chunkNotEnded))
        // Two chunks that each fit but not together.
        let half = String(limit / 2, radix: 16)
        let two = "\(half)\r\n" + String(repeating: "x", count: limit / 2) + "\r\n\(half)\r\n" + String(repeating: "x", count: limit / 2)
        #expect(Parsed.of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + two + "\r\n0\r\n\r\n")?.bodyCount == limit)
        #expect(chunk(two + "\r\n1") == .failed(.chunkTooLarge("1", limit: limit)))
        #expect(chunk(String(repeating: "0", count: 5000)) == .failed(.chunkLineTooLong(limit: HTTPResponseParser.maxChunkLine)))
    }

    @Test func endlessHeaders() {
        let filler = String(repeating: "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", count: 2000)
        #expect(Parsed.of("HTTP/1.1 200 OK\r\n" + filler) == .failed(.headersTooLong(limit: HTTPResponseParser.maxHeader)))
        let interim = String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: 3000)
        #expect(Parsed.of(interim) == .failed(.headersTooLong(limit: HTTPResponseParser.maxHeader)))
        let trailer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + filler
        #expect(Parsed.of(trailer) == .failed(.headersTooLong(limit: HTTPResponseParser.maxHeader)))
        // No head end at all, in pieces: the same error once the limit is passed.
        #expect(Parsed.of(Array(repeating: Array("HTTP/1.1 200 OK\r\nX: 1\r\n".utf8), count: 5000), closed: false)
            == .failed(.headersTooLong(limit: HTTPResponseParser.maxHeader)))
    }

    @Test func bodyPastTheLimit() {
        let head = Array("HTTP/1.1 200 OK\r\n\r\n".utf8)
        #expect(Parsed.of([head] + Array(repeating: [UInt8](repeating: 120, count: 65_536), count: 17), closed: true)
            == .failed(.bodyTooLarge(announced: nil)))
        #expect(Parsed.of([head] + Array(repeating: [UInt8](repeating: 120, count: 65_536), count: 16), closed: true)?.bodyCount == limit)
    }

    @Test func closedEarly() {
        #expect(Parsed.of([], closed: true) == .failed(.noAnswer))
        #expect(Parsed.of("HTTP/1.1 200 OK\r\nContent-Le", closed: true) == .failed(.closedEarly("before the answer's headers ended")))
        #expect(Parsed.of("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nonly6b", closed: true)
            == .failed(.closedEarly("after 6 of the 10 body bytes announced")))
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        for cut in ["", "1", "10\r\n", "10\r\nonly8byt", "2\r\nok", "2\r\nok\r", "2\r\nok\r\n0\r\n", "2\r\nok\r\n0\r\nX: 1\r\n"] {
            #expect(Parsed.of(chunked + cut, closed: true) == .failed(.closedEarly("in the middle of the chunked body")), "\(cut)")
        }
    }

    /// 60,000 header bytes and a 200,000-byte chunked body fed one byte at a time: each byte is looked at once
    /// (a parser that reads its input again from the start at each read would not finish).
    @Test func oneByteAtATimeIsLinear() async {
        await onOwnThread {
            let head = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", count: 1100)
                + "Transfer-Encoding: chunked\r\n\r\n"
            let body = String(repeating: "1000\r\n" + String(repeating: "y", count: 4096) + "\r\n", count: 50) + "0\r\n\r\n"
            let bytes = Array((head + body).utf8)
            var parser = HTTPResponseParser()
            var answer: HTTPPost.Response?
            for byte in bytes where answer == nil { answer = try? parser.feed([byte]) }
            #expect(answer?.body.count == 50 * 4096)
        }
    }
}

extension Parsed {
    var bodyCount: Int? {
        if case .answer(_, let body) = self { return body.count }
        return nil
    }
}
