import HuskCore
import HuskOCI

/// When `run|exec|shell docker://REF` asks the registry (Docker's `--pull`).
public enum PullPolicy: String, CaseIterable, Sendable {
    /// Always resolve the tag again; blobs and images already cached are reused.
    case always
    /// Use what the tag named when last pulled; fetch only when that is not cached.
    case missing
    /// Never use the network.
    case never
}

/// Where `docker://` images come from: HuskPull's RegistryImages (the
/// registry client, the blob cache, signatures and conversion). HuskRuntime
/// does not link a registry client, so that the program that starts
/// containers does not load one (README, "Where a start's time goes"):
/// without a RemoteImages, a `docker://` image is an error with the code
/// `noRegistryClient`, on which `husk` hands the command to `husk-full`.
public protocol RemoteImages {
    /// The converted image for `reference`: its path in the cache.
    func image(_ reference: RegistryReference) throws -> String
}

extension HuskError.Code {
    /// A `docker://` image where no RemoteImages was given.
    public static let noRegistryClient = HuskError.Code(rawValue: "no-registry-client")
}
