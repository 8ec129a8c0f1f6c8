import FoundationEssentials
import HuskCore
import HuskOCI

/// Media types of a Husk image pushed as a single-blob OCI artifact (the
/// `.sqsh` as the layer, `/.husk/config.json` as the config), as ORAS and
/// Apptainer do with their own types.
public enum HuskArtifact {
    public static let artifactType = "application/vnd.husk.image.v1"
    public static let configType = "application/vnd.husk.image.config.v1+json"
    public static let layerType = "application/vnd.husk.image.layer.v1.squashfs"

    public static func matches(_ manifest: ImageManifest) -> Bool {
        manifest.artifactType == artifactType || manifest.config.mediaType == configType
    }
}

/// A manifest chosen for a platform, with its blobs in the cache.
public struct PulledImage: Sendable {
    public var reference: RegistryReference
    public var manifestDescriptor: Descriptor
    public var manifest: ImageManifest

    public var manifestDigest: Digest { manifestDescriptor.digest }
    public var isHuskArtifact: Bool { HuskArtifact.matches(manifest) }

    /// The image for `ImageConverter`, reading its blobs from the cache.
    public func resolved(in cache: BlobCache) throws -> ResolvedImage {
        try LocalImageResolver.resolveManifest(reference: .registry(reference), descriptor: manifestDescriptor,
                                               manifest: manifest, store: cache)
    }
}

/// `docker://REF` → manifest for a platform → blobs, verified, in the cache.
public struct ImagePuller: Sendable {
    public let cache: BlobCache
    public var platform: Platform?
    public var jobs: Int

    public init(cache: BlobCache, platform: Platform?, jobs: Int) {
        self.cache = cache
        self.platform = platform
        self.jobs = max(1, jobs)
    }

    /// Asks the registry what the reference names now, then fetches what the
    /// cache lacks: config and layers in parallel (`jobs` at a time).
    /// `needsBlobs` says, once the manifest is known, whether its blobs are
    /// wanted (not when its converted image is already there); it may also
    /// refuse the image (the site's revocations) before any blob is fetched.
    public func pull(_ reference: RegistryReference, client: RegistryClient, progress: TransferProgress,
                     needsBlobs: (PulledImage) async throws -> Bool = { _ in true }) async throws -> PulledImage {
        let image = try await resolve(reference) { ref in
            let fetched = try await client.fetchManifest(repository: reference.repository, reference: ref)
            try cache.storeSmall(fetched.bytes, digest: fetched.digest)
            return fetched
        }
        let top = reference.digest ?? image.topDigest
        try cache.recordTag(reference, digest: top)
        if try await needsBlobs(image.pulled) {
            try await fetchBlobs(image.pulled, client: client, progress: progress)
        }
        return image.pulled
    }

    /// The image as last pulled, from the cache alone; nil when the cache
    /// lacks the tag or a manifest.
    public func cached(_ reference: RegistryReference) async -> PulledImage? {
        guard let top = cache.taggedDigest(reference) else { return nil }
        let cache = self.cache
        let fetch: (String) async throws -> RegistryClient.FetchedManifest = { ref in
            let digest: Digest = ref == reference.tag ? top : try Digest(parsing: ref)
            guard let bytes = cache.readSmall(digest) else {
                throw HuskError(.notFound, "\(digest) is not cached")
            }
            return RegistryClient.FetchedManifest(bytes: bytes, mediaType: MediaType.sniff(bytes) ?? "", digest: digest)
        }
        return try? await resolve(reference, fetch: fetch).pulled
    }

    public func blobsPresent(_ image: PulledImage) -> Bool {
        blobs(of: image).allSatisfy { FilePath.exists(cache.path($0.digest)) }
    }

    func blobs(of image: PulledImage) -> [Descriptor] {
        var seen = Set<Digest>()
        return ([image.manifest.config] + image.manifest.layers).filter { seen.insert($0.digest).inserted }
    }

    private func fetchBlobs(_ image: PulledImage, client: RegistryClient, progress: TransferProgress) async throws {
        let repository = image.reference.repository
        var pending = blobs(of: image)[...]
        try await withThrowingTaskGroup(of: Void.self) { group in
            func startNext() {
                guard let descriptor = pending.popFirst() else { return }
                group.addTask {
                    try await cache.ensure(descriptor, repository: repository, client: client, progress: progress)
                }
            }
            for _ in 0..<jobs { startNext() }
            while try await group.next() != nil { startNext() }
        }
    }

    struct Resolution {
        var pulled: PulledImage
        var topDigest: Digest
    }

    /// Tag or digest → (index → platform) → manifest.
    private func resolve(_ reference: RegistryReference,
                         fetch: (String) async throws -> RegistryClient.FetchedManifest) async throws -> Resolution {
        let name = "docker://\(reference)"
        let top = try await fetch(reference.digest?.description ?? reference.tag ?? "latest")
        var chosen = top
        if MediaType.indexTypes.contains(top.mediaType) {
            let index = try LocalImageResolver.decode(ImageIndex.self, top.bytes, what: "\(name) index")
            let descriptor = try Self.select(index.manifests, wanted: platform ?? Platform.host, explicit: platform != nil, name: name)
            chosen = try await fetch(descriptor.digest.description)
        }
        guard MediaType.manifestTypes.contains(chosen.mediaType) else {
            throw HuskError(.unsupportedMediaType,
                "\(name): unsupported manifest media type \"\(chosen.mediaType)\" (Husk reads OCI and Docker schema 2 images)")
        }
        let manifest = try LocalImageResolver.decode(ImageManifest.self, chosen.bytes, what: "\(name) manifest")
        let descriptor = Descriptor(mediaType: chosen.mediaType, digest: chosen.digest, size: Int64(chosen.bytes.count))
        return Resolution(pulled: PulledImage(reference: reference, manifestDescriptor: descriptor, manifest: manifest),
                          topDigest: top.digest)
    }

    /// The index entry for the platform. Registries declare platforms in
    /// the index; an index of one undeclared manifest is taken as it is.
    static func select(_ manifests: [Descriptor], wanted: Platform, explicit: Bool, name: String) throws -> Descriptor {
        if let match = manifests.first(where: { $0.platform?.satisfies(wanted) == true
                                                && MediaType.manifestTypes.contains($0.mediaType) }) {
            return match
        }
        if manifests.count == 1, manifests[0].platform == nil, !explicit { return manifests[0] }
        let available = Set(manifests.compactMap { $0.platform?.description }).sorted()
        throw HuskError(.noMatchingPlatform,
            "\(name): no manifest for platform \(wanted) (available: \(available.isEmpty ? "none declared" : available.joined(separator: ", "))); choose one with --platform")
    }
}
