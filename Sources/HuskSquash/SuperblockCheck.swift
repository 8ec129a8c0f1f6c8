import HuskCore

/// The squashfs superblock as stored in the first 96 bytes (little-endian),
/// checked before libsquashfs follows any offset in it.
///
/// libsquashfs 1.2 checks the magic, version, block size and compressor, but
/// trusts the table offsets and never compares `bytes_used` with the file: an
/// interrupted copy then fails deep inside a table read with a vague error, and
/// crafted offsets reach code paths that were never meant for them. These checks
/// are the ones the kernel makes when it mounts a squashfs (fs/squashfs/super.c),
/// so every image the kernel or squashfuse accepts passes them; each failure is
/// one line naming the file, what is wrong and the fix.
struct SuperblockCheck {
    static let size = 96
    static let magic: UInt32 = 0x7371_7368  // "hsqs"
    /// An absent optional table (fragments, export, xattr ids).
    static let absent = UInt64.max
    /// Uncompressed size of a metadata block; table indexes hold one u64 per block.
    static let metadataBlockSize: UInt64 = 8192

    let magic: UInt32
    let inodeCount: UInt32
    let blockSize: UInt32
    let fragmentCount: UInt32
    let compressionID: UInt16
    let blockLog: UInt16
    let idCount: UInt16
    let versionMajor: UInt16
    let versionMinor: UInt16
    let rootInodeRef: UInt64
    let bytesUsed: UInt64
    let idTableStart: UInt64
    let xattrIDTableStart: UInt64
    let inodeTableStart: UInt64
    let directoryTableStart: UInt64
    let fragmentTableStart: UInt64
    let exportTableStart: UInt64

    /// Decodes the first `size` bytes of an image.
    init(_ bytes: [UInt8]) {
        precondition(bytes.count >= Self.size)
        func le<T: FixedWidthInteger & UnsignedInteger>(_ offset: Int, _: T.Type) -> T {
            (0..<MemoryLayout<T>.size).reduce(T.zero) { $0 | T(bytes[offset + $1]) << (8 * $1) }
        }
        magic = le(0, UInt32.self)
        inodeCount = le(4, UInt32.self)
        blockSize = le(12, UInt32.self)
        fragmentCount = le(16, UInt32.self)
        compressionID = le(20, UInt16.self)
        blockLog = le(22, UInt16.self)
        idCount = le(26, UInt16.self)
        versionMajor = le(28, UInt16.self)
        versionMinor = le(30, UInt16.self)
        rootInodeRef = le(32, UInt64.self)
        bytesUsed = le(40, UInt64.self)
        idTableStart = le(48, UInt64.self)
        xattrIDTableStart = le(56, UInt64.self)
        inodeTableStart = le(64, UInt64.self)
        directoryTableStart = le(72, UInt64.self)
        fragmentTableStart = le(80, UInt64.self)
        exportTableStart = le(88, UInt64.self)
    }

    /// Checks the start of an image file (`head`: its first bytes, up to `size`)
    /// of `fileSize` bytes; throws `.invalidImage` with one line on the first problem.
    static func validate(head: [UInt8], fileSize: UInt64, path: String) throws {
        let again = "copy or convert it again"
        func damaged(_ what: String) -> HuskError {
            HuskError(.invalidImage, "\(path): damaged squashfs superblock: \(what); \(again)")
        }
        let startsWithMagic = head.count >= 4 && Array(head.prefix(4)) == [0x68, 0x73, 0x71, 0x73]
        if fileSize == 0 {
            throw HuskError(.invalidImage, "\(path): empty file, not a squashfs image (an interrupted copy?); \(again)")
        }
        if head.count < size {
            if startsWithMagic {
                throw HuskError(.invalidImage, "\(path): truncated: \(fileSize) of at least \(size) bytes (an interrupted copy?); \(again)")
            }
            throw HuskError(.invalidImage, "\(path): not a squashfs image (\(fileSize) bytes, too short); give a .sqsh file made by husk convert or mksquashfs")
        }
        let sb = SuperblockCheck(head)
        guard sb.magic == magic else {
            throw HuskError(.invalidImage, "\(path): not a squashfs image (no squashfs magic at the start); give a .sqsh file made by husk convert or mksquashfs")
        }
        guard sb.versionMajor == 4, sb.versionMinor == 0 else {
            throw HuskError(.invalidImage, "\(path): squashfs version \(sb.versionMajor).\(sb.versionMinor), but Husk reads only 4.0; convert the image again")
        }
        // A truncated copy is the likely damage, so it is named before anything it may explain.
        if sb.bytesUsed > fileSize {
            throw HuskError(.invalidImage, "\(path): truncated: \(fileSize) of \(sb.bytesUsed) bytes (an interrupted copy?); \(again)")
        }
        guard sb.blockSize.nonzeroBitCount == 1, (4096...(1 << 20)).contains(sb.blockSize) else {
            throw damaged("block size \(sb.blockSize) is not a power of two from 4 KiB to 1 MiB")
        }
        guard UInt32(sb.blockLog) == UInt32(sb.blockSize.trailingZeroBitCount) else {
            throw damaged("block_log \(sb.blockLog) does not match block size \(sb.blockSize)")
        }
        guard (1...6).contains(sb.compressionID) else {  // gzip, lzma, lzo, xz, lz4, zstd
            throw damaged("unknown compressor id \(sb.compressionID)")
        }
        guard sb.idCount > 0 else { throw damaged("no entries in the uid/gid table") }
        try sb.checkTables(damaged)
    }

    /// The layout every writer uses and the kernel requires: superblock, data,
    /// inode table, directory table, then the fragment, export, id and xattr
    /// tables, each located by its index (one u64 per metadata block), all
    /// within `bytes_used`.
    private func checkTables(_ damaged: (String) -> HuskError) throws {
        func indexBytes(entries: UInt64, entrySize: UInt64) -> UInt64 {
            (entries * entrySize + Self.metadataBlockSize - 1) / Self.metadataBlockSize * 8
        }
        func fits(_ name: String, at start: UInt64, length: UInt64) throws {
            guard start > directoryTableStart else {
                throw damaged("the \(name) table (at \(start)) starts before the directory table (at \(directoryTableStart))")
            }
            guard start <= bytesUsed, length <= bytesUsed - start else {
                throw damaged("the \(name) table (at \(start), \(length) bytes) ends beyond bytes_used (\(bytesUsed))")
            }
        }
        guard bytesUsed >= UInt64(Self.size) else { throw damaged("bytes_used \(bytesUsed) is smaller than the superblock") }
        guard inodeTableStart >= UInt64(Self.size), inodeTableStart < directoryTableStart else {
            throw damaged("the inode table (at \(inodeTableStart)) does not lie between the superblock and the directory table (at \(directoryTableStart))")
        }
        guard directoryTableStart < bytesUsed else {
            throw damaged("the directory table (at \(directoryTableStart)) starts beyond bytes_used (\(bytesUsed))")
        }
        try fits("id", at: idTableStart, length: indexBytes(entries: UInt64(idCount), entrySize: 4))
        if fragmentCount > 0 {
            try fits("fragment", at: fragmentTableStart, length: indexBytes(entries: UInt64(fragmentCount), entrySize: 16))
        }
        if exportTableStart != Self.absent {
            try fits("export", at: exportTableStart, length: indexBytes(entries: UInt64(inodeCount), entrySize: 8))
        }
        if xattrIDTableStart != Self.absent {
            try fits("xattr id", at: xattrIDTableStart, length: 16)  // table start, count, reserved
        }
        // Root inode reference: metadata block offset (bits 16-47) and offset in the block (bits 0-15).
        let rootBlock = (rootInodeRef >> 16) & 0xFFFF_FFFF
        let rootOffset = rootInodeRef & 0xFFFF
        guard rootOffset < Self.metadataBlockSize, rootBlock < directoryTableStart - inodeTableStart else {
            throw damaged("the root inode reference (\(rootInodeRef)) points outside the inode table")
        }
    }
}
