import FoundationEssentials

/// Bearer tokens by scope, fetched once however many requests want them at
/// the same time (parallel layer downloads share one token request).
actor TokenCache {
    struct Token: Sendable {
        var value: String
        var expires: Date
    }

    private var tokens: [String: Token] = [:]
    private var pending: [String: Task<Token, Error>] = [:]

    /// A cached token still valid for at least 10 s, if any.
    func cached(_ scope: String) -> String? {
        guard let token = tokens[scope], token.expires.timeIntervalSinceNow > 10 else { return nil }
        return token.value
    }

    func invalidate(_ scope: String, ifValue value: String) {
        if tokens[scope]?.value == value { tokens[scope] = nil }
    }

    func token(for scope: String, fetch: @escaping @Sendable () async throws -> Token) async throws -> String {
        if let value = cached(scope) { return value }
        if let task = pending[scope] { return try await task.value.value }
        let task = Task { try await fetch() }
        pending[scope] = task
        defer { pending[scope] = nil }
        let token = try await task.value
        tokens[scope] = token
        return token.value
    }
}
