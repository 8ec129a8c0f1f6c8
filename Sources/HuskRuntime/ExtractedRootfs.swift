import Foundation
import HuskCore
import HuskSquash

/// Extract mode (DESIGN.md §3): the image is extracted once into
/// `$TMPDIR/husk-$UID/rootfs/KEY` and reused. A lock serializes the jobs of
/// one node that start together; the tree is built under a temporary name
/// and renamed, so a run never sees half an extraction.
public enum ExtractedRootfs {
    public static func baseDirectory(environment: [String: String]) -> String {
        let tmp = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return "\(tmp)/husk-\(getuid())/rootfs"
    }

    /// The extracted tree for `image`, extracting it first if needed.
    public static func directory(for image: RuntimeImage, environment: [String: String]) throws -> String {
        guard let reader = image.squashReader else { return image.path }
        let base = baseDirectory(environment: environment)
        let owner = FilePath.directory(of: base)
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        chmod(owner, 0o700)
        let target = "\(base)/\(image.contentKey)"
        if FilePath.isDirectory(target) { return target }

        let lockPath = target + ".lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw HuskError.io(errno, lockPath, doing: "cannot create the extraction lock") }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw HuskError.io(errno, lockPath, doing: "cannot lock") }
        if FilePath.isDirectory(target) { return target }  // another job finished it meanwhile

        var template = Array("\(target).tmp-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw HuskError.io(errno, base, doing: "cannot create a directory in")
        }
        let staging = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        chmod(staging, 0o755)
        do {
            HuskLog.logger.info("extracting \(image.path) into \(target)")
            try SquashExtractor.extract(reader, into: staging)
            guard rename(staging, target) == 0 else { throw HuskError.io(errno, target, doing: "cannot rename into") }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
        return target
    }

    /// Whether this process can use FUSE: /dev/fuse must be readable and writable.
    public static var fuseUsable: Bool { access("/dev/fuse", R_OK | W_OK) == 0 }
}
