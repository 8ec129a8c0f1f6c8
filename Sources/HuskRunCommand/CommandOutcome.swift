import ArgumentParser
import CHuskShim
import Glibc
import HuskCore
import Logging

/// How husk and husk-full end on an error: one line, `husk: MESSAGE`, and
/// exit status 1, or 255 for the commands that run a container (DESIGN.md
/// §3: a job script must tell Husk's failure from the command's own status
/// 1). The site's refusals are 1 everywhere (husk.toml(5)): a job script
/// tells "not allowed" from the command's failures and Husk's (255).
package enum CommandOutcome {
    /// What husk and husk-full do first: tar names are UTF-8 whatever the
    /// caller's locale, and Ctrl-C removes what is half-written.
    package static func setUpProcess() {
        setlocale(LC_CTYPE, "C.UTF-8")
        husk_cleanup_install_signal_handlers()
    }

    package static func fail(_ error: HuskError, startsContainer: Bool) -> Never {
        StandardStream.writeError("husk: \(error.message)\n")
        Glibc.exit(startsContainer && error.code != .refused ? 255 : 1)
    }
}

/// Options every command takes.
package struct GlobalOptions: ParsableArguments {
    @Flag(name: .long, help: "Print debugging detail to stderr.")
    package var debug = false

    @Flag(name: [.short, .long], help: "Print only errors.")
    package var quiet = false

    package init() {}

    package func bootstrapLogging() { Self.bootstrapLogging(debug: debug, quiet: quiet) }

    package static func bootstrapLogging(debug: Bool, quiet: Bool) {
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
