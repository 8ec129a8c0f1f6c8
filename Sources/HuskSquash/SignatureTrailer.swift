#if canImport(Glibc)
import Glibc
#endif
import HuskCore

/// Signatures ride after a Husk image's squashfs, in one file that stays
/// mountable by squashfuse, the kernel and ch-run, which read only up to the
/// superblock's `bytes_used` (DESIGN.md §2). The trailer starts at
/// `bytes_used` rounded up to 4 KiB (zeros in between) and is a sequence of
/// records, read forwards from there:
///
///     "HUSKSIG1" | payload length (u32 LE) | signature length (u32 LE) | payload | signature
///
/// A record appended by an interrupted `husk sign` is incomplete; it is
/// reported as such and cut off by the next `husk sign`.
public enum SignatureTrailer {
    public struct Record: Equatable, Sendable {
        public var payload: [UInt8]
        public var signature: [UInt8]
        public var offset: UInt64
    }

    public static let magic = Array("HUSKSIG1".utf8)
    static let headerSize = 16
    /// Far more than a payload or an OpenPGP signature needs.
    static let maxField = 1 << 20

    public static func start(bytesUsed: UInt64) -> UInt64 { (bytesUsed + 4095) & ~4095 }

    /// The records, and where the last complete one ends (the file's end
    /// unless a record was cut short: `incomplete`).
    public static func read(path: String, bytesUsed: UInt64) throws -> (records: [Record], end: UInt64, incomplete: Bool) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HuskError.io(errno, path, doing: "cannot read") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw HuskError.io(errno, path, doing: "cannot read") }
        let size = UInt64(st.st_size)
        var offset = start(bytesUsed: bytesUsed)
        guard size > offset else { return ([], max(size, bytesUsed), false) }
        try checkPadding(fd: fd, from: bytesUsed, to: offset, path: path)
        var records: [Record] = []
        while offset < size {
            guard size - offset >= UInt64(headerSize) else { return (records, offset, true) }
            let header = try pread(fd, count: headerSize, at: offset, path: path)
            guard Array(header[0..<8]) == magic else {
                throw HuskError(.invalidImage, "\(path): damaged signature trailer at byte \(offset) (no HUSKSIG1 record there); the file was changed after it was signed: copy it again")
            }
            let payloadLength = Int(littleEndian(header, 8)), signatureLength = Int(littleEndian(header, 12))
            guard payloadLength <= maxField, signatureLength <= maxField else {
                throw HuskError(.invalidImage, "\(path): damaged signature trailer at byte \(offset) (a record of \(payloadLength)+\(signatureLength) bytes)")
            }
            let total = UInt64(headerSize + payloadLength + signatureLength)
            guard size - offset >= total else { return (records, offset, true) }
            let body = try pread(fd, count: payloadLength + signatureLength, at: offset + UInt64(headerSize), path: path)
            records.append(Record(payload: Array(body[0..<payloadLength]), signature: Array(body[payloadLength...]),
                                  offset: offset))
            offset += total
        }
        return (records, offset, false)
    }

    /// Appends a record, first cutting off an incomplete one (an interrupted
    /// sign). The squashfs bytes are never touched.
    public static func append(path: String, bytesUsed: UInt64, payload: [UInt8], signature: [UInt8]) throws {
        guard payload.count <= maxField, signature.count <= maxField else {
            throw HuskError(.usage, "\(path): a signature record of \(payload.count)+\(signature.count) bytes is too large")
        }
        let (_, end, _) = try read(path: path, bytesUsed: bytesUsed)
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HuskError.io(errno, path, doing: "cannot write the signature to") }
        defer { close(fd) }
        let at = max(end, start(bytesUsed: bytesUsed))
        // Zeros up to the trailer where the image was not padded; a cut-off record goes.
        guard ftruncate(fd, off_t(at)) == 0 else { throw HuskError.io(errno, path, doing: "cannot extend") }
        var record = magic
        record += withUnsafeBytes(of: UInt32(payload.count).littleEndian, Array.init)
        record += withUnsafeBytes(of: UInt32(signature.count).littleEndian, Array.init)
        record += payload + signature
        var written = 0
        while written < record.count {
            let n = record.withUnsafeBytes { pwrite(fd, $0.baseAddress! + written, record.count - written, off_t(at) + off_t(written)) }
            guard n > 0 else { throw HuskError.io(errno, path, doing: "cannot write the signature to") }
            written += n
        }
        guard fsync(fd) == 0 else { throw HuskError.io(errno, path, doing: "cannot flush") }
    }

    /// sha256 of the squashfs, bytes [0, bytes_used): what is signed.
    public static func squashfsDigest(path: String, bytesUsed: UInt64) throws -> Digest {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HuskError.io(errno, path, doing: "cannot read") }
        defer { close(fd) }
        var hasher = DigestHasher(algorithm: "sha256")
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: UInt64 = 0
        while offset < bytesUsed {
            let want = Int(min(UInt64(buffer.count), bytesUsed - offset))
            let n = buffer.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, want, off_t(offset)) }
            guard n > 0 else {
                throw HuskError(.invalidImage, "\(path): truncated: the squashfs ends before its \(bytesUsed) bytes; copy it again")
            }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += UInt64(n)
        }
        return hasher.finalize()
    }

    /// The bytes between the squashfs and the trailer are not signed: they
    /// must be zeros, or one changed byte there would go unnoticed.
    static func checkPadding(fd: Int32, from: UInt64, to: UInt64, path: String) throws {
        guard to > from else { return }
        let bytes = try pread(fd, count: Int(to - from), at: from, path: path)
        if let index = bytes.firstIndex(where: { $0 != 0 }) {
            throw HuskError(.invalidImage, "\(path): byte \(from + UInt64(index)) between the squashfs and its signatures is not zero: the file was changed after it was signed")
        }
    }

    static func pread(_ fd: Int32, count: Int, at offset: UInt64, path: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            guard n > 0 else { throw HuskError.io(n < 0 ? errno : EIO, path, doing: "cannot read") }
            done += n
        }
        return bytes
    }

    static func littleEndian(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * $1) }
    }
}
