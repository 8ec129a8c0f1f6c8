import FoundationEssentials
import Glibc
import HuskCore
import HuskOCI

/// `husk convert`: one resolved image → one squashfs file, streamed layer by
/// layer, newest first, without extracting anything to disk.
public enum ImageConverter {
    public struct Options: Sendable {
        public var compression: Compression = .default
        public var blockSize: Int = 128 << 10
        /// Compression threads; the output does not depend on it.
        public var jobs: Int = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        /// More of `/.husk/`, derived from files of the final image.
        public var metadata: DerivedMetadata?
        public init() {}
    }

    /// Files of the final image to keep while converting (`wants`, by path
    /// relative to the root), and the files to add under `/.husk/` from
    /// them (the package inventory): name and content.
    public struct DerivedMetadata: Sendable {
        public var wants: @Sendable (String) -> Bool
        public var files: @Sendable ([String: [UInt8]]) throws -> [(name: String, bytes: [UInt8])]

        public init(wants: @escaping @Sendable (String) -> Bool,
                    files: @escaping @Sendable ([String: [UInt8]]) throws -> [(name: String, bytes: [UInt8])]) {
            self.wants = wants
            self.files = files
        }
    }

    public struct Result: Sendable {
        public var outputPath: String
        public var outputSize: Int64
        public var source: SourceRecord
    }

    public static func convert(_ image: ResolvedImage, to outputPath: String, options: Options) throws -> Result {
        guard (4096...(1 << 20)).contains(options.blockSize), options.blockSize & (options.blockSize - 1) == 0 else {
            throw HuskError(.usage, "invalid block size \(options.blockSize): use a power of two from 4096 to 1048576")
        }
        let output = try AtomicOutputFile(finalPath: outputPath)
        let created = parseCreated(image.config.created)
        let writer = try SquashWriter(path: output.temporaryPath, options: .init(
            compression: options.compression, blockSize: options.blockSize,
            jobs: options.jobs, modificationTime: created))
        let capture = options.metadata.map { CapturingSink(writer, wants: $0.wants) }
        let flattener = LayerFlattener(sink: capture ?? writer)
        // Newest layer first. The next (older) layer starts inflating on its
        // own thread while this one is read: otherwise the end of a big layer
        // whose files are all shadowed is spent waiting on gzip alone.
        let order = Array(image.layers.indices.reversed())
        var opened: ByteSource? = nil
        for (position, index) in order.enumerated() {
            let name = Self.name(of: index, in: image)
            let source = try opened ?? open(index, of: image)
            opened = position + 1 < order.count ? try open(order[position + 1], of: image) : nil
            flattener.beginLayer(index: index, name: name)
            try read(source, name: name) { reader, entry in
                try flattener.add(entry) { consume in try reader.readData(consume) }
            }
            if !flattener.recaptures.isEmpty {
                // Hard links to files this layer also shadows: read it once more.
                try read(try open(index, of: image), name: name) { reader, entry in
                    try flattener.recapture(entry) { consume in try reader.readData(consume) }
                }
            }
        }
        try flattener.finish()

        let source = SourceRecord(
            reference: image.reference.description, manifestDigest: image.manifestDigest,
            configDigest: image.configDigest,
            layers: image.layers.map { .init(digest: $0.descriptor.digest, mediaType: $0.descriptor.mediaType,
                                              size: $0.descriptor.size >= 0 ? $0.descriptor.size : nil) },
            platform: image.platform?.description, created: image.config.created,
            tool: "husk \(HuskVersion.current)", compression: options.compression.description,
            blockSize: options.blockSize)
        try addMountPoints(to: flattener.root, writer: writer, mtime: created)
        let derived = try options.metadata?.files(capture?.captured ?? [:]) ?? []
        try addMetadata(to: flattener.root, writer: writer,
                        files: [(SourceRecord.configName, image.configBytes), (SourceRecord.sourceName, try source.encoded())]
                            + derived.map { ($0.name, $0.bytes) },
                        mtime: created)
        try writer.finish(root: flattener.root)
        try output.commit()

        var st = stat()
        stat(outputPath, &st)
        return Result(outputPath: outputPath, outputSize: Int64(st.st_size), source: source)
    }

    private static func name(of index: Int, in image: ResolvedImage) -> String {
        "layer \(index + 1)/\(image.layers.count) \(image.layers[index].descriptor.digest.short)"
    }

    private static func open(_ index: Int, of image: ResolvedImage) throws -> ByteSource {
        let layer = image.layers[index]
        let source = try layer.open()
        // gzip goes through ISA-L; anything else (and gzip a docker-archive
        // does not declare) is detected and decompressed by libarchive.
        // ISA-L inflates (and the digest is checked) on a prefetching thread.
        guard layer.descriptor.mediaType.hasSuffix("gzip") else { return source }
        return try PrefetchingSource(GzipInflatingSource(source, what: name(of: index, in: image)))
    }

    private static func read(_ source: ByteSource, name: String,
                             _ body: (TarReader, TarEntry) throws -> Void) throws {
        let reader = try TarReader(source: source, what: name)
        while let entry = try reader.next() {
            try body(reader, entry)
        }
        try reader.finish()
    }

    /// `/.husk/config.json` (the config verbatim), `/.husk/source.json` and
    /// the derived files (mode 0755 for those named in `executables`);
    /// replaces any `/.husk` the layers brought.
    static func addMetadata(to root: TreeNode, writer: SquashWriter, files: [(String, [UInt8])],
                            executables: Set<String> = [], mtime: UInt32) throws {
        let directoryMetadata = EntryMetadata(permissions: 0o755, uid: 0, gid: 0, mtime: mtime, xattrs: [])
        let directory = TreeNode(kind: .directory, metadata: directoryMetadata, layer: -1)
        for (name, bytes) in files {
            let fileMetadata = EntryMetadata(permissions: executables.contains(name) ? 0o755 : 0o644, uid: 0, gid: 0,
                                             mtime: mtime, xattrs: [])
            let content = FileContent(metadata: fileMetadata, size: Int64(bytes.count))
            try writer.store(content, bytes: bytes, path: "\(SourceRecord.directory)/\(name)")
            directory.children[name] = TreeNode(kind: .file(content), metadata: fileMetadata, layer: -1)
        }
        root.children[SourceRecord.directory] = directory
    }

    /// Every run binds the host's `/etc/resolv.conf` and `/etc/hosts` over
    /// the image's. Where the image has none (most OCI images: Docker makes
    /// them at run time), they are added empty, as Apptainer's build does;
    /// without them each run would need an overlay on `/etc` to make the
    /// mount points (slower lookups below it, and a round trip to the FUSE
    /// server at each start). Anything the image has there (a file, a
    /// symlink) is kept as it is.
    static func addMountPoints(to root: TreeNode, writer: SquashWriter, mtime: UInt32) throws {
        guard let etc = root.children["etc"], case .directory = etc.kind else { return }
        let metadata = EntryMetadata(permissions: 0o644, uid: 0, gid: 0, mtime: mtime, xattrs: [])
        for name in ["hosts", "resolv.conf"] where etc.children[name] == nil {
            let content = FileContent(metadata: metadata, size: 0)
            try writer.store(content, bytes: [], path: "etc/" + name)
            etc.children[name] = TreeNode(kind: .file(content), metadata: metadata, layer: -1)
        }
    }

    /// The image's `created` as the superblock time (0 when absent or unparsable).
    static func parseCreated(_ text: String?) -> UInt32 {
        guard let text, let seconds = RFC3339.seconds(text), seconds > 0 else { return 0 }
        return UInt32(clamping: seconds)
    }
}
