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
            var links: [UInt32: String] = [:]
            try extractChildren(of: root, into: target, reader: reader, links: &links)
        }
    }

    private static func extractChildren(of directory: UnsafeMutablePointer<sqfs_tree_node_t>, into path: String,
                                        reader: SquashReader, links: inout [UInt32: String]) throws {
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
            switch mode & S_IFMT {
            case S_IFDIR:
                guard mkdir(target, 0o700) == 0 else { throw HuskError.io(errno, target, doing: "cannot create") }
                try extractChildren(of: node, into: target, reader: reader, links: &links)
                chmod(target, permissions | 0o700)
            case S_IFREG:
                let number = inode.pointee.base.inode_number
                if let first = links[number] {
                    guard link(first, target) == 0 else { throw HuskError.io(errno, target, doing: "cannot link") }
                    continue
                }
                try reader.writeFile(inode, to: target, permissions: permissions)
                if husk_sqfs_inode_nlink(inode) > 1 { links[number] = target }
            case S_IFLNK:
                let size = Int(husk_sqfs_inode_symlink_size(inode))
                let bytes = UnsafeRawBufferPointer(start: husk_sqfs_inode_symlink_target(inode), count: size)
                let destination = String(decoding: bytes, as: UTF8.self)
                guard symlink(destination, target) == 0 else { throw HuskError.io(errno, target, doing: "cannot create") }
            case S_IFIFO:
                guard mkfifo(target, permissions) == 0 else { throw HuskError.io(errno, target, doing: "cannot create") }
            default:
                continue  // device nodes and sockets cannot be made unprivileged; they do nothing there anyway
            }
            var times = [timespec(tv_sec: Int(inode.pointee.base.mod_time), tv_nsec: 0),
                         timespec(tv_sec: Int(inode.pointee.base.mod_time), tv_nsec: 0)]
            utimensat(AT_FDCWD, target, &times, AT_SYMLINK_NOFOLLOW)
        }
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

    /// Streams a regular file's data into a new file at `target`.
    func writeFile(_ inode: UnsafePointer<sqfs_inode_generic_t>, to target: String, permissions: mode_t) throws {
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw HuskError.io(errno, target, doing: "cannot create") }
        defer { close(fd) }
        var size: UInt64 = 0
        sqfs_inode_get_file_size(inode, &size)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: UInt64 = 0
        while offset < size {
            let want = UInt32(min(UInt64(buffer.count), size - offset))
            let got = buffer.withUnsafeMutableBytes { readData(inode, offset: offset, into: $0.baseAddress!, count: want) }
            if got < 0 { throw HuskError.damagedImage(got, "reading \(target)", path: path) }
            guard got > 0 else {
                throw HuskError(.invalidImage, "\(path): \(target): file data cut short (a damaged image); copy or convert it again")
            }
            let written = buffer.withUnsafeBytes { write(fd, $0.baseAddress, Int(got)) }
            guard written == Int(got) else { throw HuskError.io(errno, target, doing: "cannot write") }
            offset += UInt64(got)
        }
    }
}
