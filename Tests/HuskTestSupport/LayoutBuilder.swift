import Foundation
import HuskCore
import HuskOCI

/// Builds small OCI layouts on disk (blobs are JSON or arbitrary bytes).
public struct LayoutBuilder {
    public let root: String

    public init() throws {
        root = NSTemporaryDirectory() + "husk-layout-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/blobs/sha256", withIntermediateDirectories: true)
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: URL(fileURLWithPath: root + "/oci-layout"))
    }

    public func remove() { try? FileManager.default.removeItem(atPath: root) }

    @discardableResult
    public func blob(_ bytes: [UInt8], mediaType: String, platform: Platform? = nil,
              annotations: [String: String]? = nil) throws -> Descriptor {
        let digest = Digest.sha256(of: bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: "\(root)/blobs/sha256/\(digest.hex)"))
        return Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count), platform: platform,
                          annotations: annotations)
    }

    public func json<T: Encodable>(_ value: T) throws -> [UInt8] { Array(try JSONEncoder().encode(value)) }

    /// An image with one (fake) layer for `platform`, returning its manifest descriptor.
    public func image(platform: Platform, tag: String? = nil, layerType: String = MediaType.ociLayerGzip) throws -> Descriptor {
        let config = #"{"architecture":"\#(platform.architecture)","os":"\#(platform.os)","rootfs":{"type":"layers","diff_ids":[]}}"#
        let configDescriptor = try blob(Array(config.utf8), mediaType: MediaType.ociConfig)
        let layer = try blob([1, 2, 3], mediaType: layerType)
        let manifest = ImageManifest(schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDescriptor,
                                     layers: [layer])
        return try blob(json(manifest), mediaType: MediaType.ociManifest, platform: platform,
                        annotations: tag.map { ["org.opencontainers.image.ref.name": $0] })
    }

    public func writeIndex(_ manifests: [Descriptor]) throws {
        let index = ImageIndex(schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: manifests)
        try Data(json(index)).write(to: URL(fileURLWithPath: root + "/index.json"))
    }
}

