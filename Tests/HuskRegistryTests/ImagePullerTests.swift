import Foundation
import Testing
import HuskCore
import HuskOCI
@testable import HuskRegistry

@Suite struct ImagePullerTests {
    func descriptor(_ n: Int, _ platform: String?) throws -> Descriptor {
        Descriptor(mediaType: MediaType.ociManifest, digest: try Digest(parsing: "sha256:" + String(repeating: "\(n)", count: 64)),
                   size: 1, platform: try platform.map { try Platform(parsing: $0) })
    }

    @Test func selectsThePlatform() throws {
        let index = [try descriptor(1, "linux/arm64"), try descriptor(2, "linux/amd64"), try descriptor(3, "unknown/unknown")]
        let chosen = try ImagePuller.select(index, wanted: try Platform(parsing: "linux/amd64"), explicit: true, name: "x")
        #expect(chosen.digest == index[1].digest)
        let error = #expect(throws: HuskError.self) {
            try ImagePuller.select(index, wanted: try Platform(parsing: "linux/s390x"), explicit: true, name: "x")
        }
        #expect(error?.code == .noMatchingPlatform)
        #expect(error?.message.contains("linux/arm64") == true)
    }

    @Test func aSingleUndeclaredManifestIsTaken() throws {
        let only = [try descriptor(4, nil)]
        #expect(try ImagePuller.select(only, wanted: Platform.host, explicit: false, name: "x").digest == only[0].digest)
        #expect(throws: HuskError.self) { try ImagePuller.select(only, wanted: Platform.host, explicit: true, name: "x") }
    }

    @Test func sniffsManifestKinds() {
        #expect(MediaType.sniff(Array(#"{"schemaVersion":2,"manifests":[]}"#.utf8)) == MediaType.ociIndex)
        #expect(MediaType.sniff(Array(#"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}"#.utf8)) == MediaType.dockerManifest)
        #expect(MediaType.sniff(Array("not json".utf8)) == nil)
    }

    @Test func cacheRecordsTagsAndVerifiesSmallBlobs() throws {
        let root = NSTemporaryDirectory() + "husk-cache-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let cache = BlobCache(root: root)
        let bytes = Array(#"{"schemaVersion":2}"#.utf8)
        let digest = Digest.sha256(of: bytes)
        try cache.storeSmall(bytes, digest: digest)
        #expect(cache.readSmall(digest) == bytes)
        #expect(cache.isIntact(Descriptor(mediaType: "x", digest: digest, size: Int64(bytes.count))))
        // A byte flipped on disk: no longer intact, and not handed out.
        try Data(#"{"schemaVersion":3}"#.utf8).write(to: URL(fileURLWithPath: cache.path(digest)))
        #expect(!cache.isIntact(Descriptor(mediaType: "x", digest: digest, size: Int64(bytes.count))))
        #expect(cache.readSmall(digest) == nil)

        let reference = try RegistryReference(parsing: "127.0.0.1:5000/lab/app:1")
        #expect(cache.taggedDigest(reference) == nil)
        try cache.recordTag(reference, digest: digest)
        #expect(cache.taggedDigest(reference) == digest)
        let pinned = try RegistryReference(parsing: "127.0.0.1:5000/lab/app@\(digest)")
        #expect(cache.taggedDigest(pinned) == digest)
    }

    @Test func artifactRecognition() throws {
        let config = Descriptor(mediaType: HuskArtifact.configType, digest: Digest.sha256(of: [1]), size: 1)
        #expect(HuskArtifact.matches(ImageManifest(config: config, layers: [])))
        let image = Descriptor(mediaType: MediaType.ociConfig, digest: Digest.sha256(of: [1]), size: 1)
        #expect(!HuskArtifact.matches(ImageManifest(config: image, layers: [])))
        #expect(HuskArtifact.matches(ImageManifest(artifactType: HuskArtifact.artifactType, config: image, layers: [])))
    }
}
