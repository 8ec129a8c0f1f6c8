import Glibc
import HuskCore
import HuskOCI

/// Inode-level data of a regular file: shared by all its hard links. The
/// content itself lives in the squashfs writer; `dataHandle` names it there.
final class FileContent {
    var metadata: EntryMetadata
    var size: Int64
    /// Set by the `FileDataSink` once the data has been stored.
    var dataHandle: Int?
    /// A hard link placeholder later joined to the file it names (possibly in a
    /// lower layer); resolution follows `forward` to the real content.
    var forward: FileContent?

    init(metadata: EntryMetadata, size: Int64) {
        self.metadata = metadata
        self.size = size
    }

    var resolved: FileContent {
        var content = self
        while let next = content.forward { content = next }
        return content
    }
}

struct EntryMetadata: Equatable {
    var permissions: UInt16
    var uid: UInt32
    var gid: UInt32
    var mtime: UInt32
    var xattrs: [Xattr]

    struct Xattr: Equatable {
        var name: String
        var value: [UInt8]
    }

    static let implicitDirectory = EntryMetadata(permissions: 0o755, uid: 0, gid: 0, mtime: 0, xattrs: [])

    init(permissions: UInt16, uid: UInt32, gid: UInt32, mtime: UInt32, xattrs: [Xattr]) {
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.xattrs = xattrs
    }

    init(_ entry: TarEntry) {
        permissions = entry.permissions
        uid = entry.uid
        gid = entry.gid
        // squashfs stores unsigned 32-bit seconds.
        mtime = UInt32(clamping: max(0, entry.mtime))
        xattrs = entry.xattrs.map { Xattr(name: $0.name, value: $0.value) }
    }
}

/// One path of the flattened image.
final class TreeNode {
    enum Kind {
        case directory
        case file(FileContent)
        case symlink(String)
        case characterDevice(major: UInt32, minor: UInt32)
        case blockDevice(major: UInt32, minor: UInt32)
        case fifo
        case socket
        /// A whiteout seen in an upper layer: the path stays deleted for all lower layers.
        case whiteout
    }

    var kind: Kind
    var metadata: EntryMetadata
    /// The layer that decided this node (its kind and metadata).
    var layer: Int
    /// A directory created only because something below it exists; a lower
    /// layer's entry for the same directory may still supply its metadata.
    var isImplicit: Bool
    /// Entries under this directory from layers below this index are hidden
    /// (an opaque marker, a whiteout, or a non-directory at this path in that layer).
    var hidesBelow: Int = Int.min
    var children: [String: TreeNode] = [:]

    init(kind: Kind, metadata: EntryMetadata, layer: Int, isImplicit: Bool = false) {
        self.kind = kind
        self.metadata = metadata
        self.layer = layer
        self.isImplicit = isImplicit
    }

    var isDirectory: Bool {
        if case .directory = kind { return true }
        return false
    }

    var isWhiteout: Bool {
        if case .whiteout = kind { return true }
        return false
    }

    /// Children in squashfs order (bytewise by name), without whiteouts.
    var sortedChildren: [(name: String, node: TreeNode)] {
        var list = children.filter { !$0.value.isWhiteout }.map { (name: $0.key, node: $0.value) }
        list.sort { Self.precedesInByteOrder($0.name, $1.name) }
        return list
    }

    /// Squashfs lists directories in strcmp order; memcmp of the UTF-8 is
    /// that, and several times faster than comparing the UTF8Views.
    static func precedesInByteOrder(_ a: String, _ b: String) -> Bool {
        var a = a, b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
    }
}
