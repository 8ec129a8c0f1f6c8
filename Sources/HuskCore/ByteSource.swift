#if canImport(Glibc)
import Glibc
#endif

/// A forward-only stream of bytes: a blob file, a member of a tar archive,
/// a digest-verifying wrapper. `read` returns 0 at the end.
public protocol ByteSource: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int

    /// The next bytes of the stream, valid until the next call; empty at the
    /// end. A source that already holds them in memory lends them without a
    /// copy; any other reads into `scratch` (the default).
    func readBorrowed(scratch: UnsafeMutableRawBufferPointer) throws -> UnsafeRawBufferPointer
}

extension ByteSource {
    public func readBorrowed(scratch: UnsafeMutableRawBufferPointer) throws -> UnsafeRawBufferPointer {
        let n = try read(into: scratch)
        return UnsafeRawBufferPointer(rebasing: scratch[0..<n])
    }

    /// Reads to the end; `limit` guards against a hostile manifest or config.
    public func readAll(limit: Int = 64 << 20, what: String) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return result }
            result.append(contentsOf: chunk[0..<n])
            if result.count > limit {
                throw HuskError(.invalidManifest, "\(what) is larger than \(limit >> 20) MiB: refusing to load it")
            }
        }
    }

    /// Reads and discards the rest of the stream (so a verifying wrapper sees every byte).
    public func drain() throws {
        var chunk = [UInt8](repeating: 0, count: 256 << 10)
        while try chunk.withUnsafeMutableBytes({ try read(into: $0) }) > 0 {}
    }
}

/// Reads a file through a descriptor it owns.
public final class FileByteSource: ByteSource {
    private let fd: Int32
    public let path: String

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HuskError.io(errno, path) }
        self.fd = fd
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw HuskError.io(errno, path)
        }
    }
}

/// Bytes already in memory (a config, a manifest).
public final class MemoryByteSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + n)])) }
        offset += n
        return n
    }
}

/// Passes bytes through while hashing them; at the end checks size and digest.
/// A blob that does not match is an error at the moment its last byte is read,
/// so nothing derived from it is ever committed.
public final class VerifyingByteSource: ByteSource {
    private let inner: ByteSource
    private var hasher: DigestHasher
    private let expected: Digest
    private let expectedSize: Int64?
    private let what: String
    private var count: Int64 = 0
    private var finished = false
    /// Kept so that a reader who ignores the first failure (libarchive may, at
    /// the very end of a stream) gets it again on every later read.
    private var failure: HuskError?

    public init(_ inner: ByteSource, digest: Digest, size: Int64?, what: String) {
        self.inner = inner
        self.hasher = DigestHasher(algorithm: digest.algorithm)
        self.expected = digest
        self.expectedSize = size
        self.what = what
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let failure { throw failure }
        if finished { return 0 }
        do {
            return try verifiedRead(into: buffer)
        } catch let error as HuskError {
            failure = error
            throw error
        }
    }

    private func verifiedRead(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = try inner.read(into: buffer)
        if n > 0 {
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            count += Int64(n)
            if let expectedSize, count > expectedSize {
                throw HuskError(.digestMismatch, "\(what): size mismatch: more than the \(expectedSize) bytes its descriptor declares (blob is corrupt or replaced; re-fetch it)")
            }
            return n
        }
        if let expectedSize, count != expectedSize {
            throw HuskError(.digestMismatch, "\(what): size mismatch: \(count) bytes, descriptor declares \(expectedSize) (blob is truncated or replaced; re-fetch it)")
        }
        let actual = hasher.finalize()
        if actual != expected {
            throw HuskError(.digestMismatch, "\(what): digest mismatch: content is \(actual), expected \(expected) (blob is corrupt or replaced; re-fetch it)")
        }
        finished = true
        return 0
    }
}

extension HuskError {
    /// An I/O failure naming the path and the system's reason.
    public static func io(_ code: Int32, _ path: String, doing action: String? = nil) -> HuskError {
        let reason = String(cString: strerror(code))
        let code: Code = (code == ENOENT) ? .notFound : .io
        if let action { return HuskError(code, "\(action) \(path): \(reason)") }
        return HuskError(code, "\(path): \(reason)")
    }
}
