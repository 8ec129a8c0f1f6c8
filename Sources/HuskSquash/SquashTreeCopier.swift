import CLibSquashFS
import Glibc
import HuskCore
import Logging

/// Copies the tree of one squashfs into the writer's tree for another: every
/// entry with its owner, mode and time, file data streamed block by block,
/// hard links kept as hard links. What `husk convert sif:` builds a Husk
/// image from (the SIF's partition cannot be copied byte for byte: `/.husk/`
/// is added to its directory tree, which moves every table after the data).
enum SquashTreeCopier {
    /// The copied root. `skip(path)` leaves out an entry (and all below it);
    /// paths are relative to the root, as a layer names them.
    static func copy(_ reader: SquashReader, into sink: FileDataSink,
                     skip: @escaping (String) -> Bool = { _ in false }) throws -> TreeNode {
        var copier = Copier(reader: reader, sink: sink, skip: skip)
        var root: TreeNode?
        try reader.withTree(devices: true) { node in
            root = TreeNode(kind: .directory, metadata: Copier.metadata(node), layer: 0)
            try copier.children(of: node, into: root!, path: "")
        }
        if copier.droppedExtendedAttributes {
            HuskLog.logger.warning("\(reader.path): extended attributes are not copied (squashfs xattrs of the partition)")
        }
        return root!
    }

    private struct Copier {
        let reader: SquashReader
        let sink: FileDataSink
        let skip: (String) -> Bool
        /// Hard links: the first name's content, by inode number.
        var contents: [UInt32: FileContent] = [:]
        var droppedExtendedAttributes = false
        var buffer = [UInt8](repeating: 0, count: 1 << 20)

        init(reader: SquashReader, sink: FileDataSink, skip: @escaping (String) -> Bool) {
            self.reader = reader
            self.sink = sink
            self.skip = skip
        }

        static func metadata(_ node: UnsafeMutablePointer<sqfs_tree_node_t>) -> EntryMetadata {
            let inode = node.pointee.inode!
            return EntryMetadata(permissions: inode.pointee.base.mode & 0o7777, uid: node.pointee.uid, gid: node.pointee.gid,
                                 mtime: inode.pointee.base.mod_time, xattrs: [])
        }

        mutating func children(of directory: UnsafeMutablePointer<sqfs_tree_node_t>, into parent: TreeNode,
                               path: String) throws {
            var child = directory.pointee.children
            while let node = child {
                defer { child = node.pointee.next }
                let name = String(cString: husk_sqfs_tree_node_name(node))
                // A damaged image may hold any name; only a plain, non-empty one is an entry.
                guard !name.isEmpty && name != "." && name != ".." && !name.contains("/") else { continue }
                let entryPath = path.isEmpty ? name : path + "/" + name
                if skip(entryPath) { continue }
                let inode = node.pointee.inode!
                if Self.hasExtendedAttributes(inode) {
                    droppedExtendedAttributes = true
                }
                let metadata = Self.metadata(node)
                let kind: TreeNode.Kind
                switch mode_t(inode.pointee.base.mode) & S_IFMT {
                case S_IFDIR:
                    let directory = TreeNode(kind: .directory, metadata: metadata, layer: 0)
                    try children(of: node, into: directory, path: entryPath)
                    parent.children[name] = directory
                    continue
                case S_IFREG:
                    kind = .file(try file(inode, metadata: metadata, path: entryPath))
                case S_IFLNK:
                    let size = Int(husk_sqfs_inode_symlink_size(inode))
                    guard size <= Int(inode.pointee.payload_bytes_available) else { continue }
                    let bytes = UnsafeRawBufferPointer(start: husk_sqfs_inode_symlink_target(inode), count: size)
                    kind = .symlink(String(decoding: bytes, as: UTF8.self))
                case S_IFCHR, S_IFBLK:
                    let type = UInt32(inode.pointee.base.type)
                    let number = type == SQFS_INODE_EXT_CDEV.rawValue || type == SQFS_INODE_EXT_BDEV.rawValue
                        ? inode.pointee.data.dev_ext.devno : inode.pointee.data.dev.devno
                    // Linux's new_decode_dev, the encoding squashfs stores.
                    let major = (number & 0xfff00) >> 8, minor = (number & 0xff) | ((number >> 12) & 0xfff00)
                    kind = mode_t(inode.pointee.base.mode) & S_IFMT == S_IFCHR
                        ? .characterDevice(major: major, minor: minor) : .blockDevice(major: major, minor: minor)
                case S_IFIFO:
                    kind = .fifo
                case S_IFSOCK:
                    kind = .socket
                default:
                    continue
                }
                parent.children[name] = TreeNode(kind: kind, metadata: metadata, layer: 0)
            }
        }

        static func hasExtendedAttributes(_ inode: UnsafeMutablePointer<sqfs_inode_generic_t>) -> Bool {
            var index: UInt32 = 0xFFFF_FFFF
            return sqfs_inode_get_xattr_index(inode, &index) == 0 && index != 0xFFFF_FFFF
        }

        /// The content of a regular file: stored once, shared by its hard links.
        mutating func file(_ inode: UnsafeMutablePointer<sqfs_inode_generic_t>, metadata: EntryMetadata,
                           path: String) throws -> FileContent {
            let number = inode.pointee.base.inode_number
            if let first = contents[number] { return first }
            var size: UInt64 = 0
            try checkRead(sqfs_inode_get_file_size(inode, &size), "reading \(path)", path: reader.path)
            let content = FileContent(metadata: metadata, size: Int64(size))
            let reader = self.reader
            try buffer.withUnsafeMutableBytes { buffer in
                try sink.store(content, path: path) { consume in
                    var offset: UInt64 = 0
                    while offset < size {
                        let want = UInt32(min(UInt64(buffer.count), size - offset))
                        let got = try dataRead(reader.readData(inode, offset: offset, into: buffer.baseAddress!, count: want),
                                               file: "/" + path, image: reader.path, fix: "copy it again")
                        try consume(UnsafeRawBufferPointer(rebasing: buffer[..<got]))
                        offset += UInt64(got)
                    }
                }
            }
            if husk_sqfs_inode_nlink(inode) > 1 { contents[number] = content }
            return content
        }
    }
}
