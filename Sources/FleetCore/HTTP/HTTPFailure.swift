/// Why an exchange failed, before `HTTPPost` words it for people (without the URL's secret parts).
enum HTTPFailure: Error, Equatable {
    case timeout
    case refused
    case resolve(String)
    case network(String)
    case tls(String)
    /// The server answered, but not with a usable HTTP/1.x answer.
    case answer(HTTPAnswerError)
}
