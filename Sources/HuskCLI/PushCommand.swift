import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskOCI
import HuskPull
import HuskRegistry
import HuskRunCommand
import HuskRuntime

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Send an image to a registry.",
        discussion: """
            SOURCE is an OCI image (oci:DIR, oci-archive:FILE, docker-archive:FILE), pushed as \
            its layers with its own manifest (so the digest stays the same), or a Husk image \
            FILE.sqsh, pushed as a single-blob OCI artifact (artifactType \
            application/vnd.husk.image.v1: the .sqsh as the layer, its /.husk/config.json as the \
            config) that husk pull downloads as it is, without conversion. Blobs the registry \
            already has are skipped; blobs the cache knows another repository of the same \
            registry holds (pulled or pushed from there) are mounted from it instead of \
            uploaded. Prints the manifest digest.
            """)

    @Argument(help: "What to push: FILE.sqsh, oci:DIR, oci-archive:FILE or docker-archive:FILE.")
    var source: String

    @Argument(help: "Where: docker://HOST[:PORT]/REPO[:TAG].")
    var destination: String

    @Option(help: "Platform to pick from a multi-platform layout, as OS/ARCH[/VARIANT].")
    var platform: String?

    @Option(help: "Blobs sent at once (default 4).")
    var jobs: Int?

    @OptionGroup var registry: RegistryFlags
    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        let reference = try RegistryFlags.reference(destination)
        let source = try PushSource.load(self.source, platform: try platform.map { try Platform(parsing: $0) })
        let client = try RegistryClient(registry: reference.host, settings: try registry.settings())
        let pusher = ImagePusher(jobs: try RegistryFlags.jobs(jobs), cache: BlobCache(root: try HuskSettings.cacheRoot()))
        let progress = TransferProgress(enabled: !global.quiet)
        let blobs = source.blobs, manifest = source.manifest, mediaType = source.mediaType
        let digest = try runBlocking {
            try await client.using {
                try await pusher.push(blobs: blobs, manifest: manifest, mediaType: mediaType,
                                      to: reference, client: $0, progress: progress)
            }
        }
        print(digest)
    }
}
