#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a lock file, for caches shared by many jobs: on
/// one node and, where the filesystem supports it (NFSv4, Lustre with
/// `-o flock`), across nodes. The kernel drops it when the holder dies, so a
/// killed job never leaves a cache entry locked.
public final class FileLock: @unchecked Sendable {
    public let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Never through a symlink: a lock file lives in a checked directory of
    /// Husk's, and one planted there is refused, not followed.
    static func openLockFile(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw HuskError.io(errno, path, doing: "cannot open lock file") }
        return fd
    }

    /// Takes the lock if nobody holds it; nil when somebody does.
    public static func tryAcquire(_ path: String) throws -> FileLock? {
        let fd = try openLockFile(path)
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(path: path, fd: fd) }
        let error = errno
        close(fd)
        guard error == EWOULDBLOCK else { throw HuskError.io(error, path, doing: "cannot lock") }
        return nil
    }

    /// Waits for the lock (blocking the calling thread).
    public static func acquire(_ path: String, whileWaiting: (() -> Void)? = nil) throws -> FileLock {
        if let lock = try tryAcquire(path) { return lock }
        whileWaiting?()
        let fd = try openLockFile(path)
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let error = errno
                close(fd)
                throw HuskError.io(error, path, doing: "cannot lock")
            }
        }
        return FileLock(path: path, fd: fd)
    }

    public func release() {
        guard fd >= 0 else { return }
        // Unlocked before the close: a child forked meanwhile (by another
        // thread, before its exec closes this O_CLOEXEC descriptor) shares
        // the lock, which a close alone would leave held until it exits.
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { release() }
}
