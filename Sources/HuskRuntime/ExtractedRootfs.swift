import FoundationEssentials
import Glibc
import HuskCore
import HuskSquash
import Logging

/// Extract mode (DESIGN.md §3): the image is extracted once into
/// `$TMPDIR/husk-$UID/rootfs/KEY` and reused. That directory is checked
/// first (`PrivateDirectory`: the user's own, 0700, no symlink), so a tree
/// another user planted is never run. A lock serializes the jobs of one
/// node that start together; the tree is built under a temporary name and
/// renamed, so a run never sees half an extraction.
public enum ExtractedRootfs {
    public static func baseDirectory(environment: [String: String]) -> String {
        HuskPaths(environment: environment).scratch + "/rootfs"
    }

    /// The extracted tree for `image`, extracting it first if needed.
    public static func directory(for image: RuntimeImage, environment: [String: String]) throws -> String {
        guard let reader = image.squashReader else { return image.path }
        try PrivateDirectory.prepare(HuskPaths(environment: environment).scratch, what: "extracted images")
        let base = try PrivateDirectory.prepare(baseDirectory(environment: environment), what: "extracted images")
        let target = "\(base)/\(image.contentKey)"
        if isRealDirectory(target) { return target }

        let lock = try FileLock.acquire(target + ".lock")
        defer { lock.release() }
        if isRealDirectory(target) { return target }  // another job finished it meanwhile

        let staging = try FilePath.makeUniqueDirectory(prefix: "\(target).tmp-")
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

    /// A directory, not a symlink to one.
    static func isRealDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether this process can use FUSE: /dev/fuse must be readable and writable.
    public static var fuseUsable: Bool { access("/dev/fuse", R_OK | W_OK) == 0 }
}
