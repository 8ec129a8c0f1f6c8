import FoundationEssentials
import Glibc
import HuskCore

/// `--overlay DIR[:ro]`: directories layered over the image. One may be
/// writable: the container's changes go to DIR/upper (overlayfs's work
/// files to DIR/work), where they stay for the next run, as with
/// Apptainer's directory overlays. `DIR:ro` adds a read-only layer (its
/// `upper` when it has one, so a former writable overlay can be reused).
/// Overlay image files (ext3, squashfs, SIF) need a loop or FUSE mount of
/// their own and are refused.
public struct OverlayOption: Equatable, Sendable {
    /// The writable overlay directory (absolute), if any.
    public var writable: String?
    /// Read-only layers, topmost first (absolute).
    public var readOnly: [String] = []

    public init() {}

    public var isEmpty: Bool { writable == nil && readOnly.isEmpty }

    /// Adds `DIR`, `DIR:rw` or `DIR:ro` (relative to `currentDirectory`).
    public mutating func add(_ spec: String, currentDirectory: String) throws {
        var path = spec
        var readOnly = false
        if spec.hasSuffix(":ro") || spec.hasSuffix(":rw") {
            readOnly = spec.hasSuffix(":ro")
            path = String(spec.dropLast(3))
        }
        guard !path.isEmpty else { throw HuskError(.usage, "--overlay \"\(spec)\": use DIR or DIR:ro") }
        let absolute = BindOption.normalize(path.hasPrefix("/") ? path : currentDirectory + "/" + path)
        guard FilePath.exists(absolute) else {
            throw HuskError(.usage, "--overlay \(path): no such directory: create it first (mkdir \(path))")
        }
        guard FilePath.isDirectory(absolute) else {
            throw HuskError(.usage, "--overlay \(path) is not supported: Husk takes a directory as an overlay (mounting an ext3, squashfs or SIF overlay image needs root); use mkdir DIR and --overlay DIR")
        }
        if readOnly {
            let upper = absolute + "/upper"
            self.readOnly.append(FilePath.isDirectory(upper) ? upper : absolute)
        } else {
            if let writable, writable != absolute {
                throw HuskError(.usage, "--overlay \(path): \(writable) is the writable overlay already; only one can be (add :ro to the others)")
            }
            writable = absolute
        }
    }

    /// The writable overlay's upper and work directories, created (0755 and
    /// 0700) where missing. DIR must be the user's and not writable by
    /// others, and both directories the user's own, not symlinks: the
    /// container writes there, and another user who could plant `upper`
    /// would receive what it writes.
    public func writableDirectories() throws -> (upper: String, work: String)? {
        guard let writable else { return nil }
        var st = stat()
        guard lstat(writable, &st) == 0, st.st_uid == getuid(), st.st_mode & 0o002 == 0 else {
            throw HuskError(.usage, "--overlay \(writable): not a directory of yours that only you (and your group) can write to; use one that is (mkdir DIR)")
        }
        let upper = writable + "/upper", work = writable + "/work"
        for (path, mode) in [(upper, 0o755), (work, 0o700)] {
            if mkdir(path, mode_t(mode)) != 0 && errno != EEXIST {
                throw HuskError(.io, "--overlay \(writable): cannot create \(path): \(String(cString: strerror(errno)))")
            }
            guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == getuid() else {
                throw HuskError(.usage, "--overlay \(writable): \(path) is not a directory of yours (a symlink, or another user's): remove it")
            }
        }
        return (upper, work)
    }
}
