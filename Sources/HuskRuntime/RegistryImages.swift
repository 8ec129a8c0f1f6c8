import Foundation
import HuskCore
import HuskOCI
import HuskRegistry
import HuskSquash

/// When `run|exec|shell docker://REF` asks the registry (Docker's `--pull`).
public enum PullPolicy: String, CaseIterable, Sendable {
    /// Always resolve the tag again; blobs and images already cached are reused.
    case always
    /// Use what the tag named when last pulled; fetch only when that is not cached.
    case missing
    /// Never use the network.
    case never
}

/// `docker://REF` → a converted image in the cache: the pull, the blob
/// cache and the conversion, as `husk pull` and `husk run docker://` share them.
public struct RegistryImages: Sendable {
    public var cacheRoot: String
    public var settings: RegistrySettings
    public var platform: Platform?
    public var jobs: Int
    public var showProgress: Bool

    public init(cacheRoot: String, settings: RegistrySettings, platform: Platform? = nil,
                jobs: Int = 4, showProgress: Bool = false) {
        self.cacheRoot = cacheRoot
        self.settings = settings
        self.platform = platform
        self.jobs = jobs
        self.showProgress = showProgress
    }

    var blobs: BlobCache { BlobCache(root: cacheRoot) }
    var images: ImageCache { ImageCache(root: cacheRoot) }
    var puller: ImagePuller { ImagePuller(cache: blobs, platform: platform, jobs: jobs) }

    /// The path of the converted image for `reference`.
    public func image(_ reference: RegistryReference, policy: PullPolicy) throws -> String {
        if policy != .always {
            let puller = self.puller
            if let cached = try runBlocking({ await puller.cached(reference) }) {
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
    public func pull(_ reference: RegistryReference, blobsOnly: Bool = false) throws -> PulledImage {
        let client = try RegistryClient(registry: reference.host, settings: settings)
        let puller = self.puller
        let images = self.images
        let progress = TransferProgress(enabled: showProgress)
        return try runBlocking {
            try await client.using {
                try await puller.pull(reference, client: $0, progress: progress,
                                      needsBlobs: { blobsOnly || images.existing($0.manifestDigest) == nil })
            }
        }
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
