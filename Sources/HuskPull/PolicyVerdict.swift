import HuskCore
import HuskOCI
import HuskRegistry
import HuskRuntime
import HuskTrust

/// `husk policy check`: whether the site's policy lets an image run,
/// without running (or pulling the layers of) anything.
public enum PolicyVerdict {
    /// nil when the image may run; the refusal ("refused: ...") when not.
    /// Other failures (no such image, a registry that does not answer) throw.
    public static func check(_ argument: String, policy: SitePolicy, cacheDirectory: String,
                             registry: RegistryImages) throws -> String? {
        do {
            if argument.hasPrefix("docker://") {
                guard case .registry(let reference) = try ImageReference(parsing: argument) else {
                    throw HuskError(.invalidReference, "\(argument): not a registry reference")
                }
                let digests = try registry.digests(reference)
                try policy.checkRevocation(of: argument, digests)
                if let manifest = digests.manifest {
                    try runBlocking { try await registry.vetSignatures(reference, manifest: manifest, fetch: true) }
                }
            } else {
                var registry = registry
                registry.pull = .missing
                let image = try RuntimeImage.open(argument, cacheDirectory: cacheDirectory,
                                                  registry: registry, policy: policy)
                if let digests = image.digests { try policy.checkRevocation(of: argument, digests) }
            }
            return nil
        } catch let error as HuskError where error.code == .refused {
            return error.message
        }
    }
}
