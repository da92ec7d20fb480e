/// Runs one operation per host with at most `limit` in flight, and returns the results in the hosts' order.
/// A host's operation must not throw: failures are part of its result.
public func forEachHost<Result: Sendable>(
    _ hosts: [HostEntry], limit: Int,
    _ operation: @escaping @Sendable (HostEntry) async -> Result
) async -> [Result] {
    await withTaskGroup(of: (Int, Result).self) { group in
        var results = [Result?](repeating: nil, count: hosts.count)
        var next = 0
        let width = max(1, limit)
        while next < hosts.count && next < width {
            let index = next
            group.addTask { (index, await operation(hosts[index])) }
            next += 1
        }
        while let (index, result) = await group.next() {
            results[index] = result
            if next < hosts.count && !Task.isCancelled {
                let index = next
                group.addTask { (index, await operation(hosts[index])) }
                next += 1
            }
        }
        return results.compactMap { $0 }
    }
}
