import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskPull
import HuskRunCommand
import HuskRuntime
import HuskTrust

struct Policy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "The site's policy (/etc/husk/husk.toml, see husk.toml(5)): what it allows.",
        discussion: """
            Run, exec, shell, instance start and pull check the site's policy before anything is \
            fetched or mounted: allowed registries, revoked images (by manifest, config or layer \
            digest, with the reason and what replaces them), --fakeroot and extract mode, where -B \
            sources may lie. A refusal is one line starting "refused:" and exit status 1.
            """,
        subcommands: [PolicyCheck.self])
}

struct PolicyCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Print whether each IMAGE may run under the site's policy, without running it.",
        discussion: """
            One line per image: "IMAGE: allowed", or the refusal. docker:// images are looked up \
            in the registry (their manifest, not their layers). Exit status 1 when any is refused \
            or cannot be checked.
            """)

    @Argument(help: "Images: FILE.sqsh, a directory, docker://REF, oci:DIR, oci-archive:FILE or docker-archive:FILE.")
    var images: [String]

    @OptionGroup var registry: RegistryFlags
    @OptionGroup var global: GlobalOptions

    func run() throws {
        global.bootstrapLogging()
        let policy = try HuskSettings.sitePolicy()
        print("policy: \(policy.path ?? "none (everything is allowed)")")
        let cache = try HuskSettings.cacheRoot()
        let registries = RegistryImages(cacheRoot: cache, settings: try registry.settings(), policy: policy)
        var failed = false
        for image in images {
            do {
                if let refusal = try PolicyVerdict.check(image, policy: policy, cacheDirectory: cache,
                                                         registry: registries) {
                    print("\(image): \(refusal)")
                    failed = true
                } else {
                    print("\(image): allowed")
                }
            } catch let error as HuskError {
                print("\(image): cannot check: \(error.message)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}
