import AsyncHTTPClient
import FoundationEssentials
import Glibc
import HuskCore
import HuskOCI
import Logging
import NIOCore
import NIOHTTP1

extension BlobCache {
    /// Takes the blob's lock without blocking a thread: polls, and says once
    /// that another job holds it (it is downloading the same blob).
    func lock(_ digest: Digest) async throws -> FileLock {
        try prepare(digest)
        let file = lockPath(digest)
        var waited = 0
        while true {
            if let lock = try FileLock.tryAcquire(file) { return lock }
            if waited == 40 { HuskLog.logger.info("waiting for another husk to fetch \(digest.short)") }
            waited += 1
            try await Task.sleep(nanoseconds: 25_000_000)
        }
    }

    /// Makes the blob present and verified in the cache: reused when intact,
    /// resumed from a partial download, fetched otherwise.
    public func ensure(_ descriptor: Descriptor, repository: String, client: RegistryClient,
                       progress: TransferProgress) async throws {
        let digest = descriptor.digest
        let label = digest.short
        let lock = try await lock(digest)
        defer { lock.release() }
        if FilePath.exists(path(digest)) {
            if isIntact(descriptor) {
                recordOrigin(digest, registry: client.endpoint.name, repository: repository)
                progress.begin(digest.description, label: label, total: descriptor.size)
                progress.finish(digest.description, note: "cached")
                return
            }
            HuskLog.logger.warning("cached blob \(digest) is corrupt; fetching it again")
            unlink(path(digest))
        }
        progress.begin(digest.description, label: label, total: descriptor.size)
        try await download(descriptor, repository: repository, client: client, progress: progress)
        recordOrigin(digest, registry: client.endpoint.name, repository: repository)
        progress.finish(digest.description, note: "done")
    }

    /// Streams into `<hex>.partial`, hashing as it goes, and renames it
    /// into place once verified. A partial file left by an earlier attempt
    /// is resumed; if the result does not verify, once more from zero.
    private func download(_ descriptor: Descriptor, repository: String, client: RegistryClient,
                          progress: TransferProgress) async throws {
        let digest = descriptor.digest
        let partial = partialPath(digest)
        let fd = Glibc.open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HuskError.io(errno, partial, doing: "cannot write") }
        defer { close(fd) }
        var transfer = Transfer(fd: fd, path: partial, descriptor: descriptor,
                                what: "blob \(digest) from \(client.endpoint.name)/\(repository)")
        var resumed = try transfer.adoptExisting()
        if resumed {
            HuskLog.logger.debug("resuming \(digest.short) at \(transfer.offset) bytes")
            progress.reset(digest.description, to: transfer.offset)
        }
        while true {
            try await transfer.fetchRest(repository: repository, client: client, progress: progress)
            let actual = transfer.hasher.finalize()
            if actual == digest { break }
            guard resumed else {
                unlink(partial)
                throw HuskError(.digestMismatch,
                    "\(transfer.what): digest mismatch: content is \(actual) (deleted from the cache; the registry holds a corrupt copy)")
            }
            // The partial file itself may be what is wrong.
            resumed = false
            try transfer.restart()
            progress.reset(digest.description, to: 0)
        }
        // Read-only: a `husk pull OUTPUT` hard link must not write through into the cache.
        fchmod(fd, 0o444)
        guard rename(partial, path(digest)) == 0 else { throw HuskError.io(errno, path(digest), doing: "cannot rename into place") }
    }

    /// One blob's bytes arriving in a file: where we are and the hash so far.
    struct Transfer {
        let fd: Int32
        let path: String
        let descriptor: Descriptor
        let what: String
        var offset: Int64 = 0
        var hasher: DigestHasher

        init(fd: Int32, path: String, descriptor: Descriptor, what: String) {
            self.fd = fd
            self.path = path
            self.descriptor = descriptor
            self.what = what
            hasher = DigestHasher(algorithm: descriptor.digest.algorithm)
        }

        var complete: Bool { descriptor.size >= 0 && offset == descriptor.size }

        mutating func adoptExisting() throws -> Bool {
            offset = try BlobCache.hashExisting(fd, into: &hasher, limit: descriptor.size)
            return offset > 0
        }

        mutating func restart() throws {
            offset = 0
            hasher = DigestHasher(algorithm: descriptor.digest.algorithm)
            guard ftruncate(fd, 0) == 0 else { throw HuskError.io(errno, path, doing: "cannot truncate") }
        }

        /// From `offset` to the end, resuming with Range after a dropped
        /// connection (three times at most).
        mutating func fetchRest(repository: String, client: RegistryClient, progress: TransferProgress) async throws {
            let id = descriptor.digest.description
            var failures = 0
            repeat {
                do {
                    let response = try await client.openBlob(repository: repository, digest: descriptor.digest, offset: offset)
                    if response.status.code == 200 && offset > 0 {
                        // The registry ignored Range: start over.
                        try restart()
                        progress.reset(id, to: 0)
                    } else if response.status.code == 206, !BlobCache.rangeStarts(response, at: offset) {
                        throw HuskError(.registry, "\(what): the registry sent the wrong range")
                    }
                    for try await buffer in response.body {
                        let count = buffer.readableBytes
                        if descriptor.size >= 0 && offset + Int64(count) > descriptor.size {
                            throw HuskError(.digestMismatch, "\(what): the registry sent more than the \(descriptor.size) bytes the manifest declares")
                        }
                        try buffer.withUnsafeReadableBytes { bytes in
                            hasher.update(bytes)
                            try BlobCache.writeAll(fd, bytes, at: offset, path: path)
                        }
                        offset += Int64(count)
                        progress.advance(id, by: count)
                    }
                    if descriptor.size < 0 || complete { return }
                    throw HuskError(.network, "\(what): the connection ended after \(offset) of \(descriptor.size) bytes")
                } catch let error as HuskError where error.code != .network {
                    throw error
                } catch {
                    guard failures < 3 else { throw client.describe(error, what: "fetch \(what)") }
                    failures += 1
                    HuskLog.logger.debug("\(what): \(error); resuming")
                    try await Task.sleep(nanoseconds: UInt64(failures) * 500_000_000)
                }
            } while true
        }
    }

    /// Hashes what a previous attempt left; returns its length (0 when it
    /// is longer than the blob and so useless).
    static func hashExisting(_ fd: Int32, into hasher: inout DigestHasher, limit: Int64) throws -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return 0 }
        let size = Int64(st.st_size)
        if size == 0 { return 0 }
        if limit >= 0 && size >= limit {
            // Complete but not renamed, or too long: verify from scratch.
            _ = ftruncate(fd, 0)
            return 0
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        while offset < size {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard n > 0 else { _ = ftruncate(fd, 0); return 0 }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += Int64(n)
        }
        return offset
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw HuskError.io(errno, path, doing: "cannot write")
            }
            done += n
        }
    }

    /// `Content-Range: bytes START-END/TOTAL` starts where we asked.
    static func rangeStarts(_ response: HTTPClientResponse, at offset: Int64) -> Bool {
        guard let range = response.headers.first(name: "Content-Range") else { return false }
        let numbers = range.split(whereSeparator: { !$0.isNumber })
        return numbers.first.flatMap { Int64($0) } == offset
    }
}
