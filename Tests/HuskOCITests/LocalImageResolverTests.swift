import Foundation
import Testing
import HuskCore
@testable import HuskOCI
import HuskTestSupport

@Suite struct LocalImageResolverTests {
    let amd64 = Platform(os: "linux", architecture: "amd64")
    let arm64 = Platform(os: "linux", architecture: "arm64")

    @Test func picksRequestedPlatformAndTag() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let a = try layout.image(platform: amd64, tag: "v1")
        let b = try layout.image(platform: arm64, tag: "v1")
        try layout.writeIndex([a, b])
        let image = try LocalImageResolver.resolve(try ImageReference(parsing: "oci:\(layout.root):v1"), platform: arm64)
        #expect(image.manifestDigest == b.digest)
        #expect(image.platform?.architecture == "arm64")
        #expect(image.layers.count == 1)
    }

    @Test func noMatchingPlatformNamesWhatExists() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        try layout.writeIndex([try layout.image(platform: Platform(os: "linux", architecture: "s390x"))])
        let error = try #require(throws: HuskError.self) {
            try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: amd64)
        }
        #expect(error.code == .noMatchingPlatform)
        #expect(error.message.contains("linux/s390x"))
    }

    @Test func unknownTagListsTags() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        try layout.writeIndex([try layout.image(platform: amd64, tag: "stable")])
        let error = try #require(throws: HuskError.self) {
            try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: .tag("nightly")), platform: nil)
        }
        #expect(error.message.contains("stable"))
    }

    @Test func tamperedManifestIsADigestMismatch() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        let manifest = try layout.image(platform: amd64)
        try layout.writeIndex([manifest])
        let path = "\(layout.root)/blobs/sha256/\(manifest.digest.hex)"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 2] = UInt8(ascii: " ")
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: HuskError.self) {
            try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        }
        #expect(error.code == .digestMismatch)
    }

    @Test func unknownLayerMediaTypeIsRefused() throws {
        let layout = try LayoutBuilder()
        defer { layout.remove() }
        try layout.writeIndex([try layout.image(platform: amd64, layerType: "application/vnd.example.blob")])
        let error = try #require(throws: HuskError.self) {
            try LocalImageResolver.resolve(.ociLayout(path: layout.root, selector: nil), platform: nil)
        }
        #expect(error.code == .unsupportedMediaType)
    }

    @Test func notALayout() throws {
        let dir = NSTemporaryDirectory() + "husk-empty-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let error = try #require(throws: HuskError.self) {
            try LocalImageResolver.resolve(.ociLayout(path: dir, selector: nil), platform: nil)
        }
        #expect(error.code == .invalidLayout)
        let missing = try #require(throws: HuskError.self) {
            try LocalImageResolver.resolve(.ociLayout(path: dir + "/nope", selector: nil), platform: nil)
        }
        #expect(missing.code == .notFound)
    }
}
