import ArgumentParser
import FoundationEssentials
import HuskCore
import HuskPull
import HuskRunCommand
import HuskSquash

package struct Husk: ParsableCommand {
    package init() {}

    package static let configuration = CommandConfiguration(
        commandName: "husk",
        abstract: "Rootless, daemonless containers for HPC from one squashfs file.",
        discussion: """
            Convert OCI images (registries, OCI layouts, oci-archive and docker-archive tarballs) \
            into one read-only squashfs file for a shared filesystem, inspect it, push it back, \
            and run it as yourself: no root, no daemon. Singularity/Apptainer SIF files run, \
            inspect and convert as they are.
            """,
        version: HuskVersion.current,
        subcommands: [Convert.self, Inspect.self, Pull.self, Push.self, Login.self, Logout.self, Cache.self,
                      Run.self, Exec.self, Shell.self, Env.self, Instance.self, Server.self, Policy.self, Audit.self, Sign.self, Verify.self, Check.self])

    /// Errors become one line, `husk: MESSAGE`, and exit status 1, or 255 for
    /// the commands that run a container (DESIGN.md §3: a job script must tell
    /// Husk's failure from the command's own status 1); usage errors keep
    /// ArgumentParser's usage text and status.
    package static func main() {
        CommandOutcome.setUpProcess()
        // docker:// images (and instances of them) come through the registry.
        RunArguments.remoteImages = { arguments, policy in
            RegistryImages(cacheRoot: try HuskSettings.cacheRoot(),
                           settings: try RegistryFlags.settings(caCert: arguments.caCert, insecure: arguments.insecure),
                           showProgress: !arguments.quiet, policy: policy, pull: arguments.pull)
        }
        // The start of a container skips ArgumentParser when it can (RunCommandLine).
        if let commandLine = RunCommandLine(Array(CommandLine.arguments.dropFirst())) {
            do {
                try commandLine.start()
            } catch {
                fail(error, startsContainer: true)
            }
        }
        var command: ParsableCommand?
        do {
            command = try parseAsRoot()
            try command!.run()
        } catch {
            fail(error, startsContainer: command is RunsContainer)
        }
    }

    static func fail(_ error: Error, startsContainer: Bool) -> Never {
        guard let error = error as? HuskError else { exit(withError: error) }
        CommandOutcome.fail(error, startsContainer: startsContainer)
    }
}

/// Commands whose own failures exit 255, like husk-starter's.
protocol RunsContainer {}
