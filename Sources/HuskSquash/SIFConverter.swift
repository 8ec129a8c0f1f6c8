import FoundationEssentials
import Glibc
import HuskCore
import Logging

/// `husk convert sif:FILE OUT.sqsh`: a Husk image from a SIF file's primary
/// partition. Every entry of the partition is kept (owners, modes, times,
/// hard links, `/.singularity.d` included, so the image still works for
/// tools that read it), and `/.husk/` is added: a config derived from
/// `/.singularity.d` and a source record naming the SIF.
///
/// The squashfs bytes cannot be kept as they are: adding `/.husk/` changes
/// the directory and inode tables, which follow the data. So the tree is
/// written again with Husk's writer (the compressor and block size of the
/// options, reproducibly: the same SIF gives the same file). The partition
/// itself is recorded by digest, as the image's one layer, with the media
/// type SingularityCE gives squashfs layers.
public enum SIFConverter {
    public static let layerMediaType = "application/vnd.sylabs.image.layer.v1.squashfs"

    public static func convert(_ path: String, reference: String, to outputPath: String,
                               options: ImageConverter.Options) throws -> ImageConverter.Result {
        guard (4096...(1 << 20)).contains(options.blockSize), options.blockSize & (options.blockSize - 1) == 0 else {
            throw HuskError(.usage, "invalid block size \(options.blockSize): use a power of two from 4096 to 1048576")
        }
        let image = try SIFImage(path: path)
        let sif = image.file
        let partitionDigest = try digest(of: image.primary, in: path)
        let metadata = try image.singularity()
        let config = try configuration(image, metadata: metadata, partitionDigest: partitionDigest, path: path)
        let configBytes = try encode(config)
        let mtime = UInt32(clamping: max(0, sif.created))

        let output = try AtomicOutputFile(finalPath: outputPath)
        let writer = try SquashWriter(path: output.temporaryPath, options: .init(
            compression: options.compression, blockSize: options.blockSize, jobs: options.jobs, modificationTime: mtime))
        let capture = options.metadata.map { CapturingSink(writer, wants: $0.wants) }
        // The partition's own /.husk (a SIF built from a Husk image) is replaced.
        let root = try SquashTreeCopier.copy(image.reader, into: capture ?? writer) { $0 == SourceRecord.directory }

        let arch = image.primary.partition?.arch ?? sif.arch
        let source = SourceRecord(
            reference: reference, manifestDigest: nil, configDigest: Digest.sha256(of: configBytes),
            layers: [.init(digest: partitionDigest, mediaType: layerMediaType, size: Int64(image.primary.size))],
            platform: arch == "unknown" ? nil : "linux/\(arch)", created: config.created,
            tool: "husk \(HuskVersion.current)", compression: options.compression.description, blockSize: options.blockSize,
            sif: .init(id: sif.id, partition: image.primary.id, arch: arch,
                       signedBy: sif.signatures.isEmpty ? nil : sif.signatures.map { $0.signature?.fingerprint ?? "unknown" }))
        var files: [(String, [UInt8])] = [(SourceRecord.configName, configBytes), (SourceRecord.sourceName, try source.encoded())]
        files += try options.metadata?.files(capture?.captured ?? [:]).map { ($0.name, $0.bytes) } ?? []
        if metadata?.hasStartscript == true {
            files.append(("startscript", Array(startscript.utf8)))
        }
        try ImageConverter.addMetadata(to: root, writer: writer, files: files, executables: ["startscript"], mtime: mtime)
        try writer.finish(root: root)
        try output.commit()

        var st = stat()
        stat(outputPath, &st)
        return ImageConverter.Result(outputPath: outputPath, outputSize: Int64(st.st_size), source: source)
    }

    /// `/.husk/startscript`, which `husk instance start` runs: the SIF's
    /// startscript as `apptainer instance start` runs it.
    static var startscript: String {
        "#!/bin/sh\n# Written by husk convert from a SIF file: its startscript, then the instance stays up.\n"
            + SingularityActions.start([])[2] + "\n"
    }

    /// The OCI config: Env from the environment scripts (evaluated over
    /// Husk's standard PATH, as they would be at run time), the runscript
    /// as Entrypoint (so `husk run` runs it with its arguments), labels,
    /// and the SIF's creation time and architecture.
    static func configuration(_ image: SIFImage, metadata: SingularityMetadata?, partitionDigest: Digest,
                              path: String) throws -> Config {
        var labels: [String: String]?
        if let bytes = try image.reader.readFile("\(SingularityMetadata.directory)/labels.json", limit: 1 << 20) {
            labels = try SingularityMetadata.labels(from: bytes, image: path)
        }
        var env: [String]?
        if let metadata {
            for warning in metadata.warnings(image: path) { HuskLog.logger.warning("\(warning)") }
            let evaluated = metadata.environment(base: ["PATH": StandardEnvironment.path])
            if !evaluated.unsetReads.isEmpty {
                let names = evaluated.unsetReads.map { "$" + $0 }.joined(separator: ", ")
                HuskLog.logger.warning("\(path): its environment scripts read \(names), which have no value when converting; the image's Env has them empty")
            }
            env = evaluated.environment.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { "\($0.key)=\($0.value)" }
        }
        let arch = image.primary.partition?.arch ?? image.file.arch
        return Config(
            architecture: arch == "unknown" ? nil : arch, os: "linux",
            created: image.file.created > 0 ? RFC3339.string(image.file.created) : nil,
            config: .init(Env: env, Entrypoint: metadata?.hasRunscript == true ? SingularityActions.run([]) : nil,
                          Labels: labels?.isEmpty == false ? labels : nil),
            rootfs: .init(type: "layers", diff_ids: [partitionDigest.description]))
    }

    /// The OCI image config Husk writes (a subset: what the runtime reads).
    struct Config: Codable {
        struct Settings: Codable {
            var Env: [String]?
            var Entrypoint: [String]?
            var Labels: [String: String]?
        }
        struct RootFS: Codable {
            var type: String
            var diff_ids: [String]
        }
        var architecture: String?
        var os: String
        var created: String?
        var config: Settings
        var rootfs: RootFS
    }

    static func encode(_ config: Config) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try encoder.encode(config)) + [0x0a]
    }

    /// sha256 of the partition's bytes as stored in the SIF.
    static func digest(of partition: SIFFile.Descriptor, in path: String) throws -> Digest {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HuskError.io(errno, path, doing: "cannot open") }
        defer { close(fd) }
        var hasher = DigestHasher(algorithm: "sha256")
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = partition.offset, left = partition.size
        while left > 0 {
            let want = Int(min(UInt64(buffer.count), left))
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(offset)) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                throw HuskError(.invalidImage, "\(path): its partition is cut short (the file changed while being read?); copy it again")
            }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
            offset += UInt64(got)
            left -= UInt64(got)
        }
        return hasher.finalize()
    }
}
