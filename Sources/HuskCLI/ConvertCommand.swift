import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskOCI
import HuskRunCommand
import HuskSquash
import HuskTrust

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert an OCI image or a SIF file into one squashfs file.",
        discussion: """
            SOURCE is oci:DIR[:TAG|@DIGEST] (an OCI image layout), oci-archive:FILE.tar[:TAG] \
            or docker-archive:FILE.tar[:REPO:TAG] (the format of docker save and podman save), \
            or sif:FILE.sif (a Singularity/Apptainer image). \
            Layers are verified against their digests and flattened as the OCI image spec says, \
            straight into the squashfs; nothing is extracted to disk. The output is written to \
            OUTPUT.tmp-XXXXXX and renamed, so a failed or interrupted conversion leaves nothing. \
            The same source and options always give a byte-identical file.

            A SIF file's primary partition (a squashfs) is copied entry by entry into a new \
            squashfs with Husk's compression and block size, and /.husk/ is added: a config whose \
            Env is what its /.singularity.d/env scripts assign, whose Entrypoint runs its runscript \
            (husk run IMAGE ARGS), with its labels, and a source record naming the SIF (its id, the \
            partition's digest as the one layer, the keys its signature objects name, not verified); \
            its startscript becomes /.husk/startscript. Ext3 and encrypted partitions are refused.
            """)

    @Argument(help: "The image to convert: oci:DIR, oci-archive:FILE.tar, docker-archive:FILE.tar or sif:FILE.sif.")
    var source: String

    @Argument(help: "The squashfs file to write (conventionally NAME.sqsh).")
    var output: String

    @Option(help: "Platform to pick from a multi-platform image, as OS/ARCH[/VARIANT] (default: this machine's).")
    var platform: String?

    @Option(help: "Compression: zstd[:LEVEL] (default zstd:3), gzip[:LEVEL], xz or lz4.")
    var compression: String = Compression.default.description

    @Option(help: "squashfs block size in bytes, a power of two from 4096 to 1048576.")
    var blockSize: Int = 128 << 10

    @Option(help: "Compression threads (default: all cores). Does not change the output.")
    var jobs: Int?

    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        var options = ImageConverter.Options.standard
        options.compression = try Compression(parsing: compression)
        options.blockSize = blockSize
        if let jobs {
            guard jobs >= 1 else { throw HuskError(.usage, "--jobs must be at least 1") }
            options.jobs = jobs
        }
        if source.hasPrefix("sif:") {
            let path = String(source.dropFirst(4))
            guard !path.isEmpty else { throw HuskError(.invalidReference, "invalid source \"\(source)\": name the file after sif:") }
            if platform != nil {
                throw HuskError(.usage, "--platform does not apply to a SIF file: it holds one architecture (husk inspect shows it)")
            }
            let result = try SIFConverter.convert(path, reference: source, to: output, options: options)
            print(result.outputPath)
            return
        }
        if !source.contains(":"), SIFFile.hasMagic(path: source) {
            throw HuskError(.invalidReference, "\(source) is a SIF file: write sif:\(source)")
        }
        let reference = try ImageReference(parsing: source)
        let wanted = try platform.map { try Platform(parsing: $0) }
        let image = try LocalImageResolver.resolve(reference, platform: wanted)
        let result = try ImageConverter.convert(image, to: output, options: options)
        print(result.outputPath)
    }
}
