import ArgumentParser
import CHuskShim
import FoundationEssentials
import Glibc
import HuskCore
import HuskSquash
import Logging

@main
struct Husk: ParsableCommand {
    static let configuration = CommandConfiguration(
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
    static func main() {
        setlocale(LC_CTYPE, "C.UTF-8")  // tar names are UTF-8 whatever the caller's locale
        husk_cleanup_install_signal_handlers()
        // The start of a container skips ArgumentParser when it can (RunCommandLine).
        if let commandLine = RunCommandLine(Array(CommandLine.arguments.dropFirst())) {
            do {
                try commandLine.command.start(commandLine.arguments, trailing: commandLine.trailing,
                                              shell: commandLine.shell)
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
        StandardStream.writeError("husk: \(error.message)\n")
        // The site's refusals are 1 everywhere (husk.toml(5)): a job script
        // tells "not allowed" from the command's failures and Husk's (255).
        Glibc.exit(startsContainer && error.code != .refused ? 255 : 1)
    }
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .long, help: "Print debugging detail to stderr.")
    var debug = false

    @Flag(name: [.short, .long], help: "Print only errors.")
    var quiet = false

    func bootstrapLogging() { Self.bootstrapLogging(debug: debug, quiet: quiet) }

    static func bootstrapLogging(debug: Bool, quiet: Bool) {
        let level: Logger.Level = debug ? .debug : (quiet ? .error : .info)
        LoggingSystem.bootstrap { label in
            var handler = OneLineLogHandler(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// `husk: warning: MESSAGE` on stderr, no timestamps: these are messages for a person.
struct OneLineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix = event.level >= .warning ? "\(event.level): " : ""
        StandardStream.writeError("husk: \(prefix)\(event.message)\n")
    }
}

/// Commands whose own failures exit 255, like husk-starter's.
protocol RunsContainer {}
