#if canImport(Glibc)
import Glibc
#endif
import CHuskShim

/// An output written under a temporary name beside its final path and renamed
/// into place only when complete (DESIGN.md §2): readers on a shared filesystem
/// never see half a file, and a failure or Ctrl-C leaves nothing behind.
public final class AtomicOutputFile {
    public let finalPath: String
    public let temporaryPath: String
    private var done = false

    public init(finalPath: String) throws {
        self.finalPath = finalPath
        let directory = FilePath.directory(of: finalPath)
        var st = stat()
        guard stat(directory, &st) == 0 else {
            throw HuskError(.io, "cannot write \(finalPath): directory \(directory) does not exist (create it first)")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw HuskError(.io, "cannot write \(finalPath): \(directory) is not a directory")
        }
        var template = Array("\(finalPath).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw HuskError(.io, "cannot write \(finalPath): \(reason) in \(directory) (choose a writable output directory)")
        }
        close(fd)
        temporaryPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        _ = husk_cleanup_register(temporaryPath)
    }

    /// Makes the result visible under its final name (mode 0644 less umask).
    public func commit() throws {
        chmod(temporaryPath, 0o644 & ~Self.currentUmask())
        guard rename(temporaryPath, finalPath) == 0 else {
            let error = HuskError.io(errno, finalPath, doing: "cannot rename into place")
            discard()
            throw error
        }
        done = true
        husk_cleanup_clear()
    }

    /// The process's umask, read without changing it (Linux 4.7+ shows it in
    /// /proc/self/status): setting it to read it back would, for a moment,
    /// give files and directories other threads create modes nobody asked for.
    static func currentUmask() -> mode_t {
        if let file = fopen("/proc/self/status", "r") {
            defer { fclose(file) }
            var line = [CChar](repeating: 0, count: 256)
            while fgets(&line, Int32(line.count), file) != nil {
                let text = String(cString: line)
                if text.hasPrefix("Umask:"), let mask = mode_t(String(text.dropFirst(6).filter { ("0"..."7").contains($0) }), radix: 8) {
                    return mask
                }
            }
        }
        let mask = umask(0o077)  // older kernels: the briefest, safest window
        umask(mask)
        return mask
    }

    public func discard() {
        guard !done else { return }
        unlink(temporaryPath)
        done = true
        husk_cleanup_clear()
    }

    deinit { discard() }
}

/// Small path helpers (Foundation-free so the starter can share them later).
public enum FilePath {
    /// Small files (cache records) written whole under a temporary name and renamed.
    public static func writeAtomically(_ bytes: [UInt8], to file: String) throws {
        let temporary = "\(file).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HuskError.io(errno, temporary, doing: "cannot write") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == bytes.count, rename(temporary, file) == 0 else {
            let error = errno
            unlink(temporary)
            throw HuskError.io(error, file, doing: "cannot write")
        }
    }

    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    /// `path` and its missing parents, made with `mode` (mkdir -p).
    public static func makeDirectories(_ path: String, mode: mode_t) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST { throw HuskError.io(errno, prefix, doing: "cannot create") }
        }
        guard isDirectory(path) else { throw HuskError.io(ENOTDIR, path, doing: "cannot create") }
    }

    /// What follows the last `/` (the path itself when it has none).
    public static func lastComponent(of path: String) -> String {
        path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// A new directory `prefix` + six random characters, mode 0700 (mkdtemp):
    /// nobody else can have made it or put anything in it.
    public static func makeUniqueDirectory(prefix: String) throws -> String {
        var template = Array("\(prefix)XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw HuskError.io(errno, directory(of: prefix), doing: "cannot make a directory in")
        }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
