import CLibArchive
import HuskCore

/// One header of a tar stream, as libarchive decoded it (pax, GNU and ustar).
public struct TarEntry {
    public enum Kind: Equatable, Sendable {
        case regular, directory, symlink, hardlink, characterDevice, blockDevice, fifo, socket
    }
    public var path: String
    public var kind: Kind
    /// Symlink or hardlink target, as stored.
    public var linkTarget: String?
    public var size: Int64
    /// Permission bits including setuid/setgid/sticky (07777).
    public var permissions: UInt16
    public var uid: UInt32
    public var gid: UInt32
    public var mtime: Int64
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Extended attributes from pax `SCHILY.xattr.*`/`LIBARCHIVE.xattr.*`, sorted by name.
    public var xattrs: [(name: String, value: [UInt8])]

    public init(path: String, kind: Kind, linkTarget: String? = nil, size: Int64 = 0, permissions: UInt16 = 0o644,
                uid: UInt32 = 0, gid: UInt32 = 0, mtime: Int64 = 0, deviceMajor: UInt32 = 0, deviceMinor: UInt32 = 0,
                xattrs: [(name: String, value: [UInt8])] = []) {
        self.path = path
        self.kind = kind
        self.linkTarget = linkTarget
        self.size = size
        self.permissions = permissions
        self.uid = uid
        self.gid = gid
        self.mtime = mtime
        self.deviceMajor = deviceMajor
        self.deviceMinor = deviceMinor
        self.xattrs = xattrs
    }
}

/// Reads a tar stream with libarchive, from a file (seekable, so skipped
/// members cost nothing) or from any `ByteSource` (a layer blob, possibly
/// gzip/zstd compressed, possibly itself a member of an outer archive).
public final class TarReader {
    private let archive: OpaquePointer
    private let feeder: SourceFeeder?
    private let what: String
    private var finished = false

    /// Holds the source and its read buffer for libarchive's callback; keeps
    /// the source's own error (e.g. a digest mismatch) so it is reported
    /// instead of libarchive's generic "read failed".
    final class SourceFeeder {
        let source: ByteSource
        var buffer: UnsafeMutableRawBufferPointer
        var error: Error?
        init(_ source: ByteSource) {
            self.source = source
            self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        }
        deinit { buffer.deallocate() }
    }

    /// A tar stream from `source`; gzip, zstd, xz and bzip2 are detected by magic.
    public init(source: ByteSource, what: String) throws {
        guard let archive = archive_read_new() else { throw HuskError(.io, "\(what): out of memory") }
        self.archive = archive
        self.what = what
        let feeder = SourceFeeder(source)
        self.feeder = feeder
        archive_read_support_format_tar(archive)
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_zstd(archive)
        archive_read_support_filter_xz(archive)
        archive_read_support_filter_bzip2(archive)
        let context = Unmanaged.passUnretained(feeder).toOpaque()
        let status = archive_read_open(archive, context, nil, { _, context, out in
            let feeder = Unmanaged<TarReader.SourceFeeder>.fromOpaque(context!).takeUnretainedValue()
            do {
                // libarchive only needs the bytes until its next callback.
                let bytes = try feeder.source.readBorrowed(scratch: feeder.buffer)
                out!.pointee = bytes.baseAddress
                return la_ssize_t(bytes.count)
            } catch {
                feeder.error = error
                return -1
            }
        }, nil)
        if status != ARCHIVE_OK { try fail("cannot open") }
    }

    /// An uncompressed tar file on disk (the archive transports).
    public init(path: String, what: String) throws {
        guard let archive = archive_read_new() else { throw HuskError(.io, "\(what): out of memory") }
        self.archive = archive
        self.what = what
        self.feeder = nil
        archive_read_support_format_tar(archive)
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_zstd(archive)
        if !FilePath.exists(path) {
            archive_read_free(archive)
            throw HuskError(.notFound, "\(what): no such file (check the path)")
        }
        if archive_read_open_filename(archive, path, 1 << 20) != ARCHIVE_OK { try fail("cannot open") }
    }

    deinit { archive_read_free(archive) }

    private func fail(_ action: String) throws -> Never {
        if let error = feeder?.error { throw error }
        let message = archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"
        throw HuskError(.corruptArchive, "\(what): corrupt or truncated archive (\(action): \(message))")
    }

    /// The next header, or nil at the end of the archive.
    public func next() throws -> TarEntry? {
        if finished { return nil }
        var entryPointer: OpaquePointer?
        let status = archive_read_next_header(archive, &entryPointer)
        if status == ARCHIVE_EOF {
            finished = true
            return nil
        }
        if status < ARCHIVE_WARN { try fail("reading header") }
        guard let entry = entryPointer else { try fail("reading header") }
        return try decode(entry)
    }

    private func decode(_ entry: OpaquePointer) throws -> TarEntry {
        let rawPath = archive_entry_pathname_utf8(entry) ?? archive_entry_pathname(entry)
        guard let rawPath else { try fail("entry without a name") }
        let path = String(cString: rawPath)
        let hardlink = (archive_entry_hardlink_utf8(entry) ?? archive_entry_hardlink(entry)).map { String(cString: $0) }
        let symlink = (archive_entry_symlink_utf8(entry) ?? archive_entry_symlink(entry)).map { String(cString: $0) }
        let kind: TarEntry.Kind
        if hardlink != nil {
            kind = .hardlink
        } else {
            // AE_IF* are cast macros Swift cannot import; these are their values.
            switch archive_entry_filetype(entry) {
            case 0o100000: kind = .regular
            case 0o040000: kind = .directory
            case 0o120000: kind = .symlink
            case 0o020000: kind = .characterDevice
            case 0o060000: kind = .blockDevice
            case 0o010000: kind = .fifo
            case 0o140000: kind = .socket
            default:
                throw HuskError(.corruptArchive, "\(what): entry \"\(path)\" has an unknown file type")
            }
        }
        var xattrs: [(name: String, value: [UInt8])] = []
        if archive_entry_xattr_reset(entry) > 0 {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK {
                guard let name else { continue }
                let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                xattrs.append((String(cString: name), bytes))
            }
            xattrs.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        }
        return TarEntry(
            path: path, kind: kind, linkTarget: hardlink ?? symlink,
            size: archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : 0,
            permissions: UInt16(truncatingIfNeeded: archive_entry_perm(entry)) & 0o7777,
            uid: UInt32(truncatingIfNeeded: archive_entry_uid(entry)),
            gid: UInt32(truncatingIfNeeded: archive_entry_gid(entry)),
            mtime: Int64(archive_entry_mtime(entry)),
            deviceMajor: UInt32(truncatingIfNeeded: archive_entry_rdevmajor(entry)),
            deviceMinor: UInt32(truncatingIfNeeded: archive_entry_rdevminor(entry)),
            xattrs: xattrs)
    }

    /// Streams the current entry's data in libarchive's own buffers (no copy);
    /// holes of sparse files are delivered as zeros so sizes stay exact.
    public func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var position: Int64 = 0
        var block: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        let zeros = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let status = archive_read_data_block(archive, &block, &size, &offset)
            if status == ARCHIVE_EOF { return }
            if status < ARCHIVE_WARN { try fail("reading data") }
            while position < offset {
                let gap = Int(min(Int64(zeros.count), offset - position))
                try zeros.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<gap])) }
                position += Int64(gap)
            }
            if size > 0, let block {
                try body(UnsafeRawBufferPointer(start: block, count: size))
                position += Int64(size)
            }
        }
    }

    /// Copies the current entry's data into `buffer`; 0 at the entry's end.
    public func readData(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = archive_read_data(archive, buffer.baseAddress, buffer.count)
        if n < 0 { try fail("reading data") }
        return n
    }

    /// Reads what follows the end-of-archive marker so a verifying source
    /// sees (and checks) every byte of the blob.
    public func finish() throws {
        if let feeder { try feeder.source.drain() }
    }
}

/// The data of one archive member as a `ByteSource` (for a layer blob inside an oci-archive).
public final class TarMemberSource: ByteSource {
    private let reader: TarReader
    public init(positionedAt reader: TarReader) { self.reader = reader }
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try reader.readData(into: buffer)
    }
}
