import HuskRegistry
import HuskTrust

extension SitePolicy {
    /// Registry settings with what the site allows: its plain-HTTP registries.
    public func registrySettings(environment: [String: String]) -> RegistrySettings {
        var settings = RegistrySettings(environment: environment)
        settings.insecureRegistries.formUnion(insecureRegistries)
        return settings
    }
}
