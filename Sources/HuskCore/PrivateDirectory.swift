#if canImport(Glibc)
import Glibc
#endif

/// A directory of Husk's own state (cache, credentials, extracted trees,
/// instance state), often in a place other users can write to (`/tmp`, a
/// shared scratch). Nothing in it is used unless another user could not
/// have made or changed it (DESIGN.md §3, trust boundary 2):
///
/// - the directory itself is a real directory (never a symlink), owned by
///   the user, mode 0700 (nothing for group or others);
/// - every directory above it is owned by root or the user and cannot be
///   written by anyone else, unless it is sticky (`/tmp`): then nobody
///   else can rename or remove what the user put there;
/// - a symlink on the way (`/home -> /export/home`) is followed only when
///   root or the user owns it, and its target is held to the same rules.
///
/// Missing directories are created (0700) one component at a time with
/// `mkdirat`, each reopened with `O_NOFOLLOW`, so a name planted between
/// two steps is found, not followed.
public enum PrivateDirectory {
    /// O_PATH (Linux; Glibc's Swift module does not export it).
    static let oPath: Int32 = 0o10000000

    /// Creates `path` if needed, checks it and everything above it, and
    /// returns it as an absolute path. `what` names it in messages
    /// ("the image cache").
    @discardableResult
    public static func prepare(_ path: String, what: String) throws -> String {
        let absolute = absolutePath(path)
        var walk = Walk(what: what, requested: absolute)
        try walk.run(absolute)
        return walk.resolved
    }

    static func absolutePath(_ path: String) -> String {
        var cwd = [CChar](repeating: 0, count: 4096)
        return path.hasPrefix("/") || getcwd(&cwd, cwd.count) == nil ? path : String(cString: cwd) + "/" + path
    }

    /// What `prepare` would find, without creating anything (`husk check`).
    public enum Inspection: Equatable, Sendable {
        /// It exists and passes: its absolute real path.
        case ready(String)
        /// `first` (and what is below it) does not exist yet; everything
        /// above passed, and `creatable` says whether the user may create it.
        case absent(first: String, creatable: Bool)
    }

    /// Checks `path` and everything above it by the same rules as `prepare`,
    /// stopping at the first missing directory instead of creating it.
    /// Throws what `prepare` would.
    public static func inspect(_ path: String, what: String) throws -> Inspection {
        let absolute = absolutePath(path)
        var walk = Walk(what: what, requested: absolute, create: false)
        try walk.run(absolute)
        guard let missing = walk.missing else { return .ready(walk.resolved) }
        return .absent(first: missing, creatable: access(walk.resolved, W_OK | X_OK) == 0)
    }

    /// Inside a user namespace (Husk run in another container), root's
    /// directories (`/`, `/tmp`) show the overflow uid, as does any owner
    /// the namespace does not map: such ancestors are taken as root's.
    /// Outside one, nobody's directories are not.
    static let unmappedOwner: uid_t? = {
        var buffer = [UInt8](repeating: 0, count: 256)
        let fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        let n = read(fd, &buffer, buffer.count)
        let map = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : ""
        let fields = map.split(whereSeparator: { $0 == " " || $0 == "\n" })
        if fields == ["0", "0", "4294967295"] { return nil }  // the initial namespace
        let overflow = open("/proc/sys/kernel/overflowuid", O_RDONLY | O_CLOEXEC)
        var value: uid_t = 65534
        if overflow >= 0 {
            let m = read(overflow, &buffer, buffer.count)
            if m > 0, let parsed = UInt32(String(decoding: buffer[0..<m], as: UTF8.self).filter(\.isNumber)) {
                value = parsed
            }
            close(overflow)
        }
        return value
    }()

    private struct Walk {
        let what: String
        let requested: String
        /// false: stop at the first missing directory (`missing`) instead.
        var create = true
        var missing: String?
        /// The real path walked so far.
        var resolved = "/"
        var symlinks = 0

        mutating func run(_ path: String) throws {
            var fd = try openRoot()
            defer { close(fd) }
            var remaining = path.split(separator: "/").map(String.init)
            while !remaining.isEmpty {
                let name = remaining.removeFirst()
                if name == "." { continue }
                if name == ".." {
                    // Lexically, on the real path walked so far.
                    let parent = FilePath.directory(of: resolved)
                    let next = open(parent, oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard next >= 0 else { throw HuskError.io(errno, parent, doing: "cannot open") }
                    close(fd)
                    fd = next
                    resolved = parent
                    continue
                }
                var st = stat()
                if fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                    guard errno == ENOENT else { throw HuskError.io(errno, join(name), doing: "cannot read") }
                    guard create else {
                        missing = join(name)
                        return
                    }
                    // Ours to make: the directory it goes in passed the checks.
                    guard mkdirat(fd, name, 0o700) == 0 || errno == EEXIST else {
                        throw HuskError.io(errno, join(name), doing: "cannot create \(what) in")
                    }
                    guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
                        throw HuskError.io(errno, join(name), doing: "cannot read")
                    }
                }
                if (st.st_mode & S_IFMT) == S_IFLNK {
                    let target = try symlinkTarget(fd: fd, name: name, st: st)
                    remaining = target.split(separator: "/").map(String.init) + remaining
                    if target.hasPrefix("/") {
                        close(fd)
                        fd = try openRoot()
                    }
                    continue
                }
                guard (st.st_mode & S_IFMT) == S_IFDIR else {
                    throw HuskError(.unsafePath, "\(join(name)) is not a directory, so it cannot hold \(what); remove it or set another location")
                }
                if remaining.isEmpty {
                    try checkOwnDirectory(join(name), st)
                } else {
                    try checkAncestor(join(name), st)
                }
                let next = openat(fd, name, oPath | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard next >= 0 else { throw HuskError.io(errno, join(name), doing: "cannot open") }
                var again = stat()
                // The same directory as checked, not one swapped in since.
                guard fstat(next, &again) == 0, again.st_ino == st.st_ino, again.st_dev == st.st_dev else {
                    close(next)
                    throw HuskError(.unsafePath, "\(join(name)) changed while Husk checked it; another user may be interfering: check who can write to \(resolved)")
                }
                close(fd)
                fd = next
                resolved = join(name)
            }
            if resolved == "/" {
                throw HuskError(.unsafePath, "\(requested) is not a directory of your own for \(what)")
            }
        }

        mutating func openRoot() throws -> Int32 {
            let fd = open("/", oPath | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw HuskError.io(errno, "/", doing: "cannot open") }
            resolved = "/"
            return fd
        }

        /// The target of a symlink owned by root or the user, in a
        /// directory that passed: it replaces the symlink in the walk.
        mutating func symlinkTarget(fd: Int32, name: String, st: stat) throws -> String {
            let path = join(name)
            guard st.st_uid == 0 || st.st_uid == getuid() else {
                throw HuskError(.unsafePath, "\(path) is a symlink owned by uid \(st.st_uid) (\(userName(st.st_uid))), not by you or root: refusing to follow it for \(what); set another location")
            }
            symlinks += 1
            guard symlinks <= 40 else { throw HuskError.io(ELOOP, requested, doing: "cannot resolve") }
            var buffer = [CChar](repeating: 0, count: 4096)
            let n = readlinkat(fd, name, &buffer, buffer.count - 1)
            guard n > 0 else { throw HuskError.io(errno, path, doing: "cannot read the symlink") }
            return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }

        func join(_ name: String) -> String { resolved == "/" ? "/" + name : resolved + "/" + name }

        func checkAncestor(_ path: String, _ st: stat) throws {
            guard st.st_uid == 0 || st.st_uid == getuid() || st.st_uid == PrivateDirectory.unmappedOwner else {
                throw HuskError(.unsafePath, "\(path) belongs to uid \(st.st_uid) (\(userName(st.st_uid))), not to you or root, so it cannot hold \(what) safely; set a location of your own (e.g. TMPDIR, HUSK_CACHEDIR)")
            }
            let writableByOthers = st.st_mode & (S_IWGRP | S_IWOTH) != 0
            guard !writableByOthers || st.st_mode & S_ISVTX != 0 else {
                throw HuskError(.unsafePath, "\(path) can be written by others (mode \(octal(st.st_mode))), who could replace \(what) in it; use a location only you can write to, or chmod go-w \(path)")
            }
        }

        func checkOwnDirectory(_ path: String, _ st: stat) throws {
            guard st.st_uid == getuid() else {
                throw HuskError(.unsafePath, "\(path) belongs to uid \(st.st_uid) (\(userName(st.st_uid))), not to you: another user may have planted it; nothing in it is used (remove it, or set TMPDIR, XDG_RUNTIME_DIR or HUSK_CACHEDIR to a directory of your own)")
            }
            guard st.st_mode & 0o077 == 0 else {
                throw HuskError(.unsafePath, "\(path) has mode \(octal(st.st_mode)): \(what) must be private to you; chmod 700 \(path)")
            }
        }

        func octal(_ mode: mode_t) -> String { "0" + String(mode & 0o7777, radix: 8) }

        func userName(_ uid: uid_t) -> String {
            guard let entry = getpwuid(uid) else { return "no such user" }
            return String(cString: entry.pointee.pw_name)
        }
    }
}
