import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskOCI
import HuskPull
import HuskRegistry
import HuskRunCommand
import HuskRuntime
import HuskTrust

extension PullPolicy: ExpressibleByArgument {}

/// How to reach registries; shared by pull, push, login and the commands
/// that run `docker://` images.
struct RegistryFlags: ParsableArguments {
    @Option(name: .customLong("ca-cert"), help: ArgumentHelp(
        "Also trust this CA certificate (PEM) for the registry. Repeatable. Per registry: put it in $XDG_CONFIG_HOME/husk/certs.d/HOST:PORT/ca.crt.",
        valueName: "FILE"))
    var caCert: [String] = []

    @Flag(name: [.long, .customLong("no-https"), .customLong("nohttps")], help: "Plain HTTP instead of HTTPS, for registries on this machine (127.0.0.1, localhost, ::1). A site allows others with insecure_registries in /etc/husk/husk.toml. --no-https is Apptainer's name for it.")
    var insecure = false

    /// Registry settings: these flags (APPTAINER_NO_HTTPS for --insecure),
    /// and the site policy's plain-HTTP registries.
    func settings() throws -> RegistrySettings { try Self.settings(caCert: caCert, insecure: insecure) }

    static func settings(caCert: [String], insecure: Bool) throws -> RegistrySettings {
        let environment = ProcessInfo.processInfo.environment
        var settings = try HuskSettings.sitePolicy().registrySettings(environment: environment)
        settings.caCertificates = caCert
        settings.insecure = try insecure || ApptainerFlagVariables(host: environment).isOn("no-https")
        return settings
    }

    static func reference(_ text: String) throws -> RegistryReference {
        guard text.hasPrefix("docker://"), case .registry(let reference) = try ImageReference(parsing: text) else {
            throw HuskError(.usage, "\(text): expected a registry reference docker://[HOST[:PORT]/]REPO[:TAG|@DIGEST]")
        }
        return reference
    }

    static func jobs(_ jobs: Int?) throws -> Int {
        guard let jobs else { return 4 }
        guard jobs >= 1 else { throw HuskError(.usage, "--jobs must be at least 1") }
        return jobs
    }
}
