#if canImport(Glibc)
import Glibc
#endif
import CLibSquashFS
import CSquashDecompressor
import HuskCore

/// Reads a squashfs image directly with libsquashfs (no mount): the
/// superblock and single files such as `/.husk/config.json`. The squashfs
/// may also be a range of a bigger file (the partition of a SIF file).
public final class SquashReader {
    public let path: String
    /// Where the squashfs starts in the file (0 but for a SIF partition).
    public let offset: UInt64
    /// Frees the libsquashfs objects below; the reader itself has no deinit.
    private let handles: SquashHandles
    private let file: UnsafeMutablePointer<sqfs_file_t>
    private let compressor: UnsafeMutablePointer<sqfs_compressor_t>
    private let directoryReader: OpaquePointer
    private let dataReader: OpaquePointer
    private let superblock: UnsafeMutablePointer<sqfs_super_t>

    /// Every object is stored in `handles` as soon as it exists, and `self`'s
    /// properties are set only after the last step succeeded: an error at any
    /// step releases `handles`, which frees exactly what was made, once.
    /// `offset` and `length`: the squashfs is that range of the file (a SIF
    /// partition the caller has checked lies within it); nothing outside
    /// it is ever read.
    public init(path: String, offset: UInt64 = 0, length: UInt64? = nil) throws {
        self.path = path
        self.offset = offset
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw HuskError(.notFound, "\(path): no such image file") }
            throw HuskError(.io, "\(path): cannot open (check its permissions)")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw HuskError(.invalidImage, "\(path): a directory, not a squashfs image file; give a .sqsh file")
        }
        // libsquashfs takes the size from stat, so a device or pipe would look empty.
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw HuskError(.invalidImage, "\(path): not a regular file; give a .sqsh image file")
        }
        if offset == 0 && length == nil && SIFFile.hasMagic(path: path) {
            // Its squashfs is a partition inside (SIFImage opens that).
            throw HuskError(.invalidImage, "\(path): a SIF file, which husk run, exec, shell, instance start and inspect take; for this, convert it first: husk convert sif:\(path) IMAGE.sqsh")
        }
        let handles = SquashHandles()
        guard let whole = sqfs_open_file(path, UInt32(SQFS_FILE_OPEN_READ_ONLY.rawValue | SQFS_FILE_OPEN_NO_CHARSET_XFRM.rawValue)) else {
            throw HuskError(.io, "\(path): cannot open (check its permissions)")
        }
        var file = whole
        if offset != 0 || length != nil {
            let size = husk_sqfs_file_size(whole)
            guard let range = husk_sqfs_range_file(whole, offset, length ?? (size >= offset ? size - offset : 0)) else {
                throw HuskError(.invalidImage, "\(path): the squashfs at offset \(offset) lies outside the file (\(size) bytes); copy it again")
            }
            file = range
        }
        handles.file = file
        try Self.checkSuperblock(of: file, path: path)
        let superblock = handles.superblock
        let readStatus = sqfs_super_read(superblock, file)
        guard readStatus == 0 else {
            throw HuskError(.invalidImage, "\(path): not a squashfs image (\(HuskError.squashfs(readStatus, "reading superblock", path: path).message))")
        }
        let compressor = try Self.makeDecompressor(superblock: superblock, file: file, path: path)
        handles.compressor = compressor
        guard let directoryReader = sqfs_dir_reader_create(superblock, compressor, file, 0) else {
            throw HuskError(.squashfs, "\(path): out of memory")
        }
        handles.directoryReader = directoryReader
        guard let dataReader = sqfs_data_reader_create(file, Int(superblock.pointee.block_size), compressor, 0) else {
            throw HuskError(.squashfs, "\(path): out of memory")
        }
        handles.dataReader = dataReader
        try checkRead(sqfs_data_reader_load_fragment_table(dataReader, superblock), "reading the fragment table", path: path)
        self.handles = handles
        self.file = file
        self.compressor = compressor
        self.directoryReader = directoryReader
        self.dataReader = dataReader
        self.superblock = superblock
    }

    /// A decompressor for the image's blocks, with its options read; each
    /// reader needs one of its own (it keeps a decompression context).
    private static func makeDecompressor(superblock: UnsafeMutablePointer<sqfs_super_t>,
                                         file: UnsafeMutablePointer<sqfs_file_t>,
                                         path: String) throws -> UnsafeMutablePointer<sqfs_compressor_t> {
        var config = sqfs_compressor_config_t()
        try checkRead(sqfs_compressor_config_init(&config, SQFS_COMPRESSOR(rawValue: UInt32(superblock.pointee.compression_id)),
                                                  Int(superblock.pointee.block_size), UInt16(SQFS_COMP_FLAG_UNCOMPRESS.rawValue)),
                      "reading compressor settings", path: path)
        var created: UnsafeMutablePointer<sqfs_compressor_t>?
        let status = sqfs_compressor_create(&config, &created)
        guard status == 0, let plain = created else {
            throw HuskError.damagedImage(status, "creating the decompressor", path: path)
        }
        guard let compressor = husk_sqfs_keep_decompression_context(plain, &config) else {
            throw HuskError(.squashfs, "\(path): out of memory")
        }
        if superblock.pointee.flags & UInt16(SQFS_FLAG_COMPRESSOR_OPTIONS.rawValue) != 0 {
            let status = husk_sqfs_compressor_read_options(compressor, file)
            guard status == 0 else {
                husk_sqfs_destroy(compressor)
                throw HuskError.damagedImage(status, "reading compressor options", path: path)
            }
        }
        return compressor
    }

    /// A data reader of its own over this image, for reading file contents
    /// on another thread: libsquashfs's readers and decompression contexts
    /// are not thread-safe, its file is (it reads with `pread`).
    func makeDataReader() throws -> SquashDataReader {
        let compressor = try Self.makeDecompressor(superblock: superblock, file: file, path: path)
        guard let dataReader = sqfs_data_reader_create(file, blockSize, compressor, 0) else {
            husk_sqfs_destroy(compressor)
            throw HuskError(.squashfs, "\(path): out of memory")
        }
        let reader = SquashDataReader(image: self, compressor: compressor, dataReader: dataReader)
        try checkRead(sqfs_data_reader_load_fragment_table(dataReader, superblock), "reading the fragment table", path: path)
        return reader
    }

    /// Validates the raw superblock against the file's size (`SuperblockCheck`)
    /// before libsquashfs reads any table it points to.
    private static func checkSuperblock(of file: UnsafeMutablePointer<sqfs_file_t>, path: String) throws {
        let size = husk_sqfs_file_size(file)
        var head = [UInt8](repeating: 0, count: Int(min(size, UInt64(SuperblockCheck.size))))
        if !head.isEmpty {
            try checkRead(head.withUnsafeMutableBytes { husk_sqfs_file_read_at(file, 0, $0.baseAddress, $0.count) },
                          "reading the superblock", path: path)
        }
        try SuperblockCheck.validate(head: head, fileSize: size, path: path)
    }

    public var compressionName: String {
        sqfs_compressor_name_from_id(SQFS_COMPRESSOR(rawValue: UInt32(superblock.pointee.compression_id)))
            .map { String(cString: $0) } ?? "unknown"
    }
    public var blockSize: Int { Int(superblock.pointee.block_size) }
    /// End of the squashfs proper; a signature trailer may follow (DESIGN.md §2).
    public var bytesUsed: UInt64 { superblock.pointee.bytes_used }
    public var inodeCount: Int { Int(superblock.pointee.inode_count) }
    public var modificationTime: UInt32 { superblock.pointee.modification_time }

    func loadIDs(into table: OpaquePointer) throws {
        try checkRead(sqfs_id_table_read(table, file, superblock, compressor), "reading the id table", path: path)
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
        try checkRead(sqfs_dir_reader_get_root_inode(directoryReader, &root), "reading the root directory", path: path)
        defer { free(root) }
        var inode: UnsafeMutablePointer<sqfs_inode_generic_t>?
        let status = sqfs_dir_reader_find_by_path(directoryReader, root, imagePath, &inode)
        if status == SQFS_ERROR_NO_ENTRY.rawValue || status == SQFS_ERROR_NOT_DIR.rawValue { return nil }
        try checkRead(status, "looking up \(imagePath)", path: path)
        guard let inode else { return nil }
        defer { free(inode) }
        return try body(inode)
    }

    /// Whether `imagePath` names any entry (file, directory, symlink...).
    public func entryExists(_ imagePath: String) throws -> Bool {
        try withInode(imagePath) { _ in true } ?? false
    }

    /// The target of the symlink at `imagePath`, or nil if it is not one.
    public func readLink(_ imagePath: String) throws -> String? {
        try withInode(imagePath) { inode in
            let type = UInt32(inode.pointee.base.type)
            guard type == SQFS_INODE_SLINK.rawValue || type == SQFS_INODE_EXT_SLINK.rawValue else { return nil }
            let size = Int(husk_sqfs_inode_symlink_size(inode))
            guard size <= Int(inode.pointee.payload_bytes_available) else { return nil }
            let bytes = UnsafeRawBufferPointer(start: husk_sqfs_inode_symlink_target(inode), count: size)
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The names in the directory at `imagePath` (sorted bytewise, as
    /// squashfs stores them), or nil when it is not a directory.
    public func directoryEntries(_ imagePath: String) throws -> [String]? {
        try withInode(imagePath) { inode in
            let type = UInt32(inode.pointee.base.type)
            guard type == SQFS_INODE_DIR.rawValue || type == SQFS_INODE_EXT_DIR.rawValue else { return nil }
            try checkRead(sqfs_dir_reader_open_dir(directoryReader, inode, 0), "listing \(imagePath)", path: path)
            var names: [String] = []
            while true {
                var entry: UnsafeMutablePointer<sqfs_dir_entry_t>?
                let status = sqfs_dir_reader_read(directoryReader, &entry)
                if status > 0 { break }
                try checkRead(status, "listing \(imagePath)", path: path)
                guard let entry else { break }
                defer { free(entry) }
                let bytes = UnsafeRawBufferPointer(start: husk_sqfs_dir_entry_name(entry), count: Int(entry.pointee.size) + 1)
                names.append(String(decoding: bytes, as: UTF8.self))
            }
            return names
        }
    }

    /// Whether the regular file at `imagePath` keeps its tail in a fragment
    /// block shared with other files (nil if it is no regular file).
    func isInFragmentBlock(_ imagePath: String) throws -> Bool? {
        try withInode(imagePath) { inode in
            var index: UInt32 = 0, offset: UInt32 = 0
            guard sqfs_inode_get_frag_location(inode, &index, &offset) == 0 else { return nil }
            return index != 0xFFFF_FFFF
        }
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
        try checkRead(sqfs_inode_get_file_size(inode, &size), "reading \(imagePath)", path: path)
        guard size <= UInt64(limit) else {
            throw HuskError(.invalidImage, "\(path): \(imagePath) is larger than \(limit >> 20) MiB")
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        if size > 0 {
            let read = bytes.withUnsafeMutableBytes {
                sqfs_data_reader_read(dataReader, inode, 0, $0.baseAddress, UInt32(size))
            }
            if read < 0 { throw HuskError.damagedImage(read, "reading \(imagePath)", path: path) }
            guard read == Int32(size) else {
                throw HuskError(.invalidImage, "\(path): \(imagePath) is cut short (read \(read) of \(size) bytes; a damaged image); copy or convert it again")
            }
        }
        return bytes
    }
}

/// Owns the libsquashfs objects of one open image and frees each one once, in
/// reverse order of creation. Needed because a throwing class initializer runs
/// `deinit` once all stored properties are set: SquashReader used to free on
/// its error paths as well, a double free on a truncated image.
private final class SquashHandles {
    /// The directory reader keeps this pointer ("kept internally", dir_reader.h),
    /// so the superblock lives at a fixed address as long as the readers do.
    let superblock = UnsafeMutablePointer<sqfs_super_t>.allocate(capacity: 1)
    var file: UnsafeMutablePointer<sqfs_file_t>?
    var compressor: UnsafeMutablePointer<sqfs_compressor_t>?
    var directoryReader: OpaquePointer?
    var dataReader: OpaquePointer?

    init() { superblock.initialize(to: sqfs_super_t()) }

    deinit {
        if let dataReader { husk_sqfs_destroy(UnsafeMutableRawPointer(dataReader)) }
        if let directoryReader { husk_sqfs_destroy(UnsafeMutableRawPointer(directoryReader)) }
        if let compressor { husk_sqfs_destroy(compressor) }
        if let file { husk_sqfs_destroy(file) }
        superblock.deallocate()
    }
}
