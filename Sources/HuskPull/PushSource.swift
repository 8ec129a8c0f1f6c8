import FoundationEssentials
import HuskCore
import HuskOCI
import HuskRegistry
import HuskSquash

/// What `husk push` sends: blobs and a manifest, from an OCI layout or
/// archive, a docker-archive, or a Husk `.sqsh` (as a single-blob artifact).
public struct PushSource {
    public var blobs: [PushBlob]
    public var manifest: [UInt8]
    public var mediaType: String

    /// A local image source; `platform` picks from a multi-platform layout.
    public static func load(_ argument: String, platform: Platform?) throws -> PushSource {
        if argument.hasPrefix("oci:") || argument.hasPrefix("oci-archive:") || argument.hasPrefix("docker-archive:") {
            return try image(LocalImageResolver.resolve(try ImageReference(parsing: argument), platform: platform))
        }
        guard FilePath.exists(argument), !FilePath.isDirectory(argument) else {
            throw HuskError(.notFound, "\(argument): no such image (give FILE.sqsh, oci:DIR, oci-archive:FILE or docker-archive:FILE)")
        }
        return try artifact(argument)
    }

    /// The manifest exactly as stored when the source has one (so the pushed
    /// digest is the source's), else a new OCI manifest (docker-archive).
    static func image(_ image: ResolvedImage) throws -> PushSource {
        let store = UncheckedBox(image.store)
        var blobs = [PushBlob(descriptor: Descriptor(mediaType: MediaType.ociConfig, digest: image.configDigest,
                                                     size: Int64(image.configBytes.count)),
                              open: { [bytes = image.configBytes] in MemoryByteSource(bytes) })]
        var layers: [Descriptor] = []
        for layer in image.layers {
            let open = UncheckedBox(layer.open)
            var descriptor = layer.descriptor
            if descriptor.size < 0 {
                let (digest, size) = try ImagePusher.measure(open.value)
                descriptor = Descriptor(mediaType: MediaType.ociLayerTar, digest: digest, size: size)
            }
            layers.append(descriptor)
            blobs.append(PushBlob(descriptor: descriptor, open: { try open.value() }))
        }
        if let digest = image.manifestDigest, let raw = try store.value.openRaw(digest) {
            let bytes = try VerifyingByteSource(raw, digest: digest, size: nil, what: "manifest \(digest) in \(store.value.location)")
                .readAll(what: "manifest \(digest)")
            let mediaType = MediaType.sniff(bytes) ?? MediaType.ociManifest
            return PushSource(blobs: blobs, manifest: bytes, mediaType: mediaType)
        }
        let manifest = ImageManifest(config: blobs[0].descriptor, layers: layers)
        return PushSource(blobs: blobs, manifest: try encode(manifest), mediaType: MediaType.ociManifest)
    }

    /// `FILE.sqsh` as an OCI artifact: its `/.husk/config.json` as the config
    /// blob, the whole file as the one layer (DESIGN.md §4).
    static func artifact(_ path: String) throws -> PushSource {
        let reader = try SquashReader(path: path)
        let config = try reader.readFile(".husk/config.json") ?? Array("{}".utf8)
        let configDescriptor = Descriptor(mediaType: HuskArtifact.configType, digest: Digest.sha256(of: config),
                                          size: Int64(config.count))
        let (digest, size) = try ImagePusher.measure { try FileByteSource(path: path) }
        let name = String(path.split(separator: "/").last ?? "image.sqsh")
        let layer = Descriptor(mediaType: HuskArtifact.layerType, digest: digest, size: size,
                               annotations: ["org.opencontainers.image.title": name])
        let manifest = ImageManifest(artifactType: HuskArtifact.artifactType, config: configDescriptor, layers: [layer])
        return PushSource(blobs: [
            PushBlob(descriptor: configDescriptor, open: { MemoryByteSource(config) }),
            PushBlob(descriptor: layer, open: { try VerifyingByteSource(FileByteSource(path: path), digest: digest,
                                                                       size: size, what: path) }),
        ], manifest: try encode(manifest), mediaType: MediaType.ociManifest)
    }

    static func encode(_ manifest: ImageManifest) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(manifest))
    }
}

/// Blob stores and layer openers are used from one upload task at a time.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
