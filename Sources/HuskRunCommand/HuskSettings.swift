import FoundationEssentials
import HuskCore
import HuskTrust

/// What every command reads from the host: the site's policy and the cache.
package enum HuskSettings {
    /// The site's policy (husk.toml(5)), read once per run.
    package static func sitePolicy() throws -> SitePolicy {
        if let loaded = loadedPolicy { return loaded }
        let policy = try SitePolicy.load(environment: ProcessInfo.processInfo.environment)
        loadedPolicy = policy
        return policy
    }
    nonisolated(unsafe) private static var loadedPolicy: SitePolicy?

    /// The image cache, created and checked (private to the user).
    package static func cacheRoot() throws -> String {
        try PrivateDirectory.prepare(HuskPaths(environment: ProcessInfo.processInfo.environment).cache,
                                     what: "the image cache")
    }
}
