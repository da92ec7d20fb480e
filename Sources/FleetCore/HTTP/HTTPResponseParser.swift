/// An HTTP/1.x answer read from bytes as they arrive: pure (no I/O, no clock), each byte looked at once
/// (linear time), every size checked before it is used, so no answer can make fleet crash, hang or hold
/// more than `maxHeader + maxBody` bytes. Interim 1xx answers are skipped.
///
/// `feed` the bytes of each read: it returns the answer once it is complete, nil while more is needed, or
/// throws what is wrong. When the server closes the connection, `finish` returns the answer if the
/// connection's end is where it ends, or throws.
struct HTTPResponseParser {
    /// All header bytes of one exchange: interim answers, the final answer's headers, a chunked body's trailer.
    static let maxHeader = 65_536
    /// The body kept (the callers keep one line of it).
    static let maxBody = 1 << 20
    /// One chunk-size line, extensions included.
    static let maxChunkLine = 4_096
    /// How every answer's head starts.
    private static let version = Array("HTTP/1.".utf8)

    private enum State: Equatable {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkEnd(sawCR: Bool)
        case trailer
        case untilClose
        case done
    }

    private var state = State.head
    /// The head, chunk-size line or trailer line being read.
    private var line: [UInt8] = []
    private var headerBytes = 0
    private var fedAny = false
    private var status = 0
    private var body: [UInt8] = []
    private var announced = 0

    /// The answer once complete, nil while more bytes are needed.
    mutating func feed(_ bytes: [UInt8]) throws(HTTPAnswerError) -> HTTPPost.Response? {
        if !bytes.isEmpty { fedAny = true }
        var i = 0
        while i < bytes.count {
            switch state {
            case .done:
                return answer  // bytes after the answer's end are not read (no second request is sent)
            case .head:
                try headByte(bytes[i])
                i += 1
            case .fixed(let remaining):
                let take = min(remaining, bytes.count - i)
                body += bytes[i..<(i + take)]
                i += take
                state = remaining == take ? .done : .fixed(remaining: remaining - take)
            case .chunkSize:
                try chunkSizeByte(bytes[i])
                i += 1
            case .chunkData(let remaining):
                let take = min(remaining, bytes.count - i)
                body += bytes[i..<(i + take)]
                i += take
                state = remaining == take ? .chunkEnd(sawCR: false) : .chunkData(remaining: remaining - take)
            case .chunkEnd(let sawCR):
                if bytes[i] == 13 && !sawCR {
                    state = .chunkEnd(sawCR: true)
                } else if bytes[i] == 10 {
                    state = .chunkSize
                } else {
                    throw .chunkNotEnded
                }
                i += 1
            case .trailer:
                try trailerByte(bytes[i])
                i += 1
            case .untilClose:
                let take = bytes.count - i
                guard take <= Self.maxBody - body.count else { throw .bodyTooLarge(announced: nil) }
                body += bytes[i...]
                i += take
            }
        }
        return state == .done ? answer : nil
    }

    /// The server closed the connection: the answer, when that is where it ends.
    mutating func finish() throws(HTTPAnswerError) -> HTTPPost.Response {
        switch state {
        case .done, .untilClose: return answer
        case .head: throw fedAny ? .closedEarly("before the answer's headers ended") : .noAnswer
        case .fixed(let remaining): throw .closedEarly("after \(body.count) of the \(body.count + remaining) body bytes announced")
        case .chunkSize, .chunkData, .chunkEnd, .trailer: throw .closedEarly("in the middle of the chunked body")
        }
    }

    private var answer: HTTPPost.Response { HTTPPost.Response(status: status, body: .init(body)) }

    private mutating func headByte(_ byte: UInt8) throws(HTTPAnswerError) {
        headerBytes += 1
        guard headerBytes <= Self.maxHeader else { throw .headersTooLong(limit: Self.maxHeader) }
        line.append(byte)
        if line.count <= Self.version.count && byte != Self.version[line.count - 1] { throw .notHTTP(HTTPAnswerError.shown(line)) }
        let n = line.count
        guard n >= 4, line[n - 4] == 13, line[n - 3] == 10, line[n - 2] == 13, byte == 10 else { return }
        let head = line[..<(n - 4)]
        line = []
        try startBody(head: head)
    }

    /// The head is complete: its status, and how its body is framed.
    private mutating func startBody(head: ArraySlice<UInt8>) throws(HTTPAnswerError) {
        let lines = Self.lines(head)
        status = try Self.status(lines[0])
        if status < 200 { return }  // interim (100 Continue...): the real answer's head follows
        var lengths: [ArraySlice<UInt8>] = []
        var codings: [ArraySlice<UInt8>] = []
        for field in lines.dropFirst() {
            guard let colon = field.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = Self.trimmed(field[..<colon])
            let values = Self.trimmed(field[(colon + 1)...]).split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            if Self.named(name, "content-length") { lengths += values.map(Self.trimmed) }
            if Self.named(name, "transfer-encoding") { codings += values.map(Self.trimmed) }
        }
        if status == 204 || status == 304 {
            state = .done
        } else if let last = codings.last {
            // Transfer-Encoding wins over Content-Length; a body not chunked last ends with the connection.
            state = Self.named(last, "chunked") ? .chunkSize : .untilClose
        } else if let first = lengths.first {
            let length = try Self.contentLength(first)
            for other in lengths.dropFirst() {
                guard try Self.contentLength(other) == length else {
                    throw .conflictingContentLength(HTTPAnswerError.shown(first), HTTPAnswerError.shown(other))
                }
            }
            announced = length
            state = length == 0 ? .done : .fixed(remaining: length)
        } else {
            state = .untilClose
        }
    }

    private mutating func chunkSizeByte(_ byte: UInt8) throws(HTTPAnswerError) {
        guard byte == 10 else {
            guard line.count < Self.maxChunkLine else { throw .chunkLineTooLong(limit: Self.maxChunkLine) }
            line.append(byte)
            return
        }
        var text = line[...]
        line = []
        if text.last == 13 { text = text.dropLast() }
        // The size, then optional whitespace and `;extensions`, which are not read.
        let digits = text.prefix { Self.hexValue($0) != nil }
        let rest = Self.trimmed(text[digits.endIndex...])
        guard !digits.isEmpty, rest.isEmpty || rest.first == UInt8(ascii: ";") else {
            throw .badChunkSize(HTTPAnswerError.shown(text))
        }
        let room = Self.maxBody - body.count
        var size = 0
        for digit in digits {
            // size <= room / 16 before the step and <= room after it: nothing can overflow.
            guard size <= room / 16 else { throw .chunkTooLarge(HTTPAnswerError.shown(digits), limit: Self.maxBody) }
            size = size * 16 + Int(Self.hexValue(digit) ?? 0)
            guard size <= room else { throw .chunkTooLarge(HTTPAnswerError.shown(digits), limit: Self.maxBody) }
        }
        state = size == 0 ? .trailer : .chunkData(remaining: size)
    }

    private mutating func trailerByte(_ byte: UInt8) throws(HTTPAnswerError) {
        headerBytes += 1
        guard headerBytes <= Self.maxHeader else { throw .headersTooLong(limit: Self.maxHeader) }
        guard byte == 10 else {
            line.append(byte)
            return
        }
        let empty = line.isEmpty || line == [13]
        line = []
        if empty { state = .done }
    }

    /// A Content-Length value: decimal digits only, at most `maxBody`.
    private static func contentLength(_ value: ArraySlice<UInt8>) throws(HTTPAnswerError) -> Int {
        guard !value.isEmpty, value.allSatisfy({ (48...57).contains($0) }) else { throw .badContentLength(HTTPAnswerError.shown(value)) }
        var length = 0
        for digit in value {
            // length <= maxBody / 10 before the step and <= maxBody after it: nothing can overflow.
            guard length <= maxBody / 10 else { throw .bodyTooLarge(announced: HTTPAnswerError.shown(value)) }
            length = length * 10 + Int(digit - 48)
            guard length <= maxBody else { throw .bodyTooLarge(announced: HTTPAnswerError.shown(value)) }
        }
        return length
    }

    /// `HTTP/1.x DDD[ reason]`: the status code.
    private static func status(_ line: ArraySlice<UInt8>) throws(HTTPAnswerError) -> Int {
        let bytes = Array(line)
        guard bytes.count >= 12, bytes[7] >= 48, bytes[7] <= 57, bytes[8] == 32,
              bytes[9...11].allSatisfy({ (48...57).contains($0) }), bytes.count == 12 || bytes[12] == 32,
              bytes[9] != 48 else { throw .notHTTP(HTTPAnswerError.shown(line)) }
        return bytes[9...11].reduce(0) { $0 * 10 + Int($1 - 48) }
    }

    /// The head's lines (separated by CRLF).
    private static func lines(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == 13, i + 1 < head.endIndex, head[i + 1] == 10 {
                lines.append(head[start..<i])
                i += 2
                start = i
            } else {
                i += 1
            }
        }
        lines.append(head[start..<head.endIndex])
        return lines
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let space: (UInt8) -> Bool = { $0 == 32 || $0 == 9 }
        guard let first = bytes.firstIndex(where: { !space($0) }), let last = bytes.lastIndex(where: { !space($0) }) else { return [] }
        return bytes[first...last]
    }

    /// Whether a header name (or coding) is `lowercase`, ignoring ASCII case.
    private static func named(_ bytes: ArraySlice<UInt8>, _ lowercase: String) -> Bool {
        bytes.count == lowercase.utf8.count
            && zip(bytes, lowercase.utf8).allSatisfy { ((65...90).contains($0) ? $0 + 32 : $0) == $1 }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 97...102: return byte - 87
        case 65...70: return byte - 55
        default: return nil
        }
    }
}
