#if canImport(Glibc)
import Glibc
#endif
import CLibSquashFS
import HuskCore

/// Extracts a squashfs image into a directory with libsquashfs, for running
/// where FUSE is unusable (`--mode extract`). As an unprivileged user it
/// cannot keep owners, device nodes or setuid bits; directories stay
/// owner-writable so the copy can be deleted again.
public enum SquashExtractor {
    public static func extract(_ reader: SquashReader, into target: String) throws {
        try reader.withTree { root in
            // The regular files' contents are read and decompressed ahead, on a
            // thread of their own, in the order the walk below writes them:
            // decompressing overlaps creating and writing files.
            var files: [FileContentsSource.File] = []
            var seen: [UInt32: String] = [:]
            try walk(root, into: target, links: &seen) { step in
                if case .file(let inode, let size, let path) = step {
                    files.append(.init(inode: inode, size: size, target: path))
                }
            }
            let contents = try PrefetchingSource(FileContentsSource(try reader.makeDataReader(), files: files),
                                                 depth: 4)
            var links: [UInt32: String] = [:]
            try walk(root, into: target, links: &links) { step in try make(step, contents: contents) }
        }
    }

    /// What extraction makes of one entry, in the order it makes them.
    enum Step {
        case enterDirectory(path: String)
        case leaveDirectory(path: String, permissions: mode_t, time: Int)
        case file(UnsafePointer<sqfs_inode_generic_t>, size: UInt64, path: String)
        case hardLink(to: String, path: String)
        case symlink(destination: String, path: String, time: Int)
        case fifo(path: String, permissions: mode_t, time: Int)
    }

    /// The steps for everything below `directory`, depth first. The same tree
    /// gives the same steps: `extract` walks it twice, once for the order in
    /// which file contents are needed and once to make the entries.
    static func walk(_ directory: UnsafeMutablePointer<sqfs_tree_node_t>, into path: String,
                     links: inout [UInt32: String], _ step: (Step) throws -> Void) throws {
        var child = directory.pointee.children
        while let node = child {
            defer { child = node.pointee.next }
            let name = String(cString: husk_sqfs_tree_node_name(node))
            // A damaged image may hold any name; only a plain, non-empty one is a file to make.
            guard !name.isEmpty && name != "." && name != ".." && !name.contains("/") else { continue }
            let target = path + "/" + name
            let inode = node.pointee.inode!
            let mode = mode_t(inode.pointee.base.mode)
            let permissions = mode & 0o777
            let time = Int(inode.pointee.base.mod_time)
            switch mode & S_IFMT {
            case S_IFDIR:
                try step(.enterDirectory(path: target))
                try walk(node, into: target, links: &links, step)
                try step(.leaveDirectory(path: target, permissions: permissions, time: time))
            case S_IFREG:
                let number = inode.pointee.base.inode_number
                if let first = links[number] {
                    try step(.hardLink(to: first, path: target))
                    continue
                }
                var size: UInt64 = 0
                sqfs_inode_get_file_size(inode, &size)
                try step(.file(inode, size: size, path: target))
                if husk_sqfs_inode_nlink(inode) > 1 { links[number] = target }
            case S_IFLNK:
                let size = Int(husk_sqfs_inode_symlink_size(inode))
                let bytes = UnsafeRawBufferPointer(start: husk_sqfs_inode_symlink_target(inode), count: size)
                try step(.symlink(destination: String(decoding: bytes, as: UTF8.self), path: target, time: time))
            case S_IFIFO:
                try step(.fifo(path: target, permissions: permissions, time: time))
            default:
                continue  // device nodes and sockets cannot be made unprivileged; they do nothing there anyway
            }
        }
    }

    /// Makes one entry. As an unprivileged user, modes lose setuid and
    /// setgid bits, and directories stay owner-writable so the copy can be
    /// deleted again.
    private static func make(_ step: Step, contents: PrefetchingSource) throws {
        switch step {
        case .enterDirectory(let path):
            guard mkdir(path, 0o700) == 0 else { throw HuskError.io(errno, path, doing: "cannot create") }
        case .leaveDirectory(let path, let permissions, let time):
            chmod(path, permissions | 0o700)
            setTime(time, of: path)
        case .file(let inode, let size, let path):
            try write(size, bytesOf: contents, to: path, permissions: mode_t(inode.pointee.base.mode) & 0o777)
            setTime(Int(inode.pointee.base.mod_time), of: path)
        case .hardLink(let first, let path):
            guard link(first, path) == 0 else { throw HuskError.io(errno, path, doing: "cannot link") }
        case .symlink(let destination, let path, let time):
            guard symlink(destination, path) == 0 else { throw HuskError.io(errno, path, doing: "cannot create") }
            setTime(time, of: path)
        case .fifo(let path, let permissions, let time):
            guard mkfifo(path, permissions) == 0 else { throw HuskError.io(errno, path, doing: "cannot create") }
            setTime(time, of: path)
        }
    }

    /// A new file at `path` with the next `size` bytes of `contents`.
    private static func write(_ size: UInt64, bytesOf contents: PrefetchingSource, to path: String,
                              permissions: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw HuskError.io(errno, path, doing: "cannot create") }
        defer { close(fd) }
        var remaining = size
        while remaining > 0 {
            let bytes = try contents.readBorrowed(limit: Int(min(remaining, UInt64(Int.max))))
            guard bytes.count > 0 else {
                throw HuskError(.squashfs, "\(path): the image's file contents ended early")
            }
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
                guard n > 0 else { throw HuskError.io(errno, path, doing: "cannot write") }
                done += n
            }
            remaining -= UInt64(bytes.count)
        }
    }

    private static func setTime(_ seconds: Int, of path: String) {
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW)
    }
}

extension SquashReader {
    /// The whole directory tree (no devices or sockets), freed after `body`.
    /// `devices`: with device nodes and sockets too (conversion keeps them as entries).
    func withTree(devices: Bool = false, _ body: (UnsafeMutablePointer<sqfs_tree_node_t>) throws -> Void) throws {
        guard let ids = sqfs_id_table_create(0) else { throw HuskError(.squashfs, "\(path): out of memory") }
        defer { husk_sqfs_destroy(UnsafeMutableRawPointer(ids)) }
        try loadIDs(into: ids)
        var root: UnsafeMutablePointer<sqfs_tree_node_t>?
        let flags = devices ? 0 : UInt32(SQFS_TREE_NO_DEVICES.rawValue | SQFS_TREE_NO_SOCKETS.rawValue)
        try checkRead(directoryTree(ids: ids, flags: flags, out: &root), "reading the directory tree", path: path)
        defer { sqfs_dir_tree_destroy(root) }
        guard let root else { throw HuskError(.invalidImage, "\(path): empty directory tree") }
        try body(root)
    }
}
