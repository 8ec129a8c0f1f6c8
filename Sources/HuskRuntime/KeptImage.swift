#if canImport(Glibc)
import Glibc
#endif
import HuskCore

/// The image a warm planner opened for its warm-up, kept for the starts its
/// children plan (WarmPlanner in HuskRunCommand): opening a squashfs image
/// and decoding its `/.husk` metadata is about 0.7 ms of a child's 2.5.
///
/// Sound only while the file is the one that was opened: a child takes it
/// when the path names a file of the same device, inode, size, modification
/// and change time (the change time moves with any write or rename over
/// it), and opens the image itself otherwise. Nothing a child opens comes
/// back: children do not outlive their start. Off unless `keep` is set, so
/// no other program holds an image open longer than it uses it.
package enum KeptImage {
    private struct Kept {
        let path: String
        let identity: FileIdentity
        let image: RuntimeImage
    }

    private final class Store: @unchecked Sendable {
        let lock = ConditionLock()
        var kept: Kept?
    }

    private static let store = Store()
    nonisolated(unsafe) package static var keep = false

    /// The image at PATH (a squashfs file): the kept one if it is still that
    /// file, else `open()`'s, which is kept in its place when `keep` is set.
    static func image(at path: String, open: () throws -> RuntimeImage) throws -> RuntimeImage {
        guard let before = FileIdentity(path: path) else { return try open() }
        store.lock.lock()
        let kept = store.kept
        store.lock.unlock()
        if let kept, kept.path == path, kept.identity == before { return kept.image }
        let image = try open()
        // Kept only if the file did not change while it was opened.
        if keep, FileIdentity(path: path) == before {
            store.lock.lock()
            store.kept = Kept(path: path, identity: before, image: image)
            store.lock.unlock()
        }
        return image
    }
}

/// What tells a file from another, or from itself changed.
struct FileIdentity: Equatable {
    let device: UInt64, inode: UInt64, size: Int64
    let modified: timespec, changed: timespec

    init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modified = st.st_mtim
        changed = st.st_ctim
    }

    static func == (a: FileIdentity, b: FileIdentity) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size &&
            a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec &&
            a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec
    }
}
