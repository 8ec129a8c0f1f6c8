/// Keeps a copy of the files a caller wants (small package databases)
/// while their data streams to the squashfs writer, so metadata can be
/// derived from the final image without reading it again.
final class CapturingSink: FileDataSink {
    private let inner: FileDataSink
    private let wants: (String) -> Bool
    /// A file larger than this is not kept: a package database is megabytes.
    static let limit = 64 << 20
    private(set) var captured: [String: [UInt8]] = [:]

    init(_ inner: FileDataSink, wants: @escaping (String) -> Bool) {
        self.inner = inner
        self.wants = wants
    }

    func store(_ content: FileContent, path: String,
               produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        guard wants(path), content.size <= Self.limit else {
            try inner.store(content, path: path, produce: produce)
            return
        }
        var copy: [UInt8] = []
        copy.reserveCapacity(Int(content.size))
        try inner.store(content, path: path) { consume in
            // Both closures run only inside this call.
            try withoutActuallyEscaping(consume) { consume in
                try produce { chunk in
                    copy.append(contentsOf: chunk)
                    try consume(chunk)
                }
            }
        }
        captured[path] = copy
    }
}
