#if canImport(Glibc)
import Glibc
#endif
import HuskCore

/// Where the site's policy comes from, and why it can be trusted
/// (DESIGN.md §5): only root may have written it.
enum PolicyFile {
    static let systemPath = SitePolicy.systemPath

    /// `/etc/husk/husk.toml` when it exists; else `HUSK_CONFIG` (tests, and
    /// sites that keep the file elsewhere); else none. A user cannot
    /// replace a site's policy with `HUSK_CONFIG`: it is read only where
    /// the system file is absent, and must be root's too.
    static func locate(environment: [String: String], systemPath: String = systemPath) -> String? {
        var st = stat()
        if lstat(systemPath, &st) == 0 { return systemPath }
        if let path = environment["HUSK_CONFIG"], !path.isEmpty { return path }
        return nil
    }

    /// The file's text, once the file and every directory above it are
    /// owned by root and writable by nobody else (a sticky directory, like
    /// /tmp, counts as safe: only the owner renames what is in it).
    static func readTrusted(_ path: String) throws -> String {
        guard let real = realpath(path, nil) else {
            throw HuskError.io(errno, path, doing: "cannot read the site policy")
        }
        let resolved = String(cString: real)
        free(real)
        var directory = resolved
        while directory != "/" {
            directory = FilePath.directory(of: directory)
            var st = stat()
            guard stat(directory, &st) == 0 else { throw HuskError.io(errno, directory, doing: "cannot read") }
            let open = st.st_mode & (S_IWGRP | S_IWOTH) != 0 && st.st_mode & S_ISVTX == 0
            guard st.st_uid == 0, !open else {
                throw refusal(path, "is in \(directory), which someone other than root can change")
            }
        }
        let fd = Glibc.open(resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw HuskError.io(errno, path, doing: "cannot read the site policy") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw refusal(path, "is not a regular file")
        }
        guard st.st_uid == 0 else { throw refusal(path, "is owned by uid \(st.st_uid), not root") }
        guard st.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            throw refusal(path, "can be written by group or others (mode 0\(String(st.st_mode & 0o7777, radix: 8)))")
        }
        guard st.st_size <= 1 << 20 else { throw refusal(path, "is larger than 1 MiB") }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw HuskError.io(errno, path, doing: "cannot read the site policy") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Nothing runs under a policy that could have been tampered with.
    static func refusal(_ path: String, _ why: String) -> HuskError {
        HuskError(.refused, "refused: the site policy \(path) \(why); it must be owned by root and writable only by root (ask your administrator: chown root \(path); chmod go-w \(path))")
    }
}
