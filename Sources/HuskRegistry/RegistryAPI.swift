import AsyncHTTPClient
import FoundationEssentials
import HuskCore
import HuskOCI
import NIOCore
import NIOHTTP1

/// The OCI distribution API endpoints Husk uses.
extension RegistryClient {
    static let manifestAccept = [MediaType.ociIndex, MediaType.ociManifest,
                                 MediaType.dockerManifestList, MediaType.dockerManifest].joined(separator: ", ")

    public struct FetchedManifest: Sendable {
        public var bytes: [UInt8]
        public var mediaType: String
        public var digest: Digest
    }

    static func pullScope(_ repository: String) -> String { "repository:\(repository):pull" }
    static func pushScope(_ repository: String) -> String { "repository:\(repository):pull,push" }

    /// `GET /v2/`: checks that the registry answers and accepts our credentials.
    public func checkLogin() async throws {
        let response = try await send(Request(method: .GET, url: url("/v2/"), scope: "", what: "log in"))
        guard response.status.code == 200 else { throw await failure(response, "log in") }
        await drain(response)
    }

    /// A manifest or index by tag or digest, verified: against the digest
    /// asked for, and against the digest the registry says it sent.
    public func fetchManifest(repository: String, reference: String) async throws -> FetchedManifest {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: Self.manifestAccept)
        let what = "manifest \(repository)\(reference.contains(":") ? "@" : ":")\(reference)"
        let response = try await send(Request(method: .GET, url: url("/v2/\(repository)/manifests/\(reference)"),
                                              headers: headers, scope: Self.pullScope(repository), what: "fetch \(what)"))
        guard response.status.code == 200 else { throw await failure(response, what) }
        let bytes = try await collect(response, limit: 4 << 20, what: what)
        let computed = Digest.sha256(of: bytes)
        if let wanted = try? Digest(parsing: reference), wanted.algorithm == "sha256", wanted != computed {
            throw HuskError(.digestMismatch, "\(endpoint.name): \(what): digest mismatch: content is \(computed)")
        }
        if let header = response.headers.first(name: "Docker-Content-Digest"),
           let claimed = try? Digest(parsing: header), claimed.algorithm == "sha256", claimed != computed {
            throw HuskError(.digestMismatch, "\(endpoint.name): \(what): digest mismatch: content is \(computed), the registry says \(claimed)")
        }
        var mediaType = response.headers.first(name: "Content-Type") ?? ""
        if let semicolon = mediaType.firstIndex(of: ";") { mediaType = String(mediaType[..<semicolon]) }
        if !MediaType.indexTypes.contains(mediaType) && !MediaType.manifestTypes.contains(mediaType) {
            mediaType = MediaType.sniff(bytes) ?? mediaType
        }
        return FetchedManifest(bytes: bytes, mediaType: mediaType, digest: computed)
    }

    /// `GET` a blob from `offset` on; the response is 200 (whole blob) or
    /// 206 (the rest, when the registry honours Range).
    public func openBlob(repository: String, digest: Digest, offset: Int64) async throws -> HTTPClientResponse {
        var headers = HTTPHeaders()
        if offset > 0 { headers.add(name: "Range", value: "bytes=\(offset)-") }
        let what = "blob \(digest.short) of \(repository)"
        let response = try await send(Request(method: .GET, url: url("/v2/\(repository)/blobs/\(digest)"),
                                              headers: headers, scope: Self.pullScope(repository), what: "fetch \(what)"))
        guard response.status.code == 200 || response.status.code == 206 else { throw await failure(response, what) }
        return response
    }

    public func blobExists(repository: String, digest: Digest) async throws -> Bool {
        let response = try await send(Request(method: .HEAD, url: url("/v2/\(repository)/blobs/\(digest)"),
                                              scope: Self.pushScope(repository), what: "check blob \(digest.short)"))
        await drain(response)
        switch response.status.code {
        case 200: return true
        case 404: return false
        default: throw await failure(response, "blob \(digest.short) of \(repository)")
        }
    }

    /// Cross-repository mount; false when the registry wants an upload instead.
    public func mountBlob(repository: String, digest: Digest, from source: String) async throws -> Bool {
        let query = "mount=\(digest)&from=\(source)"
        let response = try await send(Request(method: .POST, url: url("/v2/\(repository)/blobs/uploads/?\(query)"),
                                              scope: "\(Self.pushScope(repository)) \(Self.pullScope(source))",
                                              what: "mount blob \(digest.short) from \(source)"))
        await drain(response)
        switch response.status.code {
        case 201: return true
        case 202:
            // An upload session was opened instead; close it.
            if let location = response.headers.first(name: "Location"), let target = resolve(location) {
                let cancel = try? await send(Request(method: .DELETE, url: target, scope: Self.pushScope(repository),
                                                     what: "cancel upload"))
                if let cancel { await drain(cancel) }
            }
            return false
        default: throw await failure(response, "mount blob \(digest.short) into \(repository)")
        }
    }

    /// A monolithic upload: `POST` opens a session, one `PUT` sends the bytes.
    public func uploadBlob(repository: String, digest: Digest, size: Int64,
                           body: @escaping @Sendable () throws -> HTTPClientRequest.Body) async throws {
        let what = "blob \(digest.short) to \(repository)"
        let start = try await send(Request(method: .POST, url: url("/v2/\(repository)/blobs/uploads/"),
                                           scope: Self.pushScope(repository), what: "start upload of \(what)"))
        guard start.status.code == 202, let location = start.headers.first(name: "Location"),
              var target = resolve(location) else {
            throw await failure(start, "start upload of \(what)")
        }
        await drain(start)
        target += (target.contains("?") ? "&" : "?") + "digest=\(digest)"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/octet-stream")
        headers.add(name: "Content-Length", value: String(size))
        let response = try await send(Request(method: .PUT, url: target, headers: headers, body: body,
                                              scope: Self.pushScope(repository), what: "upload \(what)"))
        guard response.status.code == 201 else { throw await failure(response, "upload \(what)") }
        await drain(response)
    }

    /// Stores a manifest under a tag (or its digest); returns its digest.
    @discardableResult
    public func putManifest(repository: String, reference: String, bytes: [UInt8], mediaType: String) async throws -> Digest {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: mediaType)
        let what = "manifest \(repository):\(reference)"
        let payload = bytes
        let response = try await send(Request(method: .PUT, url: url("/v2/\(repository)/manifests/\(reference)"),
                                              headers: headers, body: { .bytes(payload) },
                                              scope: Self.pushScope(repository), what: "push \(what)"))
        guard response.status.code == 201 else { throw await failure(response, "push \(what)") }
        await drain(response)
        return Digest.sha256(of: bytes)
    }

    /// An absolute URL for a `Location` header, which may be relative.
    func resolve(_ location: String) -> String? {
        URL(string: location, relativeTo: URL(string: endpoint.baseURL + "/"))?.absoluteString
    }
}

extension MediaType {
    /// The media type a manifest's JSON declares, or what its shape implies.
    public static func sniff(_ bytes: [UInt8]) -> String? {
        struct Probe: Decodable {
            var mediaType: String?
            var manifests: [Descriptor]?
            var config: Descriptor?
        }
        guard let probe = try? JSONDecoder().decode(Probe.self, from: Data(bytes)) else { return nil }
        if let type = probe.mediaType { return type }
        if probe.manifests != nil { return ociIndex }
        if probe.config != nil { return ociManifest }
        return nil
    }
}
