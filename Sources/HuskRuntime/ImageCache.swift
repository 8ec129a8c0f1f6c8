import FoundationEssentials
import Glibc
import HuskCore
import HuskOCI
import HuskSquash
import HuskTrust
import Logging

/// Converted images in `${HUSK_CACHEDIR}/images/<manifest-hex>.sqsh`
/// (DESIGN.md §4). One job converts while the others on the node, or on
/// the shared filesystem, wait on its lock and then reuse the file.
public struct ImageCache: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public var imagesDirectory: String { root + "/images" }

    public func imagePath(_ digest: Digest) -> String { "\(imagesDirectory)/\(digest.hex).sqsh" }

    /// The converted image when the cache has it (marked used).
    public func existing(_ digest: Digest) -> String? {
        let path = imagePath(digest)
        return FilePath.exists(path) ? touched(path) : nil
    }

    public func converted(_ image: ResolvedImage, options: ImageConverter.Options = .standard) throws -> String {
        let path = imagePath(image.identity)
        return try once(path, digest: image.identity, doing: "convert") {
            HuskLog.logger.info("converting \(image.reference) into \(path)")
            _ = try ImageConverter.convert(image, to: path, options: options)
        }
    }

    /// A pulled `.sqsh` artifact: the blob itself becomes the image (a hard
    /// link, so the cache holds it once; a copy across filesystems).
    public func placeArtifact(blob: String, manifest digest: Digest) throws -> String {
        let path = imagePath(digest)
        return try once(path, digest: digest, doing: "place") {
            try ImageCache.linkOrCopy(blob, to: path)
        }
    }

    private func once(_ path: String, digest: Digest, doing action: String, _ make: () throws -> Void) throws -> String {
        if FilePath.exists(path) { return touched(path) }
        for directory in [imagesDirectory, root + "/locks"] {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw HuskError(.io, "cannot create the cache directory \(directory) (set HUSK_CACHEDIR to a writable place)")
            }
        }
        let lock = try FileLock.acquire("\(root)/locks/image-\(digest.hex).lock") {
            HuskLog.logger.info("waiting for another husk to \(action) \(digest.short)")
        }
        defer { lock.release() }
        if !FilePath.exists(path) {
            try make()
            // Read-only, like the blobs: `husk pull OUTPUT` may hard-link it.
            chmod(path, 0o444)
        }
        return touched(path)
    }

    /// Marks an image used now, for `husk cache clean --older-than`.
    private func touched(_ path: String) -> String {
        utimensat(AT_FDCWD, path, nil, 0)
        return path
    }

    /// `link` where the filesystem allows it, else a copy; either way the
    /// destination appears whole under its name or not at all.
    public static func linkOrCopy(_ source: String, to destination: String) throws {
        let temporary = "\(destination).tmp-\(getpid())"
        unlink(temporary)
        if link(source, temporary) != 0 {
            let output = try AtomicOutputFile(finalPath: destination)
            guard copyfile(source, output.temporaryPath) else {
                output.discard()
                throw HuskError.io(errno, destination, doing: "cannot copy \(source) to")
            }
            try output.commit()
            return
        }
        guard rename(temporary, destination) == 0 else {
            let error = errno
            unlink(temporary)
            throw HuskError.io(error, destination, doing: "cannot rename into place")
        }
    }

    private static func copyfile(_ source: String, _ destination: String) -> Bool {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { return false }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard output >= 0 else { return false }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n == 0 { return true }
            guard n > 0, buffer.withUnsafeBytes({ write(output, $0.baseAddress, n) }) == n else { return false }
        }
    }
}
