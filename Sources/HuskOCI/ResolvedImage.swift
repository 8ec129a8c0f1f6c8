import HuskCore

/// One image chosen from a source: its manifest, config and layers, with a
/// blob store to stream the layers from. Everything here has been verified
/// against its digest except the layers, which are verified as they stream.
public struct ResolvedImage {
    public var reference: ImageReference
    /// Digest of the manifest; nil for docker-archive, which has none.
    public var manifestDigest: Digest?
    public var configDigest: Digest
    /// The config exactly as stored (it is written verbatim into `/.husk/config.json`).
    public var configBytes: [UInt8]
    public var config: ImageConfiguration
    /// Bottom layer first, as in the manifest.
    public var layers: [Layer]
    public var store: BlobStore

    public struct Layer {
        public var descriptor: Descriptor
        /// How to open it: for most stores by digest; docker-archive layers by member name.
        public var open: () throws -> ByteSource
    }

    /// Identifies the image content for caches: manifest digest, else config digest.
    public var identity: Digest { manifestDigest ?? configDigest }

    public var platform: Platform? { config.platform }
}
