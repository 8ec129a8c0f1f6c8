import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskOCI
import HuskPull
import HuskRegistry
import HuskRunCommand
import HuskRuntime

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download an image from a registry and convert it into a squashfs file.",
        discussion: """
            Resolves the tag (an index picks this machine's platform, or --platform), fetches \
            config and layers in parallel, verifies each against its digest as it streams and \
            keeps them in the blob cache ${HUSK_CACHEDIR:-$XDG_CACHE_HOME/husk}/blobs. The image \
            is then converted once into the cache's images/ directory (or taken as it is, for an \
            image pushed with husk push FILE.sqsh) and the path printed; with OUTPUT it is also \
            placed there (a hard link where possible). An interrupted pull resumes where it \
            stopped; concurrent pulls of the same image download each blob once.

            Credentials come from husk login, else from Docker's config.json. Progress is shown \
            on a terminal, per layer.
            """)

    @Argument(help: "The image: docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST] (no host: Docker Hub).")
    var reference: String

    @Argument(help: "Also write the image here (NAME.sqsh).")
    var output: String?

    @Option(help: "Platform to pick from a multi-platform image, as OS/ARCH[/VARIANT] (default: this machine's).")
    var platform: String?

    @Option(help: "Blobs fetched at once (default 4).")
    var jobs: Int?

    @Flag(help: "Only fetch and verify the blobs into the cache; print the manifest digest.")
    var blobsOnly = false

    @OptionGroup var registry: RegistryFlags
    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        let reference = try RegistryFlags.reference(self.reference)
        let images = RegistryImages(cacheRoot: try HuskSettings.cacheRoot(), settings: try registry.settings(),
                                    platform: try platform.map { try Platform(parsing: $0) },
                                    jobs: try RegistryFlags.jobs(jobs), showProgress: !global.quiet,
                                    policy: try HuskSettings.sitePolicy())
        let pulled = try images.pull(reference, blobsOnly: blobsOnly)
        if blobsOnly {
            print(pulled.manifestDigest)
            return
        }
        let path = try images.materialize(pulled)
        if let output {
            try ImageCache.linkOrCopy(path, to: output)
            print(output)
        } else {
            print(path)
        }
    }
}
