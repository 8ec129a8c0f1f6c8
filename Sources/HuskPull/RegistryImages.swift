import FoundationEssentials
import HuskCore
import HuskOCI
import HuskRegistry
import HuskRuntime
import HuskSquash
import HuskTrust
import Logging

/// `docker://REF` → a converted image in the cache: the pull, the blob
/// cache and the conversion, as `husk pull` and `husk run docker://` share them.
/// As the runtime's RemoteImages, it fetches as `pull` says.
public struct RegistryImages: RemoteImages, Sendable {
    public var cacheRoot: String
    public var settings: RegistrySettings
    public var platform: Platform?
    public var jobs: Int
    public var showProgress: Bool
    /// The site's: which registries, and which images (revocations).
    public var policy: SitePolicy
    /// When a run asks the registry (`--pull`).
    public var pull: PullPolicy

    public init(cacheRoot: String, settings: RegistrySettings, platform: Platform? = nil,
                jobs: Int = 4, showProgress: Bool = false, policy: SitePolicy = SitePolicy(),
                pull: PullPolicy = .missing) {
        self.cacheRoot = cacheRoot
        self.settings = settings
        self.platform = platform
        self.jobs = jobs
        self.showProgress = showProgress
        self.policy = policy
        self.pull = pull
    }

    /// RemoteImages: the converted image for `reference`, fetched as `pull` says.
    public func image(_ reference: RegistryReference) throws -> String { try image(reference, policy: pull) }

    var blobs: BlobCache { BlobCache(root: cacheRoot) }
    var images: ImageCache { ImageCache(root: cacheRoot) }
    var puller: ImagePuller { ImagePuller(cache: blobs, platform: platform, jobs: jobs) }

    /// The path of the converted image for `reference`.
    public func image(_ reference: RegistryReference, policy: PullPolicy) throws -> String {
        try self.policy.checkRegistry(reference.host, image: "docker://\(reference)")
        if policy != .always {
            let puller = self.puller
            if let cached = try runBlocking({ await puller.cached(reference) }) {
                let signatures = self
                try runBlocking { try await signatures.vetSignatures(reference, manifest: cached.manifestDigest,
                                                                     fetch: policy != .never) }
                if let path = images.existing(cached.manifestDigest) { return path }
                if puller.blobsPresent(cached), let path = try? materialize(cached) { return path }
            }
            if policy == .never {
                throw HuskError(.notFound,
                    "docker://\(reference) is not in the cache \(cacheRoot) and --pull never forbids fetching it (run husk pull docker://\(reference) first)")
            }
        }
        return try materialize(try pull(reference))
    }

    /// Fetches the manifest and, unless its image is converted already (or
    /// `blobsOnly`), the blobs into the cache.
    /// The site's policy is checked before any request (the registry) and
    /// before any blob (the manifest's digests), then on the config's layers.
    public func pull(_ reference: RegistryReference, blobsOnly: Bool = false) throws -> PulledImage {
        let name = "docker://\(reference)"
        try policy.checkRegistry(reference.host, image: name)
        let client = try RegistryClient(registry: reference.host, settings: settings)
        let puller = self.puller
        let images = self.images
        let policy = self.policy
        let progress = TransferProgress(enabled: showProgress)
        let pulled = try runBlocking {
            try await client.using {
                try await puller.pull(reference, client: $0, progress: progress, needsBlobs: { image in
                    try policy.checkRevocation(of: name, Self.digests(of: image, diffIDs: []))
                    try await self.vetSignatures(reference, manifest: image.manifestDigest, fetch: true)
                    return blobsOnly || images.existing(image.manifestDigest) == nil
                })
            }
        }
        try policy.checkRevocation(of: name, Self.digests(of: pulled, diffIDs: diffIDs(of: pulled)))
        return pulled
    }

    /// What the registry says `reference` is made of (its manifest, and
    /// the config when cached), without fetching layers: `husk policy check`.
    public func digests(_ reference: RegistryReference) throws -> ImageDigests {
        try policy.checkRegistry(reference.host, image: "docker://\(reference)")
        let client = try RegistryClient(registry: reference.host, settings: settings)
        let puller = self.puller
        let pulled = try runBlocking {
            try await client.using {
                try await puller.pull(reference, client: $0, progress: TransferProgress(enabled: false),
                                      needsBlobs: { _ in false })
            }
        }
        return Self.digests(of: pulled, diffIDs: diffIDs(of: pulled))
    }

    /// The site's signature rule for an image (DESIGN.md §5), checked
    /// before any blob is fetched and for every run: the signatures kept in
    /// the cache, else (`fetch`) those of the lookaside store, which are
    /// then kept. Nothing to do where the site requires none.
    func vetSignatures(_ reference: RegistryReference, manifest: Digest, fetch: Bool) async throws {
        let rule = policy.signatureRule(for: reference.host)
        guard rule.required else { return }
        let scratch = try PrivateDirectory.prepare(HuskPaths(environment: ProcessInfo.processInfo.environment).scratch,
                                                   what: "a private GnuPG home")
        let kept = keptSignatures(manifest)
        if !kept.isEmpty, (try? policy.checkSignatures(kept, reference: reference, manifest: manifest, scratch: scratch)) != nil {
            return
        }
        guard fetch, let base = rule.lookaside else {
            _ = try policy.checkSignatures(kept, reference: reference, manifest: manifest, scratch: scratch)
            return
        }
        let fetched = try await LookasideStore(base: base).signatures(repository: reference.repository, digest: manifest)
        let signer = try policy.checkSignatures(fetched, reference: reference, manifest: manifest, scratch: scratch)
        HuskLog.logger.debug("docker://\(reference): signed by \(signer ?? "nobody required")")
        try keep(fetched, manifest: manifest)
    }

    func signaturesDirectory(_ manifest: Digest) -> String {
        "\(cacheRoot)/signatures/\(manifest.algorithm)/\(manifest.hex)"
    }

    func keptSignatures(_ manifest: Digest) -> [[UInt8]] {
        (1...64).lazy.map { FileManager.default.contents(atPath: "\(self.signaturesDirectory(manifest))/signature-\($0)") }
            .prefix { $0 != nil }.map { Array($0!) }
    }

    func keep(_ signatures: [[UInt8]], manifest: Digest) throws {
        let directory = signaturesDirectory(manifest)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (index, signature) in signatures.enumerated() {
            try FilePath.writeAtomically(signature, to: "\(directory)/signature-\(index + 1)")
        }
    }

    static func digests(of image: PulledImage, diffIDs: [Digest]) -> ImageDigests {
        ImageDigests(manifest: image.manifestDigest, config: image.manifest.config.digest,
                     layers: image.manifest.layers.map(\.digest), diffIDs: diffIDs)
    }

    /// The uncompressed layer digests from the cached config blob, if it is there.
    func diffIDs(of image: PulledImage) -> [Digest] {
        guard let bytes = blobs.readSmall(image.manifest.config.digest),
              let config = try? JSONDecoder().decode(ImageConfiguration.self, from: Data(bytes)) else { return [] }
        return config.rootfs?.diff_ids ?? []
    }

    /// The `.sqsh` for a pulled image: placed as it is for a Husk artifact,
    /// else converted (once; concurrent jobs share the result).
    public func materialize(_ image: PulledImage) throws -> String {
        if let path = images.existing(image.manifestDigest) { return path }
        if image.isHuskArtifact {
            guard image.manifest.layers.count == 1, let layer = image.manifest.layers.first,
                  layer.mediaType == HuskArtifact.layerType else {
                throw HuskError(.invalidManifest, "docker://\(image.reference): a Husk artifact must have exactly one \(HuskArtifact.layerType) layer")
            }
            return try images.placeArtifact(blob: blobs.path(layer.digest), manifest: image.manifestDigest)
        }
        return try images.converted(try image.resolved(in: blobs))
    }
}
