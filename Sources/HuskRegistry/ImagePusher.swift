import AsyncHTTPClient
import Dispatch
import FoundationEssentials
import Glibc
import HuskCore
import HuskOCI
import NIOCore

/// One blob to push: where its bytes come from and what they must be.
public struct PushBlob: Sendable {
    public var descriptor: Descriptor
    /// Opens the bytes anew for each attempt.
    public var open: @Sendable () throws -> ByteSource

    public init(descriptor: Descriptor, open: @escaping @Sendable () throws -> ByteSource) {
        self.descriptor = descriptor
        self.open = open
    }
}

/// `husk push`: blobs first (skipped when the registry has them, mounted
/// when it has them in another repository), then the manifest.
public struct ImagePusher: Sendable {
    public var jobs: Int
    /// Where blobs were pulled from: a blob another repository of the same
    /// registry holds is mounted from there instead of uploaded.
    public var cache: BlobCache?

    public init(jobs: Int, cache: BlobCache? = nil) {
        self.jobs = max(1, jobs)
        self.cache = cache
    }

    public func push(blobs: [PushBlob], manifest: [UInt8], mediaType: String, to reference: RegistryReference,
                     client: RegistryClient, progress: TransferProgress) async throws -> Digest {
        var seen = Set<Digest>()
        var pending = blobs.filter { seen.insert($0.descriptor.digest).inserted }[...]
        try await withThrowingTaskGroup(of: Void.self) { group in
            func startNext() {
                guard let blob = pending.popFirst() else { return }
                group.addTask { try await pushBlob(blob, repository: reference.repository, client: client, progress: progress) }
            }
            for _ in 0..<jobs { startNext() }
            while try await group.next() != nil { startNext() }
        }
        let tag = reference.tag ?? reference.digest?.description ?? "latest"
        let digest = try await client.putManifest(repository: reference.repository, reference: tag, bytes: manifest,
                                                  mediaType: mediaType)
        if let wanted = reference.digest, wanted != digest {
            throw HuskError(.digestMismatch, "docker://\(reference): the pushed manifest is \(digest), not the digest in the reference")
        }
        return digest
    }

    private func pushBlob(_ blob: PushBlob, repository: String, client: RegistryClient, progress: TransferProgress) async throws {
        let digest = blob.descriptor.digest
        let id = digest.description
        progress.begin(id, label: digest.short, total: blob.descriptor.size)
        if try await client.blobExists(repository: repository, digest: digest) {
            progress.finish(id, note: "exists")
            return
        }
        let sources = cache?.repositories(holding: digest, on: client.endpoint.name) ?? []
        for source in sources.reversed() where source != repository {
            if try await client.mountBlob(repository: repository, digest: digest, from: source) {
                cache?.recordOrigin(digest, registry: client.endpoint.name, repository: repository)
                progress.finish(id, note: "mounted from \(source)")
                return
            }
        }
        let open = blob.open
        try await client.uploadBlob(repository: repository, digest: digest, size: blob.descriptor.size) {
            progress.reset(id, to: 0)
            return .stream(ByteSourceChunks(source: try open(), progress: progress, id: id), length: .known(blob.descriptor.size))
        }
        cache?.recordOrigin(digest, registry: client.endpoint.name, repository: repository)
        progress.finish(id, note: "pushed")
    }
}

/// A `ByteSource` as the async byte-buffer sequence an upload body takes.
struct ByteSourceChunks: AsyncSequence, @unchecked Sendable {
    typealias Element = ByteBuffer
    let source: ByteSource
    let progress: TransferProgress
    let id: String

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: ByteSourceChunks
        mutating func next() async throws -> ByteBuffer? {
            var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
            let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) { pointer in
                try chunks.source.read(into: UnsafeMutableRawBufferPointer(rebasing: pointer[0..<(1 << 20)]))
            }
            if n == 0 { return nil }
            chunks.progress.advance(chunks.id, by: n)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: self) }
}

extension ImagePusher {
    /// Digest and size of a blob whose descriptor lacks its size
    /// (docker-archive layers), by reading it once.
    public static func measure(_ open: () throws -> ByteSource, algorithm: String = "sha256") throws -> (Digest, Int64) {
        let source = try open()
        var hasher = DigestHasher(algorithm: algorithm)
        var size: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            size += Int64(n)
        }
        return (hasher.finalize(), size)
    }
}

/// Runs async registry work from Husk's synchronous command-line paths.
public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
