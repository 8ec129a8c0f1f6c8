import CHuskShim
import CLibSquashFS
import Glibc
import HuskCore
import Logging

/// Writes one squashfs file with libsquashfs: file data goes through the
/// multithreaded block processor as it streams in (`FileDataSink`); the
/// inode and directory tables are written from the finished tree.
final class SquashWriter: FileDataSink {
    struct Options {
        var compression: Compression = .default
        var blockSize: Int = 128 << 10
        var jobs: Int = 1
        /// Superblock time: the image's `created`, so output is reproducible.
        var modificationTime: UInt32 = 0
    }

    private let path: String
    private let file: UnsafeMutablePointer<sqfs_file_t>
    private let compressor: UnsafeMutablePointer<sqfs_compressor_t>
    private let blockWriter: UnsafeMutablePointer<sqfs_block_writer_t>
    private let fragments: OpaquePointer
    private let processor: OpaquePointer
    private let ids: OpaquePointer
    private let xattrs: OpaquePointer
    private var superblock = sqfs_super_t()
    /// One slot per stored file: the block processor fills in the inode
    /// (block sizes, fragment) asynchronously, so the slot must stay put.
    private var inodeSlots: [UnsafeMutablePointer<UnsafeMutablePointer<sqfs_inode_generic_t>?>] = []
    private var finished = false

    init(path: String, options: Options) throws {
        self.path = path
        // `path` is the empty file AtomicOutputFile reserved. Opened again
        // with O_TRUNC, ext4 would write all the data back when it is closed
        // (auto_da_alloc, for files truncated and rewritten: 20 ms of a 0.7 s
        // conversion). Created afresh with O_EXCL it is not, and a file
        // someone slipped in under the name is refused, not followed.
        unlink(path)
        guard let file = sqfs_open_file(path, UInt32(SQFS_FILE_OPEN_NO_CHARSET_XFRM.rawValue)) else {
            throw HuskError(.io, "cannot write \(path): open failed (choose a writable output directory)")
        }
        self.file = file
        var config = sqfs_compressor_config_t()
        try check(sqfs_compressor_config_init(&config, options.compression.algorithm.id, options.blockSize, 0),
                  "configuring \(options.compression)", path: path)
        if let level = options.compression.level { config.level = UInt32(level) }
        var compressor: UnsafeMutablePointer<sqfs_compressor_t>?
        let created = sqfs_compressor_create(&config, &compressor)
        guard created == 0, let compressor else {
            husk_sqfs_destroy(file)
            throw HuskError.squashfs(created, "creating the \(options.compression) compressor", path: path)
        }
        if options.compression.algorithm == .lz4 { husk_sqfs_store_incompressible_blocks_raw(compressor) }
        self.compressor = compressor
        guard let blockWriter = sqfs_block_writer_create(file, 4096, 0),
              let fragments = sqfs_frag_table_create(0),
              let processor = sqfs_block_processor_create(options.blockSize, compressor, UInt32(max(1, options.jobs)),
                                                          SquashWriter.backlog(jobs: options.jobs), blockWriter, fragments),
              let ids = sqfs_id_table_create(0),
              let xattrs = sqfs_xattr_writer_create(0) else {
            throw HuskError(.squashfs, "\(path): out of memory setting up the writer")
        }
        self.blockWriter = blockWriter
        self.fragments = fragments
        self.processor = processor
        self.ids = ids
        self.xattrs = xattrs

        try check(sqfs_super_init(&superblock, options.blockSize, options.modificationTime, options.compression.algorithm.id),
                  "initializing the superblock", path: path)
        try check(sqfs_super_write(&superblock, file), "writing the superblock", path: path)
        let optionsWritten = husk_sqfs_compressor_write_options(compressor, file)
        if optionsWritten < 0 { throw HuskError.squashfs(optionsWritten, "writing compressor options", path: path) }
        if optionsWritten > 0 { superblock.flags |= UInt16(SQFS_FLAG_COMPRESSOR_OPTIONS.rawValue) }
    }

    /// Blocks in flight. 0 would make every append wait for the previous
    /// block's compression (measured: no overlap between gunzip and zstd at
    /// all); 64 per thread keeps them fed (measured: 0.91 s at 128 vs 1.40 s
    /// at 0 on the Debian image) for at most 8 MiB of blocks per thread.
    static func backlog(jobs: Int) -> Int { 64 * max(1, jobs) }

    deinit {
        for slot in inodeSlots {
            free(slot.pointee)
            slot.deallocate()
        }
        husk_sqfs_destroy(UnsafeMutableRawPointer(processor))
        husk_sqfs_destroy(UnsafeMutableRawPointer(fragments))
        husk_sqfs_destroy(UnsafeMutableRawPointer(blockWriter))
        husk_sqfs_destroy(UnsafeMutableRawPointer(ids))
        husk_sqfs_destroy(UnsafeMutableRawPointer(xattrs))
        husk_sqfs_destroy(compressor)
        husk_sqfs_destroy(file)
    }

    // MARK: data

    /// Files every container start reads: the image's `/.husk/` metadata, and
    /// the passwd and group files the container's own are made from. Their
    /// tails get blocks of their own rather than a place in a shared fragment
    /// block, so a start decompresses their few bytes, not 128 KiB each.
    static func isReadByEveryStart(_ entryPath: String) -> Bool {
        let path = entryPath.hasPrefix("/") ? String(entryPath.dropFirst()) : entryPath
        return path.hasPrefix(SourceRecord.directory + "/") || path == "etc/passwd" || path == "etc/group"
    }

    func store(_ content: FileContent, path entryPath: String,
               produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let slot = UnsafeMutablePointer<UnsafeMutablePointer<sqfs_inode_generic_t>?>.allocate(capacity: 1)
        slot.initialize(to: nil)
        inodeSlots.append(slot)
        content.dataHandle = inodeSlots.count - 1
        let flags = Self.isReadByEveryStart(entryPath) ? UInt32(SQFS_BLK_DONT_FRAGMENT.rawValue) : 0
        try check(sqfs_block_processor_begin_file(processor, slot, nil, flags), "storing \(entryPath)", path: path)
        var written: Int64 = 0
        try produce { chunk in
            guard chunk.count > 0 else { return }
            try check(sqfs_block_processor_append(self.processor, chunk.baseAddress, chunk.count),
                      "storing \(entryPath)", path: self.path)
            written += Int64(chunk.count)
        }
        try check(sqfs_block_processor_end_file(processor), "storing \(entryPath)", path: path)
        content.size = written
    }

    func store(_ content: FileContent, bytes: [UInt8], path entryPath: String) throws {
        try store(content, path: entryPath) { consume in try bytes.withUnsafeBytes { try consume($0) } }
    }

    // MARK: tree

    /// Finishes the data, writes inodes, directories, fragment, id and xattr
    /// tables and the final superblock, then pads to 4 KiB (DESIGN.md §2: the
    /// signature trailer starts there).
    func finish(root: TreeNode) throws {
        precondition(!finished)
        finished = true
        try check(sqfs_block_processor_finish(processor), "compressing file data", path: path)

        guard let inodeTable = sqfs_meta_writer_create(file, compressor, 0),
              let directoryTable = sqfs_meta_writer_create(file, compressor, UInt32(SQFS_META_WRITER_KEEP_IN_MEMORY.rawValue)),
              let directoryWriter = sqfs_dir_writer_create(directoryTable, 0) else {
            throw HuskError(.squashfs, "\(path): out of memory creating the metadata writers")
        }
        defer {
            husk_sqfs_destroy(UnsafeMutableRawPointer(directoryWriter))
            husk_sqfs_destroy(UnsafeMutableRawPointer(directoryTable))
            husk_sqfs_destroy(UnsafeMutableRawPointer(inodeTable))
        }

        var serializer = TreeSerializer(writer: self, inodeTable: inodeTable, directoryWriter: directoryWriter)
        serializer.number(root)
        superblock.inode_table_start = husk_sqfs_file_size(file)
        let rootInode = try serializer.write(directory: root, parentNumber: 0)
        superblock.inode_count = serializer.inodeCount
        superblock.root_inode_ref = rootInode.reference

        try check(sqfs_meta_writer_flush(inodeTable), "writing the inode table", path: path)
        try check(sqfs_meta_writer_flush(directoryTable), "writing the directory table", path: path)
        superblock.directory_table_start = husk_sqfs_file_size(file)
        try check(sqfs_meta_write_write_to_file(directoryTable), "writing the directory table", path: path)
        try check(sqfs_frag_table_write(fragments, file, &superblock, compressor), "writing the fragment table", path: path)
        try check(sqfs_id_table_write(ids, file, &superblock, compressor), "writing the id table", path: path)
        try check(sqfs_xattr_writer_flush(xattrs, file, &superblock, compressor), "writing extended attributes", path: path)
        superblock.bytes_used = husk_sqfs_file_size(file)
        try check(sqfs_super_write(&superblock, file), "writing the superblock", path: path)

        let padding = Int((4096 - superblock.bytes_used % 4096) % 4096)
        if padding > 0 {
            let zeros = [UInt8](repeating: 0, count: padding)
            try check(husk_sqfs_file_write_at(file, superblock.bytes_used, zeros, padding), "padding", path: path)
        }
    }

    // MARK: helpers for the serializer

    fileprivate func inode(for content: FileContent) -> UnsafeMutablePointer<sqfs_inode_generic_t>? {
        guard let handle = content.dataHandle else { return nil }
        return inodeSlots[handle].pointee
    }

    fileprivate func fill(_ inode: UnsafeMutablePointer<sqfs_inode_generic_t>, mode: UInt16,
                          metadata: EntryMetadata, number: UInt32, entryPath: String) throws {
        inode.pointee.base.mode = mode
        inode.pointee.base.mod_time = metadata.mtime
        inode.pointee.base.inode_number = number
        try check(sqfs_id_table_id_to_index(ids, metadata.uid, &inode.pointee.base.uid_idx), "recording uid of \(entryPath)", path: path)
        try check(sqfs_id_table_id_to_index(ids, metadata.gid, &inode.pointee.base.gid_idx), "recording gid of \(entryPath)", path: path)
        try check(sqfs_inode_set_xattr_index(inode, try xattrIndex(metadata.xattrs, entryPath: entryPath)),
                  "recording xattrs of \(entryPath)", path: path)
    }

    private func xattrIndex(_ list: [EntryMetadata.Xattr], entryPath: String) throws -> UInt32 {
        let supported = list.filter { sqfs_get_xattr_prefix_id($0.name) >= 0 }
        if supported.count < list.count {
            let dropped = list.filter { sqfs_get_xattr_prefix_id($0.name) < 0 }.map(\.name)
            HuskLog.logger.warning("\(entryPath): dropped extended attributes squashfs cannot store: \(dropped.joined(separator: ", "))")
        }
        guard !supported.isEmpty else { return 0xFFFF_FFFF }
        try check(sqfs_xattr_writer_begin(xattrs, 0), "recording xattrs of \(entryPath)", path: path)
        for xattr in supported {
            try check(sqfs_xattr_writer_add(xattrs, xattr.name, xattr.value, xattr.value.count),
                      "recording xattr \(xattr.name) of \(entryPath)", path: path)
        }
        var index: UInt32 = 0xFFFF_FFFF
        try check(sqfs_xattr_writer_end(xattrs, &index), "recording xattrs of \(entryPath)", path: path)
        return index
    }

    fileprivate func write(_ inode: UnsafeMutablePointer<sqfs_inode_generic_t>, to table: OpaquePointer,
                           entryPath: String) throws -> UInt64 {
        var block: UInt64 = 0
        var offset: UInt32 = 0
        sqfs_meta_writer_get_position(table, &block, &offset)
        try check(sqfs_meta_writer_write_inode(table, inode), "writing the inode of \(entryPath)", path: path)
        return (block << 16) | UInt64(offset)
    }
}

/// Numbers the inodes (children before their directory, hard links once)
/// and writes them with the directory listings, deepest first.
private struct TreeSerializer {
    struct Written {
        var number: UInt32
        var reference: UInt64
    }

    let writer: SquashWriter
    let inodeTable: OpaquePointer
    let directoryWriter: OpaquePointer
    private var numbers: [ObjectIdentifier: UInt32] = [:]
    private var linkCounts: [ObjectIdentifier: UInt32] = [:]
    private var writtenFiles: [ObjectIdentifier: Written] = [:]
    private(set) var inodeCount: UInt32 = 0

    init(writer: SquashWriter, inodeTable: OpaquePointer, directoryWriter: OpaquePointer) {
        self.writer = writer
        self.inodeTable = inodeTable
        self.directoryWriter = directoryWriter
    }

    /// The identity of a node's inode: hard links share their file's.
    private func identity(of node: TreeNode) -> ObjectIdentifier {
        if case .file(let content) = node.kind { return ObjectIdentifier(content.resolved) }
        return ObjectIdentifier(node)
    }

    /// Each directory's listing, sorted once in `number` for `write`.
    private var listings: [ObjectIdentifier: [(name: String, node: TreeNode)]] = [:]

    mutating func number(_ directory: TreeNode) {
        let listing = directory.sortedChildren
        listings[ObjectIdentifier(directory)] = listing
        for (_, child) in listing {
            if child.isDirectory { number(child); continue }
            let id = identity(of: child)
            linkCounts[id, default: 0] += 1
            if numbers[id] == nil {
                inodeCount += 1
                numbers[id] = inodeCount
            }
        }
        inodeCount += 1
        numbers[ObjectIdentifier(directory)] = inodeCount
    }

    mutating func write(directory: TreeNode, parentNumber: UInt32, path: String = "") throws -> Written {
        let myNumber = numbers[ObjectIdentifier(directory)]!
        var entries: [(name: String, written: Written, mode: UInt16)] = []
        var subdirectories: UInt32 = 0
        for (name, child) in listings.removeValue(forKey: ObjectIdentifier(directory)) ?? directory.sortedChildren {
            let childPath = path + "/" + name
            let mode = fileTypeBits(child.kind) | (resolvedMetadata(child).permissions & 0o7777)
            let written: Written
            if child.isDirectory {
                subdirectories += 1
                written = try write(directory: child, parentNumber: myNumber, path: childPath)
            } else {
                written = try writeLeaf(child, mode: mode, path: childPath)
            }
            entries.append((name, written, mode))
        }

        try check(sqfs_dir_writer_begin(directoryWriter, 0), "listing \(path.isEmpty ? "/" : path)", path: "image")
        for entry in entries {
            try check(sqfs_dir_writer_add_entry(directoryWriter, entry.name, entry.written.number,
                                                entry.written.reference, entry.mode),
                      "listing \(path)/\(entry.name)", path: "image")
        }
        try check(sqfs_dir_writer_end(directoryWriter), "listing \(path.isEmpty ? "/" : path)", path: "image")
        guard let inode = sqfs_dir_writer_create_inode(directoryWriter, 0, 0xFFFF_FFFF, parentNumber) else {
            throw HuskError(.squashfs, "out of memory writing directory \(path)")
        }
        defer { free(inode) }
        husk_sqfs_inode_set_nlink(inode, 2 + subdirectories)
        let mode = UInt16(SQFS_INODE_MODE_DIR.rawValue) | (directory.metadata.permissions & 0o7777)
        try writer.fill(inode, mode: mode, metadata: directory.metadata, number: myNumber, entryPath: path.isEmpty ? "/" : path)
        let reference = try writer.write(inode, to: inodeTable, entryPath: path)
        return Written(number: myNumber, reference: reference)
    }

    private mutating func writeLeaf(_ node: TreeNode, mode: UInt16, path: String) throws -> Written {
        let id = identity(of: node)
        if let done = writtenFiles[id] { return done }
        let number = numbers[id]!
        let inode: UnsafeMutablePointer<sqfs_inode_generic_t>
        var ownsInode = true
        switch node.kind {
        case .file(let content):
            guard let stored = writer.inode(for: content.resolved) else {
                throw HuskError(.squashfs, "internal error: no data stored for \(path)")
            }
            inode = stored
            ownsInode = false
            husk_sqfs_inode_set_nlink(inode, linkCounts[id] ?? 1)
        case .symlink(let target):
            let bytes = Array(target.utf8)
            guard let allocated = husk_sqfs_inode_alloc(bytes.count) else { throw HuskError(.squashfs, "out of memory") }
            inode = allocated
            inode.pointee.base.type = UInt16(SQFS_INODE_SLINK.rawValue)
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { husk_sqfs_inode_set_symlink_target(inode, $0.baseAddress, bytes.count) }
            }
            husk_sqfs_inode_set_nlink(inode, 1)
        case .characterDevice(let major, let minor), .blockDevice(let major, let minor):
            guard let allocated = husk_sqfs_inode_alloc(0) else { throw HuskError(.squashfs, "out of memory") }
            inode = allocated
            if case .characterDevice = node.kind {
                inode.pointee.base.type = UInt16(SQFS_INODE_CDEV.rawValue)
            } else {
                inode.pointee.base.type = UInt16(SQFS_INODE_BDEV.rawValue)
            }
            // Linux's new_encode_dev, which squashfs uses.
            husk_sqfs_inode_set_devno(inode, (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12))
            husk_sqfs_inode_set_nlink(inode, 1)
        case .fifo, .socket:
            guard let allocated = husk_sqfs_inode_alloc(0) else { throw HuskError(.squashfs, "out of memory") }
            inode = allocated
            if case .fifo = node.kind {
                inode.pointee.base.type = UInt16(SQFS_INODE_FIFO.rawValue)
            } else {
                inode.pointee.base.type = UInt16(SQFS_INODE_SOCKET.rawValue)
            }
            husk_sqfs_inode_set_nlink(inode, 1)
        case .directory, .whiteout:
            throw HuskError(.squashfs, "internal error: \(path) is not a leaf")
        }
        defer { if ownsInode { free(inode) } }
        try writer.fill(inode, mode: mode, metadata: resolvedMetadata(node), number: number, entryPath: path)
        let reference = try writer.write(inode, to: inodeTable, entryPath: path)
        let written = Written(number: number, reference: reference)
        writtenFiles[id] = written
        return written
    }

    private func resolvedMetadata(_ node: TreeNode) -> EntryMetadata {
        if case .file(let content) = node.kind { return content.resolved.metadata }
        return node.metadata
    }

    private func fileTypeBits(_ kind: TreeNode.Kind) -> UInt16 {
        let bits: SQFS_INODE_MODE
        switch kind {
        case .directory: bits = SQFS_INODE_MODE_DIR
        case .file: bits = SQFS_INODE_MODE_REG
        case .symlink: bits = SQFS_INODE_MODE_LNK
        case .characterDevice: bits = SQFS_INODE_MODE_CHR
        case .blockDevice: bits = SQFS_INODE_MODE_BLK
        case .fifo: bits = SQFS_INODE_MODE_FIFO
        case .socket: bits = SQFS_INODE_MODE_SOCK
        case .whiteout: bits = SQFS_INODE_MODE_REG
        }
        return UInt16(bits.rawValue)
    }
}
