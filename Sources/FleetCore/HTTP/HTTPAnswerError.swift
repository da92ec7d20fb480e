/// What is wrong with a server's answer (`HTTPResponseParser`), in words for the warning that names the URL.
/// Values quoted from the answer are shown printable and short.
enum HTTPAnswerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The connection closed before any byte of an answer.
    case noAnswer
    /// The answer does not start with an `HTTP/1.x DDD` status line (what it starts with).
    case notHTTP(String)
    case headersTooLong(limit: Int)
    /// A Content-Length that is not a decimal byte count (negative, empty, letters...).
    case badContentLength(String)
    case conflictingContentLength(String, String)
    /// A body over `HTTPResponseParser.maxBody`: announced by a Content-Length, or received (nil).
    case bodyTooLarge(announced: String?)
    /// A chunk-size line that is not a hexadecimal size.
    case badChunkSize(String)
    /// A chunk whose size (hexadecimal) takes the body over the limit, however large the number.
    case chunkTooLarge(String, limit: Int)
    case chunkLineTooLong(limit: Int)
    /// A chunk's data not followed by CRLF.
    case chunkNotEnded
    /// The connection closed early (where).
    case closedEarly(String)

    var description: String {
        switch self {
        case .noAnswer: return "the server closed the connection without an answer"
        case .notHTTP(let start): return "not an HTTP/1.x answer (it starts \"\(start)\")"
        case .headersTooLong(let limit): return "the answer's headers go on past \(limit) bytes"
        case .badContentLength(let value): return "Content-Length \"\(value)\" is not a byte count"
        case .conflictingContentLength(let a, let b): return "two different Content-Length headers (\"\(a)\" and \"\(b)\")"
        case .bodyTooLarge(let announced):
            let limit = HTTPResponseParser.maxBody
            if let announced { return "Content-Length \(announced) is over the \(limit) bytes fleet reads of an answer" }
            return "the answer's body goes on past the \(limit) bytes fleet reads of an answer"
        case .badChunkSize(let line): return "chunk size \"\(line)\" is not a hexadecimal number"
        case .chunkTooLarge(let size, let limit): return "a chunk of 0x\(size) bytes takes the body past the \(limit) bytes fleet reads of an answer"
        case .chunkLineTooLong(let limit): return "a chunk-size line goes on past \(limit) bytes"
        case .chunkNotEnded: return "a chunk's data is not followed by CRLF (the chunk is longer than its size says)"
        case .closedEarly(let when): return "the server closed the connection \(when)"
        }
    }

    /// Bytes of the answer as they may appear in a message: printable ASCII, at most 40 characters.
    static func shown(_ bytes: some Collection<UInt8>) -> String {
        let printable = bytes.prefix(41).map { (32...126).contains($0) ? Character(Unicode.Scalar($0)) : "?" }
        return printable.count > 40 ? String(printable.prefix(40)) + "..." : String(printable)
    }
}
