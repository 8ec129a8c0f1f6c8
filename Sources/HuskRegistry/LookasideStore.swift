import AsyncHTTPClient
import FoundationEssentials
import HuskCore
import NIOCore
import NIOHTTP1

/// A lookaside signature store, as containers' registries.d configures one
/// (`lookaside`, once `sigstore`) and `skopeo copy --sign-by` fills: the
/// signatures of an image are BASE/REPOSITORY@ALGORITHM=HEX/signature-N for
/// N = 1, 2, … up to the first one missing. BASE is `http(s)://…` or
/// `file:///…` (a directory on a shared filesystem).
public struct LookasideStore: Sendable {
    public var base: String

    public init(base: String) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
    }

    static let maxSignatures = 64
    static let maxSize = 4 << 20

    /// The store's signatures for `digest` of `repository` (none: empty).
    public func signatures(repository: String, digest: Digest) async throws -> [[UInt8]] {
        let directory = "\(base)/\(repository)@\(digest.algorithm)=\(digest.hex)"
        if base.hasPrefix("file://") {
            return try local(String(directory.dropFirst("file://".count)))
        }
        guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
            throw HuskError(.usage, "lookaside \(base): use an http://, https:// or file:// URL")
        }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .follow(max: 3, allowCycles: false),
                                                     timeout: .init(connect: .seconds(15), read: .seconds(60)))
        configuration.connectionPool = .init(idleTimeout: .seconds(5))
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let found = try await remote(directory, http: http)
            try? await http.shutdown()
            return found
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private func remote(_ directory: String, http: HTTPClient) async throws -> [[UInt8]] {
        var found: [[UInt8]] = []
        for index in 1...Self.maxSignatures {
            let url = "\(directory)/signature-\(index)"
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "User-Agent", value: RegistryClient.userAgent)
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: .seconds(60))
            } catch {
                throw HuskError(.network, "lookaside store \(base): cannot fetch \(url) (\(error)); check the site policy's lookaside URL")
            }
            guard response.status.code != 404 else { break }
            guard response.status.code == 200 else {
                throw HuskError(.network, "lookaside store \(base): \(url) answered \(response.status.code) \(response.status.reasonPhrase)")
            }
            let body = try await response.body.collect(upTo: Self.maxSize)
            found.append(Array(body.readableBytesView))
        }
        return found
    }

    private func local(_ directory: String) throws -> [[UInt8]] {
        var found: [[UInt8]] = []
        for index in 1...Self.maxSignatures {
            guard let data = FileManager.default.contents(atPath: "\(directory)/signature-\(index)") else { break }
            guard data.count <= Self.maxSize else {
                throw HuskError(.invalidManifest, "lookaside store \(base): \(directory)/signature-\(index) is larger than 4 MiB")
            }
            found.append(Array(data))
        }
        return found
    }
}
