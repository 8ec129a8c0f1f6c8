import CLibSquashFS
import HuskCore

/// Reads a squashfs image directly with libsquashfs (no mount): the
/// superblock and single files such as `/.husk/config.json`.
public final class SquashReader {
    public let path: String
    private let file: UnsafeMutablePointer<sqfs_file_t>
    private let compressor: UnsafeMutablePointer<sqfs_compressor_t>
    private let directoryReader: OpaquePointer
    private let dataReader: OpaquePointer
    private var superblock = sqfs_super_t()

    public init(path: String) throws {
        self.path = path
        guard FilePath.exists(path) else { throw HuskError(.notFound, "\(path): no such image file") }
        guard let file = sqfs_open_file(path, UInt32(SQFS_FILE_OPEN_READ_ONLY.rawValue | SQFS_FILE_OPEN_NO_CHARSET_XFRM.rawValue)) else {
            throw HuskError(.io, "\(path): cannot open (check its permissions)")
        }
        self.file = file
        var ok = false
        defer { if !ok { husk_sqfs_destroy(file) } }
        let readStatus = sqfs_super_read(&superblock, file)
        guard readStatus == 0 else {
            throw HuskError(.invalidImage, "\(path): not a squashfs image (\(HuskError.squashfs(readStatus, "reading superblock", path: path).message))")
        }
        var config = sqfs_compressor_config_t()
        try check(sqfs_compressor_config_init(&config, SQFS_COMPRESSOR(rawValue: UInt32(superblock.compression_id)),
                                              Int(superblock.block_size), UInt16(SQFS_COMP_FLAG_UNCOMPRESS.rawValue)),
                  "reading compressor settings", path: path)
        var compressor: UnsafeMutablePointer<sqfs_compressor_t>?
        let created = sqfs_compressor_create(&config, &compressor)
        guard created == 0, let compressor else {
            throw HuskError.squashfs(created, "creating the decompressor", path: path)
        }
        if superblock.flags & UInt16(SQFS_FLAG_COMPRESSOR_OPTIONS.rawValue) != 0 {
            let status = husk_sqfs_compressor_read_options(compressor, file)
            if status != 0 {
                husk_sqfs_destroy(compressor)
                throw HuskError.squashfs(status, "reading compressor options", path: path)
            }
        }
        self.compressor = compressor
        guard let directoryReader = sqfs_dir_reader_create(&superblock, compressor, file, 0),
              let dataReader = sqfs_data_reader_create(file, Int(superblock.block_size), compressor, 0) else {
            husk_sqfs_destroy(compressor)
            throw HuskError(.squashfs, "\(path): out of memory")
        }
        self.directoryReader = directoryReader
        self.dataReader = dataReader
        try check(sqfs_data_reader_load_fragment_table(dataReader, &superblock), "reading the fragment table", path: path)
        ok = true
    }

    deinit {
        husk_sqfs_destroy(UnsafeMutableRawPointer(dataReader))
        husk_sqfs_destroy(UnsafeMutableRawPointer(directoryReader))
        husk_sqfs_destroy(compressor)
        husk_sqfs_destroy(file)
    }

    public var compressionName: String {
        sqfs_compressor_name_from_id(SQFS_COMPRESSOR(rawValue: UInt32(superblock.compression_id)))
            .map { String(cString: $0) } ?? "unknown"
    }
    public var blockSize: Int { Int(superblock.block_size) }
    /// End of the squashfs proper; a signature trailer may follow (DESIGN.md §2).
    public var bytesUsed: UInt64 { superblock.bytes_used }
    public var inodeCount: Int { Int(superblock.inode_count) }
    public var modificationTime: UInt32 { superblock.modification_time }

    func loadIDs(into table: OpaquePointer) throws {
        try check(sqfs_id_table_read(table, file, &superblock, compressor), "reading the id table", path: path)
    }

    func directoryTree(ids: OpaquePointer, flags: UInt32, out: inout UnsafeMutablePointer<sqfs_tree_node_t>?) -> Int32 {
        sqfs_dir_reader_get_full_hierarchy(directoryReader, ids, nil, flags, &out)
    }

    func readData(_ inode: UnsafePointer<sqfs_inode_generic_t>, offset: UInt64, into buffer: UnsafeMutableRawPointer,
                  count: UInt32) -> Int32 {
        sqfs_data_reader_read(dataReader, inode, offset, buffer, count)
    }

    /// The inode at `imagePath` (not following a final symlink), or nil; freed after `body`.
    private func withInode<T>(_ imagePath: String,
                              _ body: (UnsafeMutablePointer<sqfs_inode_generic_t>) throws -> T?) throws -> T? {
        var root: UnsafeMutablePointer<sqfs_inode_generic_t>?
        try check(sqfs_dir_reader_get_root_inode(directoryReader, &root), "reading the root directory", path: path)
        defer { free(root) }
        var inode: UnsafeMutablePointer<sqfs_inode_generic_t>?
        let status = sqfs_dir_reader_find_by_path(directoryReader, root, imagePath, &inode)
        if status == SQFS_ERROR_NO_ENTRY.rawValue || status == SQFS_ERROR_NOT_DIR.rawValue { return nil }
        try check(status, "looking up \(imagePath)", path: path)
        guard let inode else { return nil }
        defer { free(inode) }
        return try body(inode)
    }

    /// Whether `imagePath` names any entry (file, directory, symlink...).
    public func entryExists(_ imagePath: String) throws -> Bool {
        try withInode(imagePath) { _ in true } ?? false
    }

    /// The content of the regular file at `imagePath`, or nil if there is none.
    public func readFile(_ imagePath: String, limit: Int = 64 << 20) throws -> [UInt8]? {
        try withInode(imagePath) { inode in try readContent(inode, imagePath: imagePath, limit: limit) }
    }

    private func readContent(_ inode: UnsafeMutablePointer<sqfs_inode_generic_t>, imagePath: String,
                             limit: Int) throws -> [UInt8]? {
        let type = UInt32(inode.pointee.base.type)
        guard type == SQFS_INODE_FILE.rawValue || type == SQFS_INODE_EXT_FILE.rawValue else { return nil }
        var size: UInt64 = 0
        try check(sqfs_inode_get_file_size(inode, &size), "reading \(imagePath)", path: path)
        guard size <= UInt64(limit) else {
            throw HuskError(.invalidImage, "\(path): \(imagePath) is larger than \(limit >> 20) MiB")
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        if size > 0 {
            let read = bytes.withUnsafeMutableBytes {
                sqfs_data_reader_read(dataReader, inode, 0, $0.baseAddress, UInt32(size))
            }
            guard read == Int32(size) else {
                throw HuskError(.invalidImage, "\(path): \(imagePath) is corrupt (read \(read) of \(size) bytes)")
            }
        }
        return bytes
    }
}
