import FoundationEssentials
import Glibc
import HuskCore
import HuskOCI

/// The content-addressed blob cache, `${HUSK_CACHEDIR}/blobs/sha256/<hex>`
/// (DESIGN.md §4). A blob appears under its name only complete and verified:
/// downloads go to `<hex>.partial` under the blob's lock (`locks/<hex>.lock`)
/// and are renamed; a partial file left by a killed pull is resumed by the
/// next one. Tags are remembered in `refs/HOST/REPO/TAG` (the digest), so
/// `--pull missing|never` can run without the network.
public final class BlobCache: BlobStore, @unchecked Sendable {
    public let root: String
    public var location: String { "the cache \(root)" }

    public init(root: String) {
        self.root = root
    }

    public func path(_ digest: Digest) -> String { "\(root)/blobs/\(digest.algorithm)/\(digest.hex)" }
    func partialPath(_ digest: Digest) -> String { path(digest) + ".partial" }
    func lockPath(_ digest: Digest) -> String { "\(root)/locks/\(digest.algorithm)-\(digest.hex).lock" }

    public func openRaw(_ digest: Digest) throws -> ByteSource? {
        let file = path(digest)
        guard FilePath.exists(file) else { return nil }
        return try FileByteSource(path: file)
    }

    func prepare(_ digest: Digest) throws {
        for directory in ["\(root)/blobs/\(digest.algorithm)", "\(root)/locks"] {
            try Self.makeDirectory(directory)
        }
    }

    static func makeDirectory(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw HuskError(.io, "cannot create the cache directory \(directory) (set HUSK_CACHEDIR to a writable place)")
        }
    }

    /// Present with the right size and content. Reads the whole blob: a
    /// cached blob corrupted on disk is caught here, before it is used.
    func isIntact(_ descriptor: Descriptor) -> Bool {
        let file = path(descriptor.digest)
        var st = stat()
        guard stat(file, &st) == 0, descriptor.size < 0 || Int64(st.st_size) == descriptor.size,
              let source = try? FileByteSource(path: file) else { return false }
        var hasher = DigestHasher(algorithm: descriptor.digest.algorithm)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            guard let n = try? buffer.withUnsafeMutableBytes({ try source.read(into: $0) }) else { return false }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finalize() == descriptor.digest
    }

    /// A small blob (manifest, index, config) we hold in memory and verified.
    func storeSmall(_ bytes: [UInt8], digest: Digest) throws {
        let file = path(digest)
        if FilePath.exists(file) { return }
        try prepare(digest)
        try FilePath.writeAtomically(bytes, to: file)
    }

    public func readSmall(_ digest: Digest) -> [UInt8]? {
        guard let source = try? openRaw(digest), let bytes = try? source.readAll(what: "cached blob") else { return nil }
        return Digest.sha256(of: bytes) == digest || digest.algorithm != "sha256" ? bytes : nil
    }

    // MARK: Origins

    /// Remembers that a registry repository holds this blob, so a later
    /// push to another repository there can mount it instead of uploading.
    func recordOrigin(_ digest: Digest, registry: String, repository: String) {
        let file = "\(root)/origins/\(digest.algorithm)-\(digest.hex)"
        let line = "\(registry)/\(repository)"
        let known = origins(digest)
        guard !known.contains(line) else { return }
        try? Self.makeDirectory("\(root)/origins")
        try? FilePath.writeAtomically(Array((known + [line]).suffix(16).joined(separator: "\n").utf8), to: file)
    }

    /// `REGISTRY/REPOSITORY` lines for the blob, newest last.
    public func origins(_ digest: Digest) -> [String] {
        let file = "\(root)/origins/\(digest.algorithm)-\(digest.hex)"
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }

    /// Repositories on `registry` known to hold the blob.
    public func repositories(holding digest: Digest, on registry: String) -> [String] {
        origins(digest).compactMap { line in
            line.hasPrefix(registry + "/") ? String(line.dropFirst(registry.count + 1)) : nil
        }
    }

    // MARK: Tags

    func refPath(_ reference: RegistryReference, tag: String) -> String {
        "\(root)/refs/\(reference.host)/\(reference.repository)/\(tag)"
    }

    func recordTag(_ reference: RegistryReference, digest: Digest) throws {
        guard let tag = reference.tag, reference.digest == nil else { return }
        let file = refPath(reference, tag: tag)
        try Self.makeDirectory(FilePath.directory(of: file))
        try FilePath.writeAtomically(Array("\(digest)\n".utf8), to: file)
    }

    /// What a tag pointed to when last pulled; a digest reference is itself.
    public func taggedDigest(_ reference: RegistryReference) -> Digest? {
        if let digest = reference.digest { return digest }
        guard let tag = reference.tag,
              let text = try? String(contentsOfFile: refPath(reference, tag: tag), encoding: .utf8) else { return nil }
        return try? Digest(parsing: text.trimmingWhitespace)
    }
}
