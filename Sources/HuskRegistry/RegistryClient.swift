import AsyncHTTPClient
import FoundationEssentials
import Glibc
import HuskCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOSSL

/// An OCI distribution client for one registry (DESIGN.md §4): requests with
/// anonymous, Basic or Bearer-token auth, retries with backoff on 5xx and
/// dropped connections, redirects followed by hand so a credential is never
/// sent to another host. Passwords and tokens never reach a log or a message.
public final class RegistryClient: Sendable {
    public let endpoint: RegistryEndpoint
    let http: HTTPClient
    let credentials: RegistryCredentials?
    let tokens = TokenCache()
    /// Learned from the first challenge, so later requests authenticate up front.
    let challenge = NIOLockedValueBox<AuthChallenge?>(nil)
    let retryDelays: [Double] = [0.5, 1, 2, 4]
    let resolved = NIOLockedValueBox(false)
    static let userAgent = "husk/\(HuskVersion.current)"

    public init(registry: String, settings: RegistrySettings, credentials: RegistryCredentials? = nil) throws {
        endpoint = try RegistryEndpoint(name: registry, settings: settings)
        self.credentials = try credentials ?? settings.credentials.lookup(registry)
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: endpoint.useTLS ? try endpoint.tlsConfiguration() : nil,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(15), read: .seconds(120)))
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// Runs `body` and shuts the client down after it, whatever happens.
    public func using<T: Sendable>(_ body: (RegistryClient) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await shutdown()
            return result
        } catch {
            await shutdown()
            throw error
        }
    }

    // MARK: Requests

    /// One logical request; `body` is made anew for each attempt.
    struct Request: Sendable {
        var method: HTTPMethod
        var url: String
        var headers = HTTPHeaders()
        var body: (@Sendable () throws -> HTTPClientRequest.Body)?
        /// The token scope, e.g. `repository:lab/app:pull`.
        var scope: String
        /// For messages: "fetch manifest lab/app:1".
        var what: String
    }

    func url(_ path: String) -> String { endpoint.baseURL + path }

    /// Sends with auth, retries and redirects; returns any final status but
    /// 401 (turned into an error) for the caller to judge.
    func send(_ request: Request) async throws -> HTTPClientResponse {
        try checkHostResolves()
        var refreshedToken = false
        var sentBasic = false
        var attempt = 0
        var url = request.url
        var redirects = 0
        while true {
            var http = HTTPClientRequest(url: url)
            http.method = request.method
            http.headers = request.headers
            http.headers.replaceOrAdd(name: "User-Agent", value: Self.userAgent)
            if let body = request.body { http.body = try body() }
            let authorization = sameOrigin(url) ? try await authorization(scope: request.scope) : nil
            if let authorization {
                http.headers.replaceOrAdd(name: "Authorization", value: authorization)
                if authorization.hasPrefix("Basic ") { sentBasic = true }
            }
            let response: HTTPClientResponse
            do {
                // The deadline covers the body too: a big layer on a slow link
                // may take long; a stalled one hits the 120 s read timeout.
                response = try await self.http.execute(http, timeout: .hours(12))
            } catch {
                let failure = describe(error, what: request.what)
                if retryable(error), attempt < retryDelays.count {
                    HuskLog.logger.debug("\(request.what): \(failure.message); retrying")
                    try await pause(retryDelays[attempt]); attempt += 1
                    continue
                }
                throw failure
            }
            let status = response.status.code
            // Without the query: signed redirect URLs carry credentials there.
            HuskLog.logger.debug("\(request.method) \(url.prefix { $0 != "?" }) → \(status)")
            switch status {
            case 401:
                let header = response.headers.first(name: "WWW-Authenticate") ?? ""
                await drain(response)
                guard let challenge = AuthChallenge(header: header) else {
                    throw HuskError(.unauthorized, "\(endpoint.name): unauthorized to \(request.what), and the registry sent no usable challenge")
                }
                switch challenge.scheme {
                case "bearer":
                    if let authorization, authorization.hasPrefix("Bearer ") {
                        // An expired or too narrow token: fetch one once more.
                        guard !refreshedToken else { throw unauthorized(request) }
                        refreshedToken = true
                        await tokens.invalidate(request.scope, ifValue: String(authorization.dropFirst(7)))
                    }
                    self.challenge.withLockedValue { $0 = challenge }
                case "basic":
                    guard credentials != nil, !sentBasic else { throw unauthorized(request) }
                    self.challenge.withLockedValue { $0 = challenge }
                default:
                    throw HuskError(.unauthorized, "\(endpoint.name): unsupported authentication scheme \"\(challenge.scheme)\"")
                }
                continue
            case 301, 302, 303, 307, 308:
                guard let location = response.headers.first(name: "Location"), redirects < 5,
                      let next = URL(string: location, relativeTo: URL(string: url))?.absoluteString else {
                    throw HuskError(.registry, "\(endpoint.name): bad redirect while trying to \(request.what)")
                }
                await drain(response)
                url = next
                redirects += 1
                continue
            case 429, 500, 502, 503, 504:
                await drain(response)
                guard attempt < retryDelays.count else {
                    throw HuskError(.registry, "\(endpoint.name): the registry answered \(status) \(response.status.reasonPhrase) to \(request.what) \(attempt + 1) times; try again later")
                }
                var delay = retryDelays[attempt]
                if let after = response.headers.first(name: "Retry-After").flatMap(Double.init) { delay = min(max(after, delay), 30) }
                HuskLog.logger.debug("\(request.what): \(status); retrying in \(delay) s")
                try await pause(delay); attempt += 1
                continue
            default:
                return response
            }
        }
    }

    /// Scheme, host and port of the registry: the only place credentials go.
    private func sameOrigin(_ url: String) -> Bool {
        guard let target = URL(string: url), let base = URL(string: endpoint.baseURL) else { return false }
        return target.scheme == base.scheme && target.host == base.host && target.port == base.port
    }

    private func pause(_ seconds: Double) async throws {
        try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
    }

    private func unauthorized(_ request: Request) -> HuskError {
        if credentials != nil {
            return HuskError(.unauthorized, "login failed for \(endpoint.name): unauthorized")
        }
        return HuskError(.unauthorized, "\(endpoint.name): authentication required to \(request.what) (run husk login \(endpoint.name))")
    }

    /// What to send for `scope` before the registry asks, once it has told
    /// us how (its first challenge).
    private func authorization(scope: String) async throws -> String? {
        if let token = await tokens.cached(scope) { return "Bearer \(token)" }
        guard let challenge = challenge.withLockedValue({ $0 }) else { return nil }
        if challenge.scheme == "basic", let credentials { return "Basic \(credentials.basic)" }
        guard challenge.scheme == "bearer" else { return nil }
        let token = try await tokens.token(for: scope) { [self] in try await fetchToken(challenge, scope: scope) }
        return "Bearer \(token)"
    }

    private func fetchToken(_ challenge: AuthChallenge, scope: String) async throws -> TokenCache.Token {
        guard let realm = challenge.realm, var components = URLComponents(string: realm),
              let scheme = components.scheme, scheme == "https" || scheme == "http" else {
            throw HuskError(.unauthorized, "\(endpoint.name): the registry's token challenge has no usable realm")
        }
        if scheme == "http", credentials != nil, endpoint.useTLS, !RegistryEndpoint.isLoopback(components.host ?? "") {
            throw HuskError(.unauthorized, "\(endpoint.name): refusing to send credentials to the plain-HTTP token service \(components.host ?? "")")
        }
        var items = components.queryItems ?? []
        if let service = challenge.service { items.append(URLQueryItem(name: "service", value: service)) }
        for part in scope.split(separator: " ") { items.append(URLQueryItem(name: "scope", value: String(part))) }
        components.queryItems = items.isEmpty ? nil : items
        guard let url = components.string else {
            throw HuskError(.unauthorized, "\(endpoint.name): the token realm \(realm) is not a URL")
        }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: Self.userAgent)
        if let credentials { request.headers.add(name: "Authorization", value: "Basic \(credentials.basic)") }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(60))
        } catch {
            throw describe(error, what: "get a token from \(components.host ?? realm)")
        }
        HuskLog.logger.debug("GET \(components.host ?? "") token → \(response.status.code)")
        let body = try await collect(response, limit: 1 << 20, what: "token")
        switch response.status.code {
        case 200:
            struct TokenResponse: Decodable {
                var token: String?
                var access_token: String?
                var expires_in: Double?
            }
            guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: Data(body)),
                  let value = decoded.token ?? decoded.access_token, !value.isEmpty else {
                throw HuskError(.unauthorized, "\(endpoint.name): the token service sent no token")
            }
            return TokenCache.Token(value: value, expires: Date().addingTimeInterval(decoded.expires_in ?? 60))
        case 401, 403:
            if credentials != nil { throw HuskError(.unauthorized, "login failed for \(endpoint.name): unauthorized") }
            throw HuskError(.unauthorized, "\(endpoint.name): the token service refused anonymous access (run husk login \(endpoint.name))")
        default:
            throw HuskError(.registry, "\(endpoint.name): the token service answered \(response.status.code) \(response.status.reasonPhrase)")
        }
    }

    // MARK: Errors

    /// A clear line for a transport failure: unknown host, refused, TLS.
    func describe(_ error: Error, what: String) -> HuskError {
        if let error = error as? HuskError { return error }
        let text = String(describing: error)
        if error is NIOSSLError || error is BoringSSLError || text.contains("CERTIFICATE_VERIFY_FAILED")
            || text.contains("handshakeFailed") || text.contains("SSL") {
            if text.contains("WRONG_VERSION_NUMBER") {
                return HuskError(.tls, "\(endpoint.name) does not speak TLS: for a plain-HTTP registry on this machine add --insecure")
            }
            return HuskError(.tls,
                "TLS verification failed for \(endpoint.name) (\(Self.tlsReason(text))): trust its CA with --ca-cert FILE or certs.d/\(endpoint.name)/ca.crt")
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return HuskError(.network, "cannot connect to \(endpoint.name): timed out")
            case .readTimeout, .deadlineExceeded: return HuskError(.network, "\(endpoint.name): timed out while trying to \(what)")
            case .remoteConnectionClosed: return HuskError(.network, "\(endpoint.name): the connection closed while trying to \(what)")
            default: break
            }
        }
        if text.contains("connectionRefused") || text.contains("Connection refused") {
            return HuskError(.network, "cannot connect to \(endpoint.name): connection refused (is the registry running on that port?)")
        }
        return HuskError(.network, "\(endpoint.name): cannot \(what): \(text)")
    }

    static func tlsReason(_ text: String) -> String {
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") { return "certificate not trusted" }
        if text.contains("Hostname") || text.contains("hostname") { return "certificate is for another host name" }
        return "handshake failed"
    }

    func retryable(_ error: Error) -> Bool {
        if error is NIOSSLError || error is BoringSSLError { return false }
        if let error = error as? HTTPClientError {
            return error == .remoteConnectionClosed || error == .readTimeout || error == .connectTimeout
        }
        let text = String(describing: error)
        return text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("connectionReset")
    }

    /// A name that does not resolve fails fast with its own message instead
    /// of a NIO error after the retries.
    private func checkHostResolves() throws {
        if resolved.withLockedValue({ $0 }) { return }
        var host = endpoint.apiHost
        if host.hasPrefix("[") {
            host = String(host.dropFirst().prefix { $0 != "]" })
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        if let result { freeaddrinfo(result) }
        guard status == 0 else {
            let reason = status == EAI_NONAME || status == -5 /* EAI_NODATA */ ? "unknown host" : String(cString: gai_strerror(status))
            throw HuskError(.network, "cannot reach registry \(endpoint.name): \(reason) \(host) (check the name and the network)")
        }
        resolved.withLockedValue { $0 = true }
    }

    // MARK: Bodies

    func drain(_ response: HTTPClientResponse) async {
        _ = try? await response.body.collect(upTo: 1 << 20)
    }

    func collect(_ response: HTTPClientResponse, limit: Int, what: String) async throws -> [UInt8] {
        do {
            let buffer = try await response.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw HuskError(.invalidManifest, "\(endpoint.name): \(what) is larger than \(limit >> 20) MiB")
        } catch {
            throw describe(error, what: "read \(what)")
        }
    }

    /// An error for an unexpected status, using the registry's own error
    /// body (`{"errors":[{"code":"MANIFEST_UNKNOWN","message":...}]}`).
    func failure(_ response: HTTPClientResponse, _ what: String) async -> HuskError {
        let body = (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
        struct Errors: Decodable {
            struct Entry: Decodable { var code: String?; var message: String? }
            var errors: [Entry]?
        }
        let entry = (try? JSONDecoder().decode(Errors.self, from: Data(body)))?.errors?.first
        let detail = [entry?.code, entry?.message].compactMap { $0 }.joined(separator: ": ")
        let status = "\(response.status.code) \(response.status.reasonPhrase)"
        switch response.status.code {
        case 404:
            return HuskError(.notFound, "\(endpoint.name): not found: \(what) (\(detail.isEmpty ? status : detail))")
        case 403:
            return HuskError(.unauthorized, "\(endpoint.name): access denied to \(what) (\(detail.isEmpty ? status : detail))")
        default:
            return HuskError(.registry, "\(endpoint.name): cannot \(what): \(status)\(detail.isEmpty ? "" : " (\(detail))")")
        }
    }
}

extension HuskError.Code {
    public static let unauthorized = HuskError.Code(rawValue: "unauthorized")
    public static let network = HuskError.Code(rawValue: "network")
    public static let tls = HuskError.Code(rawValue: "tls")
    public static let registry = HuskError.Code(rawValue: "registry")
}
